"""Render an outbound email as an RFC 5322 / MIME message (`EmailMessage`, policy SMTP).

Structure (RFC 2046 §5.1, RFC 2387): the text and html bodies as `multipart/alternative`; inline
images next to the html in `multipart/related` with their `Content-ID` (RFC 2392); other
attachments around all of it in `multipart/mixed`. File names use RFC 2231 when not ASCII, display
names RFC 2047; bodies are sent 7-bit clean (quoted-printable where needed), so no relay has to
support 8BITMIME (RFC 6152).

Header injection. Every value that becomes (part of) a header is checked first, and a value that
contains a line break or another control character is *rejected* with `ComposeError` naming the
field; nothing is silently rewritten, because a sanitised address or subject is a different
message than the one the agent wrote, and a rejection is visible (the send job fails with the
reason). Addresses are parsed into their parts and rebuilt, so a "single address" cannot carry a
second one (`a@x, b@y`) either. Because the stdlib folder decodes RFC 2047 encoded words it
finds in values (and so can write a CRLF that no input contained), every header of every part is
finally folded and checked to be exactly one header (`_verify_folded`).

Message-ID lists (`Message-ID`, `In-Reply-To`, `References`, `Content-ID`) are written by
`_MessageIdHeader`, which folds only between ids: the stdlib folder would RFC 2047-encode an id
longer than a line, which breaks threading in every client. A thread id from someone else's mail
that is malformed (no `@`, spaces, angle brackets) is left out rather than failing the send: a
conforming client could not match it anyway. Our own Message-ID must be a valid msg-id.

Bcc is never a header (RFC 5322 §3.6.3 allows either; we pick the private one): it only appears
in `envelope_recipients`.
"""

from __future__ import annotations

import dataclasses
import email.policy
import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.policy import Policy
from email.utils import format_datetime

from emaildesk.mail.tokens import DOT_ATOM_TEXT, MSG_ID_RE

POLICY = email.policy.SMTP
# RFC 3834 §5 (and RFC 5436 for auto-notified): the values we ever send.
AUTO_SUBMITTED_VALUES = frozenset({"auto-generated", "auto-replied", "auto-notified"})
MAX_ADDRESS_LENGTH = 254  # RFC 5321 §4.5.3.1.3: a path is ≤ 256 octets with its "<>"
MAX_LINE = 998  # RFC 5322 §2.1.1: a line is at most 998 characters
MAX_MESSAGE_ID_LENGTH = MAX_LINE - len("In-Reply-To: <>")  # one id always fits on one line
OCTET_STREAM = ("application", "octet-stream")

# C0 controls except TAB, DEL, and what str.splitlines() also treats as a line break.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_LOCAL_PART_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+", re.ASCII)
_DOMAIN_RE = re.compile(rf"{DOT_ATOM_TEXT}|\[[\x21-\x5a\x5e-\x7e]*\]", re.ASCII)
# RFC 6838 §4.2 restricted-name (at most 127 characters)
_MIME_TOKEN = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"  # noqa: S105 - a pattern, not a secret
_CONTENT_TYPE_RE = re.compile(rf"({_MIME_TOKEN})/({_MIME_TOKEN})", re.ASCII)
_CHARSET_RE = re.compile(r"\bcharset\s*=\s*\"?([A-Za-z0-9!#$%&'+^_`{}~.:-]+)\"?", re.I | re.ASCII)
# A thread id we can write back: printable ASCII without space or angle brackets, with an "@"
# (RFC 5322 §3.6.4 msg-id, plus the obsolete forms real clients still produce).
_LOOSE_MSG_ID_RE = re.compile(r"[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+", re.ASCII)


# Which field to blame when a header fails the final check (addresses are strictly parsed, so a
# bad From can only be its display name).
_HEADER_FIELDS = {
    "from": "from_name",
    "to": "to",
    "cc": "cc",
    "reply-to": "reply_to",
    "subject": "subject",
    "date": "date",
    "message-id": "message_id",
    "in-reply-to": "in_reply_to",
    "references": "references",
    "auto-submitted": "auto_submitted",
}


