"""Choosing the text and html bodies and the attachments of a parsed message.

- multipart/alternative (RFC 2046 §5.1.4): the alternatives are one body in several forms, the
  last the best; the last text/plain and the last text/html win, other text forms
  (text/enriched ...) are dropped, never turned into attachments.
- multipart/related (RFC 2387): the root (the `start` parameter, else the first part) is the
  body; the other parts are resources of it, so attachments, inline when the html refers to
  their Content-ID by a `cid:` URL (RFC 2392).
- multipart/mixed and every other or unknown subtype (RFC 2046 §5.1.7): parts are shown in
  sequence, so text bodies found one after another are joined.
- A part is an attachment when its Content-Disposition says so (RFC 2183), when it has a file
  name, or when it is not text/plain or text/html. message/* parts are kept whole: a forwarded
  message/rfc822 becomes an .eml attachment with its original bytes. application/ms-tnef
  (winmail.dat) stays an attachment; decoding it is not this parser's job.

Attachment bytes are decoded here without the stdlib's `get_payload(decode=True)`, which splits
a base64 body into a list of lines first (several times the body's size in memory).
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.message import Message
from email.policy import EmailPolicy
from io import BytesIO
from urllib.parse import unquote

from emaildesk.mail.charsets import decode_declared, html_meta_charset
from emaildesk.mail.defects import DefectLog, quoted
from emaildesk.mail.header_fields import message_id
from emaildesk.mail.header_text import first, header_text, header_values, raw_bytes
from emaildesk.mail.mime_params import parse_parameterized
from emaildesk.mail.mime_raw import Step, entity_body, header_end

TEXT_PLAIN = "text/plain"
TEXT_HTML = "text/html"
TEXT_CALENDAR = "text/calendar"  # an invitation inside an alternative: keep it, it is the point
BODY_TYPES = frozenset({TEXT_PLAIN, TEXT_HTML})
FORWARDED_TYPES = frozenset({"message/rfc822", "message/global"})  # RFC 2046 §5.2.1, RFC 6532
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
TNEF_FILE_NAME = "winmail.dat"
OCTET_STREAM = "application/octet-stream"  # RFC 2046 §4.5.1: what an unusable type means
ATTACHMENT = "attachment"
INLINE = "inline"
IDENTITY_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})  # RFC 2045 §6.1
UUENCODE_ENCODINGS = frozenset({"x-uuencode", "uuencode", "x-uue", "uue"})
MAX_FILE_NAME_LENGTH = 255  # eGain v12 attachment fileName ≤ 255 (api-notes §1.5)
MAX_EXTENSION_LENGTH = 16
EXTENSIONS = {
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "text/rfc822-headers": ".txt",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "text/csv": ".csv",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "application/pgp-signature": ".asc",
    "application/pkcs7-signature": ".p7s",
}
DEFAULT_EXTENSION = ".bin"
_BASE64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_NOT_BASE64 = bytes(b for b in range(256) if b not in _BASE64_ALPHABET)
_PATH_SEPARATOR = re.compile(r"[\\/]")
_WHITESPACE = re.compile(r"\s+")  # a folded Subject turned file name: tabs and breaks are spaces
_LINE_BREAK = re.compile(r"\r\n?")
# Control characters, and the bidirectional controls that disguise "invoice\u202efdp.exe".
_UNSAFE_IN_FILE_NAME = re.compile("[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SUBJECT_FIELD = re.compile(rb"^subject[ \t]*:(.*(?:(?:\r\n|\r|\n)[ \t].*)*)", re.I | re.M)
# RFC 6838 §4.2: type "/" subtype, each of restricted-name characters.
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_CID_URL = re.compile(r"""cid:([^\s"'<>()]+)""", re.I)


@dataclass
class ParsedAttachment:
    file_name: str  # decoded (RFC 2047 / RFC 2231); "attachment-3.bin" and the like when absent
    content_type: str  # e.g. "image/png"
    data: bytes  # decoded bytes, byte-exact
    inline: bool  # referenced from the html by cid:, or disposition inline with a Content-ID
    content_id: str | None  # without <>
    forwarded_message: bool = False  # a nested message/rfc822 kept as an .eml attachment


@dataclass
class MimeContent:
    text: str | None
    html: str | None
    attachments: list[ParsedAttachment]


@dataclass
class _Bodies:
    text: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)

    def extend(self, other: _Bodies) -> None:
        self.text += other.text
        self.html += other.html


@dataclass(frozen=True)
class _Leaf:
    part: Message
    content_type: str
    headers: dict[str, list[str]]
    disposition: str
    file_name: str | None
    content_id: str | None
    charset: str | None
    where: str


def extract_content(root: Message, raw: bytes, defects: DefectLog) -> MimeContent:
    walker = _Walker(raw, defects)
    bodies = walker.walk(root, ())
    html = "\n".join(bodies.html) if bodies.html else None
    walker.mark_inline(html)
    text = "\n".join(bodies.text) if bodies.text else None
    return MimeContent(text=text, html=html, attachments=walker.attachments)


