"""Inline images: rewrite `cid:` references in an email's HTML (RFC 2392).

An HTML email shows its inline images through `cid:` URLs that name an attachment's Content-ID
(eGain v12 incoming email: "inline attachments are supported using the cid URL scheme", matched
to the attachment's `contentId`). A reader outside a mail client cannot follow `cid:`, so the
representations offer two rewrites:

- `resolve_cid_references`: point each reference at the attachment's URL on our API;
- `embed_inline`: replace it with a `data:` URL carrying the bytes (eGain v12
  `embedInlineAttachment=yes`: "inline images embedded base64 in body", single email only).

Only the value of `src`, `href`, `background` and `poster` attributes is rewritten; text that
merely mentions `cid:` is left alone. A reference that matches no attachment stays as it was.

Attachment metadata arrives from whoever sent the email, so nothing from it reaches the markup
unchecked: the new URL is HTML-escaped and always double-quoted, and a `data:` URL is built only
for a syntactically plain image media type (RFC 6838 §4.2 restricted names, parameters dropped).
SVG is never embedded: it is a document that may carry script, not a picture.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Iterable
from urllib.parse import unquote

from emaildesk.domain.attachments import Attachment

CID_SCHEME = "cid:"  # RFC 2392 §2: "cid:" content-id, %hh-escaped
# The attributes whose value is a URL an image or link would load.
_URL_ATTRIBUTES = ("src", "href", "background", "poster")
# One attribute assignment: name, optional spaces, `=`, then a double-quoted, single-quoted or
# unquoted value (HTML Living Standard §13.1.2.3). The lookbehind keeps `data-src` out.
_ATTRIBUTE = re.compile(
    r"(?<![\w-])(?P<name>" + "|".join(_URL_ATTRIBUTES) + r")(?P<eq>\s*=\s*)"
    r"""(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<uq>[^\s"'=<>`]+))""",
    re.IGNORECASE,
)
# RFC 6838 §4.2: type-name "/" subtype-name, each a restricted-name of at most 127 characters.
_RESTRICTED_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_MEDIA_TYPE = re.compile(rf"({_RESTRICTED_NAME})/({_RESTRICTED_NAME})")
_NOT_EMBEDDED = frozenset({"image/svg+xml"})


def content_id_key(value: str) -> str:
    """The form a Content-ID is compared in: without angle brackets or surrounding space.

    A `Content-ID` header is `<id>` (RFC 2045 §7) while the `cid:` URL carries the bare id
    (RFC 2392 §2); eGain clients send `contentId` either way.
    """
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    return value


def _reference(raw_value: str) -> str | None:
    """The Content-ID a URL attribute value refers to, or None when it is not a `cid:` URL."""
    value = html.unescape(raw_value).strip()
    if value[: len(CID_SCHEME)].lower() != CID_SCHEME:
        return None
    return content_id_key(unquote(value[len(CID_SCHEME) :]))


class _Index:
    """Attachments by Content-ID: an exact match first, then one that differs only in case
    (mail clients are not consistent about the case of generated ids)."""

    def __init__(self, attachments: Iterable[Attachment]) -> None:
        self.exact: dict[str, Attachment] = {}
        self.folded: dict[str, Attachment] = {}
        for attachment in attachments:
            if not attachment.content_id:
                continue
            key = content_id_key(attachment.content_id)
            self.exact.setdefault(key, attachment)
            self.folded.setdefault(key.casefold(), attachment)

    def find(self, content_id: str) -> Attachment | None:
        return self.exact.get(content_id) or self.folded.get(content_id.casefold())


def _rewrite(
    markup: str, attachments: Iterable[Attachment], url_for: Callable[[Attachment], str | None]
) -> str:
    index = _Index(attachments)
    if not index.exact:
        return markup

    def replace(match: re.Match[str]) -> str:
        raw = next(v for v in (match["dq"], match["sq"], match["uq"]) if v is not None)
        content_id = _reference(raw)
        attachment = index.find(content_id) if content_id is not None else None
        url = url_for(attachment) if attachment is not None else None
        if url is None:
            return match.group(0)
        return f'{match["name"]}{match["eq"]}"{html.escape(url, quote=True)}"'

    return _ATTRIBUTE.sub(replace, markup)


def referenced_attachments(markup: str, attachments: Iterable[Attachment]) -> list[Attachment]:
    """The attachments the markup's `cid:` references point at, each once, in order of first
    reference: what a caller must fetch from the blob store before `embed_inline`."""
    index = _Index(attachments)
    found: dict[int, Attachment] = {}
    for match in _ATTRIBUTE.finditer(markup):
        raw = next(v for v in (match["dq"], match["sq"], match["uq"]) if v is not None)
        content_id = _reference(raw)
        attachment = index.find(content_id) if content_id is not None else None
        if attachment is not None:
            found.setdefault(id(attachment), attachment)
    return list(found.values())


def resolve_cid_references(
    markup: str, attachments: Iterable[Attachment], link_for: Callable[[Attachment], str]
) -> str:
    """Point every `cid:` reference that names one of `attachments` at `link_for(attachment)`."""
    return _rewrite(markup, attachments, link_for)


def embeddable_media_type(content_type: str) -> str | None:
    """The media type to put in a `data:` URL, or None when the attachment must not be embedded:
    not an image, not a plain RFC 6838 type, or SVG."""
    bare = content_type.split(";", 1)[0].strip()
    match = _MEDIA_TYPE.fullmatch(bare)
    if match is None or match.group(1).lower() != "image":
        return None
    media_type = bare.lower()
    return None if media_type in _NOT_EMBEDDED else media_type


def data_url(media_type: str, data: bytes) -> str:
    """RFC 2397 `data:` URL with base64 content."""
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def embed_inline(
    markup: str,
    attachments: Iterable[Attachment],
    data_for: Callable[[Attachment], bytes | None],
) -> str:
    """Replace every `cid:` reference to an embeddable image with a `data:` URL of its bytes.

    `data_for` returns the attachment's bytes, or None when they are not at hand; such a
    reference, and one to an attachment that is not an embeddable image, stays a `cid:` URL.
    """

    def url_for(attachment: Attachment) -> str | None:
        media_type = embeddable_media_type(attachment.content_type)
        if media_type is None:
            return None
        data = data_for(attachment)
        return data_url(media_type, data) if data is not None else None

    return _rewrite(markup, attachments, url_for)