class ComposeError(ValueError):
    """A field that cannot be put into a message; `field` names it (e.g. "to[1]")."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


@dataclass
class OutboundAttachment:
    file_name: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None  # without <>; required for inline images


@dataclass
class OutboundEmail:
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    reply_to: str | None
    subject: str
    text: str | None
    html: str | None
    message_id: str  # fixed when the outbound activity is created, without <>
    in_reply_to: str | None
    references: list[str]
    date: datetime
    attachments: list[OutboundAttachment] = dataclasses.field(default_factory=list)
    auto_submitted: str | None = None  # "auto-replied" / "auto-generated" (RFC 3834)


class _MessageIdHeader(str):
    """A header of msg-ids, stored as a header object so the policy folds it with `fold`
    (email.policy: a value with a `name` attribute is used as is, never re-parsed)."""

    name: str
    ids: tuple[str, ...]

    def __new__(cls, name: str, ids: list[str]) -> _MessageIdHeader:
        self = super().__new__(cls, " ".join(f"<{i}>" for i in ids))
        self.name = name
        self.ids = tuple(ids)
        return self

    def fold(self, *, policy: Policy) -> str:
        """One id per fold where needed: break only between ids, never inside one."""
        limit = policy.max_line_length or MAX_LINE
        lines: list[str] = []
        line = f"{self.name}:"
        for token in (f"<{i}>" for i in self.ids):
            if line != f"{self.name}:" and len(line) + 1 + len(token) > limit:
                lines.append(line)
                line = ""
            line = f"{line} {token}"
        lines.append(line)
        return policy.linesep.join(lines) + policy.linesep


def _check_line(value: str, field: str) -> str:
    if _CONTROL_RE.search(value):
        raise ComposeError(field, "contains a line break or control character")
    return value


def _domain(domain: str, field: str) -> str:
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")  # RFC 3490 (IDNA 2003, stdlib)
        except UnicodeError as exc:
            raise ComposeError(field, "domain cannot be IDNA-encoded") from exc
    if not _DOMAIN_RE.fullmatch(domain):
        raise ComposeError(field, "not a valid domain")
    return domain


def _address(value: str, field: str, display_name: str = "") -> Address:
    """Parse one addr-spec into its parts (a second address, a comment or a name cannot ride
    along) and rebuild it; a non-ASCII domain becomes IDNA, a non-ASCII local part is refused
    (that needs SMTPUTF8, RFC 6531, which we do not assume)."""
    text = _check_line(value, field).strip()
    local, at, domain = text.rpartition("@")
    if not at or not _LOCAL_PART_RE.fullmatch(local):
        raise ComposeError(field, "not a single email address")
    if "=?" in local:
        # RFC 2047 §5: no encoded words in an addr-spec; the stdlib folder would decode one,
        # and the header would then name someone other than the envelope recipient.
        raise ComposeError(field, "an encoded word is not an address")
    domain = _domain(domain, field)
    if len(local) + 1 + len(domain) > MAX_ADDRESS_LENGTH:
        raise ComposeError(field, f"longer than {MAX_ADDRESS_LENGTH} characters")
    return Address(display_name=display_name, username=local, domain=domain)


def _addresses(values: list[str], field: str) -> list[Address]:
    return [_address(v, f"{field}[{i}]") for i, v in enumerate(values)]


def _own_message_id(value: str, field: str) -> str:
    _check_line(value, field)
    if len(value) > MAX_MESSAGE_ID_LENGTH or not MSG_ID_RE.fullmatch(value):
        raise ComposeError(field, "not an RFC 5322 msg-id (without <>)")
    return value


def _thread_id(value: str, field: str) -> str | None:
    """A thread id from a stored email, without <>; None when it cannot be written back."""
    text = _check_line(value, field).strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if len(text) > MAX_MESSAGE_ID_LENGTH or not _LOOSE_MSG_ID_RE.fullmatch(text):
        return None
    return text


def _content_type(value: str, field: str) -> tuple[str, str, dict[str, str]]:
    """maintype, subtype and the one parameter worth keeping (a text attachment's charset);
    other parameters are dropped, and an unknown shape becomes application/octet-stream.
    Composite types cannot be sent as base64 (RFC 2046 §5.2.1 and §5.1), and re-serialising
    them would not keep the bytes, so they travel as octet-stream too: the file name still says
    what they are."""
    type_text, _, params_text = _check_line(value, field).partition(";")
    match = _CONTENT_TYPE_RE.fullmatch(type_text.strip())
    if match is None or match.group(1).lower() in ("multipart", "message"):
        return *OCTET_STREAM, {}
    maintype, subtype = match.group(1).lower(), match.group(2).lower()
    charset = _CHARSET_RE.search(params_text)
    params = {"charset": charset.group(1)} if charset and maintype == "text" else {}
    return maintype, subtype, params


def _verify_folded(part: MIMEPart, fields: dict[str, str]) -> None:
    """The authoritative injection check, on what will actually be written.

    The per-field checks refuse raw line breaks, but the stdlib folder decodes RFC 2047 encoded
    words it finds in values (a subject `=?utf-8?q?x=0D=0ABcc:...?=` is written with a real CRLF
    on Python before 3.11.10, CVE-2024-6923), so every header of every part is folded here and
    must come out as one header: a first line with its own name, continuation lines that start
    with whitespace, no other line break or control character, no line over 998 octets.
    `fields` maps a lower-cased header name to the field to blame.
    """
    for name, value in part.items():
        field = fields.get(name.lower(), f"header {name}")
        folded = part.policy.fold(name, value)
        body = folded.removesuffix(part.policy.linesep)
        lines = body.split(part.policy.linesep)
        if (
            not lines[0].startswith(f"{name}:")
            or any(line[:1] not in (" ", "\t") for line in lines[1:])
            or any(_CONTROL_RE.search(line) for line in lines)
        ):
            raise ComposeError(field, "decodes to a line break or control character")
        if any(len(line.encode("utf-8")) > MAX_LINE for line in lines):
            raise ComposeError(field, f"cannot be folded into lines of {MAX_LINE} octets")


def _text_part(text: str, subtype: str) -> MIMEPart:
    part = MIMEPart(policy=POLICY)
    seven_bit = text.isascii() and all(len(line) <= MAX_LINE for line in text.splitlines())
    part.set_content(text, subtype=subtype, cte=None if seven_bit else "quoted-printable")
    return part


def _attachment_part(attachment: OutboundAttachment, index: int, *, inline: bool) -> MIMEPart:
    field = f"attachments[{index}]"
    maintype, subtype, params = _content_type(attachment.content_type, f"{field}.content_type")
    file_name = _check_line(attachment.file_name, f"{field}.file_name").strip()
    part = MIMEPart(policy=POLICY)
    part.set_content(
        attachment.data,
        maintype,
        subtype,
        disposition="inline" if inline else "attachment",
        filename=file_name or None,
        params=params,
    )
    if attachment.content_id is not None:
        cid = _thread_id(attachment.content_id, f"{field}.content_id")
        if cid is None:
            raise ComposeError(f"{field}.content_id", "not a usable Content-ID")
        part["Content-ID"] = _MessageIdHeader("Content-ID", [cid])
    elif attachment.inline:
        raise ComposeError(f"{field}.content_id", "an inline attachment needs a Content-ID")
    _verify_folded(
        part,
        {
            "content-type": f"{field}.content_type",
            "content-disposition": f"{field}.file_name",
            "content-id": f"{field}.content_id",
        },
    )
    return part


def _multipart(subtype: str, parts: list[MIMEPart]) -> MIMEPart:
    container = MIMEPart(policy=POLICY)
    container["Content-Type"] = f"multipart/{subtype}"
    for part in parts:
        container.attach(part)
    return container


def _body(email: OutboundEmail) -> MIMEPart:
    """The MIME tree of the body, outermost part last."""
    text = _text_part(email.text, "plain") if email.text is not None else None
    html = _text_part(email.html, "html") if email.html is not None else None
    related: list[MIMEPart] = []
    attached: list[MIMEPart] = []
    for index, attachment in enumerate(email.attachments):
        # Inline images belong to the html; without html they are ordinary attachments.
        as_inline = attachment.inline and html is not None
        part = _attachment_part(attachment, index, inline=attachment.inline)
        (related if as_inline else attached).append(part)
    if html is not None and related:
        html = _multipart("related", [html, *related])
    if text is not None and html is not None:
        body = _multipart("alternative", [text, html])
    else:
        body = html or text or _text_part("", "plain")
    return _multipart("mixed", [body, *attached]) if attached else body


def _set_headers(message: EmailMessage, email: OutboundEmail) -> None:
    message["From"] = _address(
        email.from_address, "from_address", _check_line(email.from_name, "from_name").strip()
    )
    for name, values, field in (("To", email.to, "to"), ("Cc", email.cc, "cc")):
        if values:
            message[name] = _addresses(values, field)
    _addresses(email.bcc, "bcc")  # validated, never written
    if email.reply_to:
        message["Reply-To"] = _address(email.reply_to, "reply_to")
    message["Subject"] = _check_line(email.subject, "subject")
    if email.date.tzinfo is None:
        raise ComposeError("date", "must be timezone-aware")
    message["Date"] = format_datetime(email.date)
    message_id = _own_message_id(email.message_id, "message_id")
    message["Message-ID"] = _MessageIdHeader("Message-ID", [message_id])
    if email.in_reply_to:
        parent = _thread_id(email.in_reply_to, "in_reply_to")
        if parent is not None:
            message["In-Reply-To"] = _MessageIdHeader("In-Reply-To", [parent])
    references = [
        ref
        for i, value in enumerate(email.references)
        if (ref := _thread_id(value, f"references[{i}]")) is not None
    ]
    if references:
        message["References"] = _MessageIdHeader("References", references)
    if email.auto_submitted is not None:
        if email.auto_submitted not in AUTO_SUBMITTED_VALUES:
            raise ComposeError("auto_submitted", f"one of {sorted(AUTO_SUBMITTED_VALUES)}")
        message["Auto-Submitted"] = email.auto_submitted
    message["MIME-Version"] = "1.0"
    _verify_folded(message, _HEADER_FIELDS)


def compose(email: OutboundEmail) -> EmailMessage:
    """The message to send. Raises `ComposeError` (a ValueError) naming the first bad field."""
    message = EmailMessage(policy=POLICY)
    _set_headers(message, email)
    body = _body(email)
    for name, value in body.items():
        message[name] = value
    message.set_payload(body.get_payload())
    return message


def envelope_recipients(email: OutboundEmail) -> list[str]:
    """RCPT TO addresses: To, Cc and Bcc in that order, each once (domains compare without
    case, RFC 5321 §2.4; local parts as written). Checked like the headers, since a line break
    here would be an SMTP command injection."""
    seen: set[tuple[str, str]] = set()
    recipients: list[str] = []
    for field, values in (("to", email.to), ("cc", email.cc), ("bcc", email.bcc)):
        for address in _addresses(values, field):
            key = (address.username, address.domain.lower())
            if key not in seen:
                seen.add(key)
                recipients.append(address.addr_spec)
    return recipients