class _Walker:
    def __init__(self, raw: bytes, defects: DefectLog) -> None:
        self.raw = raw
        self.defects = defects
        self.attachments: list[ParsedAttachment] = []
        self._dispositions: list[str] = []  # of each attachment, for the inline rule
        self._visited = 0

    def walk(self, part: Message, path: tuple[Step, ...], resource: bool = False) -> _Bodies:
        """The bodies found in `part`; attachments are collected on the way. `resource`: a
        non-root part of multipart/related, an attachment whatever its type."""
        self._visited += 1
        content_type = part.get_content_type()  # already evaluated once by the parser
        if not _MEDIA_TYPE.fullmatch(content_type):  # compat32 lets "text\x00/plain" through
            content_type = OCTET_STREAM
        where = f"part {self._visited} ({content_type})"
        for defect in part.defects:
            self.defects.add(f"{where}: {type(defect).__name__}")
        # message/* parts hold their nested message as a one-item list: they are leaves here.
        nested = part.is_multipart() and not content_type.startswith("message/")
        payload = part.get_payload() if nested else None
        if not isinstance(payload, list):
            return self._leaf(self._describe(part, content_type, where), path, resource)
        children = [child for child in payload if isinstance(child, Message)]
        boundary = part.get_boundary() or ""
        steps = [(*path, Step(boundary, len(children), i)) for i in range(len(children))]
        if content_type == "multipart/alternative":
            return self._alternative(children, steps)
        if content_type == "multipart/related":
            return self._related(part, children, steps, where)
        found = _Bodies()
        for child, step in zip(children, steps, strict=True):
            found.extend(self.walk(child, step))
        return found

    def _alternative(self, children: list[Message], steps: list[tuple[Step, ...]]) -> _Bodies:
        best = _Bodies()
        for child, step in zip(children, steps, strict=True):
            if self._is_other_text_form(child):
                continue
            found = self.walk(child, step)
            best.text = found.text or best.text
            best.html = found.html or best.html
        return best

    def _related(
        self, part: Message, children: list[Message], steps: list[tuple[Step, ...]], where: str
    ) -> _Bodies:
        params = parse_parameterized(
            first(header_values(part), "content-type"), self.defects, where
        )
        start = message_id(params.params.get("start"), self.defects, where)
        ids = [
            message_id(first(header_values(c), "content-id"), self.defects, where) for c in children
        ]
        root = ids.index(start) if start is not None and start in ids else 0
        found = _Bodies()
        for index, (child, step) in enumerate(zip(children, steps, strict=True)):
            found.extend(self.walk(child, step, resource=index != root))
        return found

    def _is_other_text_form(self, child: Message) -> bool:
        """A text alternative we do not render (text/enriched ...): dropped, not attached."""
        content_type = child.get_content_type()
        if child.is_multipart() or not _MEDIA_TYPE.fullmatch(content_type):
            return False
        if not content_type.startswith("text/"):
            return False
        if content_type in BODY_TYPES or content_type == TEXT_CALENDAR:
            return False
        leaf = self._describe(child, content_type, "alternative")
        return leaf.disposition != ATTACHMENT and leaf.file_name is None

    def _describe(self, part: Message, content_type: str, where: str) -> _Leaf:
        headers = header_values(part)
        disposition = parse_parameterized(
            first(headers, "content-disposition"), self.defects, where
        )
        type_params = parse_parameterized(
            first(headers, "content-type"), self.defects, where
        ).params
        return _Leaf(
            part=part,
            content_type=content_type,
            headers=headers,
            disposition=disposition.value,
            file_name=disposition.params.get("filename") or type_params.get("name") or None,
            content_id=message_id(first(headers, "content-id"), self.defects, where),
            charset=type_params.get("charset"),
            where=where,
        )

    def _leaf(self, leaf: _Leaf, path: tuple[Step, ...], resource: bool) -> _Bodies:
        content_type = leaf.content_type
        if content_type.startswith("message/"):
            self._message_attachment(leaf, path)
            return _Bodies()
        if content_type.startswith("multipart/"):
            # A multipart without a (findable) boundary: the parser kept its body as one string.
            self.defects.add(f"{leaf.where}: multipart body without parts kept as text")
            content_type = TEXT_PLAIN
        is_body = content_type in BODY_TYPES and leaf.file_name is None
        if resource or leaf.disposition == ATTACHMENT or not is_body:
            self._attach(leaf, self._payload(leaf))
            return _Bodies()
        data = self._payload(leaf)
        charset = leaf.charset
        if charset is None and content_type == TEXT_HTML:
            charset = html_meta_charset(data)
        text = decode_declared(data, charset, self.defects, leaf.where)
        if content_type == TEXT_HTML:
            return _Bodies(html=[text])  # as sent: sanitizing is the renderer's job
        # RFC 2046 §4.1.1: CRLF is how text/plain travels; decoded, a line break is "\n".
        return _Bodies(text=[_LINE_BREAK.sub("\n", text)])

    def _attach(self, leaf: _Leaf, data: bytes, forwarded: bool = False) -> None:
        if leaf.content_type in TNEF_TYPES:
            fallback = TNEF_FILE_NAME
        else:
            extension = EXTENSIONS.get(leaf.content_type, DEFAULT_EXTENSION)
            fallback = f"attachment-{len(self.attachments) + 1}{extension}"
        name = leaf.file_name
        if name is None and forwarded:
            subject = _subject_of(data, self.defects, leaf.where)
            name = f"{subject}.eml" if subject.strip() else None
        self.attachments.append(
            ParsedAttachment(
                file_name=safe_file_name(name, fallback),
                content_type=leaf.content_type,
                data=data,
                inline=False,
                content_id=leaf.content_id,
                forwarded_message=forwarded,
            )
        )
        self._dispositions.append(leaf.disposition)

    def _message_attachment(self, leaf: _Leaf, path: tuple[Step, ...]) -> None:
        body = entity_body(self.raw, path)
        if body is None:
            self.defects.add(f"{leaf.where}: original bytes not found, re-serialized")
            data = _serialized(leaf.part)
        else:
            data = self._transfer_decoded(body, leaf)
        self._attach(leaf, data, forwarded=leaf.content_type in FORWARDED_TYPES)

    def _payload(self, leaf: _Leaf) -> bytes:
        # `_payload` is the transfer-encoded body as parsed; `get_payload()` would decode 8-bit
        # bytes with errors="replace", and `get_payload(decode=True)` costs a list of lines.
        payload = getattr(leaf.part, "_payload", None)
        return self._transfer_decoded(raw_bytes(payload if isinstance(payload, str) else ""), leaf)

    def _transfer_decoded(self, data: bytes, leaf: _Leaf) -> bytes:
        encoding = (first(leaf.headers, "content-transfer-encoding") or "").strip().lower()
        encoding = encoding.split(None, 1)[0] if encoding else ""
        if encoding == "base64":
            return self._base64(data, leaf.where)
        if encoding == "quoted-printable":
            return binascii.a2b_qp(data)
        if encoding in IDENTITY_ENCODINGS:
            return data
        if encoding in UUENCODE_ENCODINGS:
            decoded = leaf.part.get_payload(decode=True)
            return decoded if isinstance(decoded, bytes) else data
        self.defects.add(
            f"{leaf.where}: unknown Content-Transfer-Encoding {quoted(encoding)}, kept as is"
        )
        return data

    def _base64(self, data: bytes, where: str) -> bytes:
        try:
            return binascii.a2b_base64(data)  # skips line breaks and stray bytes (RFC 2045 §6.8)
        except binascii.Error:
            pass
        cleaned = data.translate(None, _NOT_BASE64)  # padding goes too; it is rebuilt below
        if len(cleaned) % 4 == 1:  # a single dangling character encodes no byte
            cleaned = cleaned[:-1]
        self.defects.add(f"{where}: broken base64 repaired (bad padding or length)")
        return binascii.a2b_base64(cleaned + b"=" * (-len(cleaned) % 4))

    def mark_inline(self, html: str | None) -> None:
        # RFC 2392: a cid URL is the Content-ID, %-encoded where URLs need it; compared
        # case-insensitively, as mail clients do.
        referenced = {unquote(cid).lower() for cid in _CID_URL.findall(html or "")}
        for attachment, disposition in zip(self.attachments, self._dispositions, strict=True):
            cid = attachment.content_id
            if cid:
                attachment.inline = cid.lower() in referenced or disposition == INLINE


