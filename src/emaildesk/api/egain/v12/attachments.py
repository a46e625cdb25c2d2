"""eGain v12 attachment download: `GET …/interaction/activity/{id}/attachment/{attachmentId}`.

eGain's documents leave the download path open (api-notes §1.6 shows only the attachment
count and a link); this path is ours, and it is exactly the `link.href` the v12 representation
gives each attachment (`representation_v12.attachment_link_v12`), so a client follows links and
never builds URLs.

Who may download: whoever may read the activity (`get_activities`: users see their
departments' activities), and only an attachment of that activity; anything else is 404-101,
so a caller cannot tell "not yours" from "not there".

The answer streams the bytes from the blob store with the media type they were sent with,
`Content-Length`, and `Content-Disposition` (RFC 6266) with the file name in RFC 8187 form
(`filename*=UTF-8''…`, the successor of RFC 5987) after an ASCII fallback `filename`, as
RFC 6266 Appendix D advises; inline images are `inline`, everything else `attachment`. The
media type comes from whoever sent the email, so it is served only when it is a well-formed
one, with `X-Content-Type-Options: nosniff` and a sandboxing CSP: an attachment must never run
as a page of this origin.
"""

from __future__ import annotations

import re
from typing import Annotated, Final
from urllib.parse import quote

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse

from emaildesk.api.egain.query import check_query, parse_ids
from emaildesk.api.egain.v12 import openapi
from emaildesk.api.egain.v12.paths import ACTIVITY_PATH, TAG
from emaildesk.api.egain.v12.session import LicensedActor
from emaildesk.api.i18n import negotiate_locale
from emaildesk.api.runtime import runtime_of
from emaildesk.db.blobs import BlobNotFoundError
from emaildesk.domain import errors
from emaildesk.services.activity_queries import get_activities

OCTET_STREAM: Final = "application/octet-stream"
# RFC 9110 §8.3.1 media-type: token "/" token *( OWS ";" OWS parameter ), printable ASCII only.
_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"{_TCHARS}/{_TCHARS}(?:[ \t]*;[\x20-\x7e]*)?")
# RFC 8187 §3.2.1 attr-char, besides ALPHA / DIGIT (which `quote` never escapes).
_ATTR_CHARS: Final = "!#$&+-.^_`|~"
# A quoted-string fallback (RFC 6266 Appendix D): printable ASCII without `"`, `\` and `%`.
_NOT_FALLBACK = re.compile(r'[^\x20-\x7e]|["\\%]')
# Attachments are data, never documents of this origin (OWASP: serving user uploads).
SAFETY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
}

router = APIRouter(tags=[TAG])


@router.get(
    f"{ACTIVITY_PATH}/{{activity_id}}/attachment/{{attachment_id}}",
    response_class=StreamingResponse,
    summary="Download an attachment of an activity (eGain v12)",
    description=(
        "Our path (eGain documents none): the `link.href` of each attachment in the v12 "
        "activity representation. The bytes with their stored media type, `Content-Length` "
        "and `Content-Disposition: attachment; filename*=UTF-8''…` (RFC 6266, RFC 8187; "
        "inline images: `inline`). Requires `X-egain-session` (401-101); only an attachment of "
        "an activity the caller may read (their departments'), else 404-101. No query "
        "parameters (400-101). Also served under `/ws/v12`."
    ),
    responses={
        **openapi.ATTACHMENT_RESPONSE,
        **openapi.error_responses(400, 401, 403, 404, 406),
    },
)
async def download_attachment(
    request: Request,
    activity_id: Annotated[str, Path(description="The activity id.")],
    attachment_id: Annotated[str, Path(description="The attachment id.")],
    actor: LicensedActor,
) -> Response:
    runtime = runtime_of(request)
    # Bytes answer whatever their type, so `Accept` is not negotiated; the language of an
    # error still is (406-100 for one we cannot speak).
    negotiate_locale(request.headers.get("accept-language"), runtime.settings.default_locale)
    check_query(request, ())
    activity_number = _single_id(activity_id)
    attachment_number = _single_id(attachment_id)
    async with runtime.database.uow() as uow:
        view = await get_activities(uow, actor, [activity_number])
    found = [a for a in view.activities[0].attachments if a.id == attachment_number]
    if not found:
        raise errors.IDS_NOT_FOUND(ids=str(attachment_number))
    attachment = found[0]
    if not await runtime.blobs.exists(attachment.sha256):
        # A committed row always names stored bytes (blobs are fsynced first); this is damage.
        raise BlobNotFoundError(attachment.sha256)
    headers = {
        "Content-Type": served_media_type(attachment.content_type),
        "Content-Length": str(attachment.size),
        "Content-Disposition": content_disposition(attachment.file_name, attachment.inline),
        **SAFETY_HEADERS,
    }
    return StreamingResponse(runtime.blobs.stream(attachment.sha256), headers=headers)


def _single_id(text: str) -> int:
    ids = parse_ids(text, max_ids=None, max_chars=None)
    if len(ids) != 1:
        raise errors.INVALID_PATH_PARAMETER(value=text)
    return ids[0]


def served_media_type(content_type: str) -> str:
    """The stored media type when it is a well-formed one, else application/octet-stream."""
    value = content_type.strip()
    return value if _MEDIA_TYPE.fullmatch(value) else OCTET_STREAM


def content_disposition(file_name: str, inline: bool) -> str:
    """`attachment; filename="fallback"; filename*=UTF-8''%E2%80%A6` (RFC 6266 §4, RFC 8187).

    Only the last path segment is kept: a name like `..\\evil.exe` is the sender's to choose,
    where it lands is not."""
    disposition = "inline" if inline else "attachment"
    name = re.sub(r"[\x00-\x1f\x7f]", "", file_name.replace("\\", "/").rsplit("/", 1)[-1])
    if not name.strip():
        return disposition
    fallback = _NOT_FALLBACK.sub("_", name)
    encoded = quote(name, safe=_ATTR_CHARS, encoding="utf-8")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