def safe_file_name(name: str | None, fallback: str) -> str:
    """A file name that is only a name: no directories, no control or bidi characters, at most
    `MAX_FILE_NAME_LENGTH` characters with the extension kept."""
    if name:
        name = _WHITESPACE.sub(" ", _PATH_SEPARATOR.split(name)[-1])
        name = _UNSAFE_IN_FILE_NAME.sub("", name).strip()
    if not name or name in {".", ".."}:
        return fallback
    if len(name) > MAX_FILE_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= MAX_EXTENSION_LENGTH:
            return stem[: MAX_FILE_NAME_LENGTH - len(extension) - 1] + "." + extension
        return name[:MAX_FILE_NAME_LENGTH]
    return name


def _subject_of(message: bytes, defects: DefectLog, where: str) -> str:
    head = memoryview(message)[: header_end(memoryview(message))].tobytes()
    found = _SUBJECT_FIELD.search(head)
    if found is None:
        return ""
    raw = found.group(1).decode("ascii", "surrogateescape")
    return header_text(raw, defects, f"{where} Subject").strip()


def _serialized(part: Message) -> bytes:
    """The body of a message/* part re-generated from the parsed tree (the fallback when the
    original bytes cannot be found)."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return raw_bytes(payload if isinstance(payload, str) else "")
    out = BytesIO()
    for item in payload:
        if not isinstance(item, Message):
            continue
        policy = item.policy.clone(linesep="\r\n")
        if isinstance(policy, EmailPolicy):
            policy = policy.clone(refold_source="none")
        BytesGenerator(out, mangle_from_=False, policy=policy).flatten(item, unixfrom=False)
    return out.getvalue()
