"""Parsing a received message (RFC 5322 + MIME) into what the ingest use case stores.

Every byte string is either parsed or refused with `MessageRejectedError` (the message is then
quarantined with the reason, never dropped): nothing else escapes, whatever the input. Repairs
and guesses (an unknown charset, a missing boundary, broken base64) are listed in
`ParsedEmail.defects` rather than refused, because the target is that every message a customer
sent is ingested.

The work is split by job: `mime_tree` parses under limits, `mime_parts` picks bodies and
attachments, `header_text`/`header_fields`/`mime_params` read header values, `charsets` turns
bytes into text, `auto_reply` recognises mail no human wrote.

Memory: the message is fed to the parser in chunks and attachments are decoded without the
stdlib's line lists, so a 25 MB message peaks at a few times its size (a test measures it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from emaildesk.mail.auto_reply import classify
from emaildesk.mail.defects import DefectLog
from emaildesk.mail.header_fields import (
    list_id,
    mailboxes,
    message_id,
    message_ids,
    origination_date,
)
from emaildesk.mail.header_text import first, header_text, header_values
from emaildesk.mail.mime_params import parse_parameterized
from emaildesk.mail.mime_parts import ParsedAttachment, extract_content
from emaildesk.mail.mime_tree import MessageRejectedError, ParseLimits, parse_tree

__all__ = [
    "MessageRejectedError",
    "ParseLimits",
    "ParsedAttachment",
    "ParsedEmail",
    "parse_message",
]

# Fields read for the auto-reply rules, decoded (RFC 3834, RFC 2076, vendor headers).
_AUTO_FIELDS = ("auto-submitted", "precedence", "x-autoreply", "x-autorespond", "return-path")


@dataclass
class ParsedEmail:
    message_id: str | None  # without <>
    in_reply_to: str | None  # without <>
    references: list[str]  # without <>, in order
    from_address: str | None  # addr-spec only, e.g. "jane@example.org"
    from_name: str  # decoded display name ("" if none)
    to: list[str]  # addr-specs
    cc: list[str]
    reply_to: str | None
    subject: str  # decoded, unfolded
    date: datetime | None  # aware UTC
    text: str | None
    html: str | None
    attachments: list[ParsedAttachment]
    auto_submitted: bool  # see auto_reply: RFC 3834, Precedence, X-Autoreply, bounces ...
    auto_reason: str | None  # which signal, e.g. "Auto-Submitted: auto-replied"
    is_bounce: bool
    defects: list[str]  # what was repaired or guessed
    header_list_id: str | None = None  # RFC 2919 list identifier, without <>


def parse_message(
    raw: bytes, *, envelope_from: str = "", limits: ParseLimits = ParseLimits()
) -> ParsedEmail:
    """Parse `raw`; `envelope_from` is the SMTP reverse-path ("<>" for the null sender, "" when
    unknown). Raises `MessageRejectedError` and nothing else."""
    try:
        return _parse(raw, envelope_from, limits)
    except MessageRejectedError:
        raise
    except RecursionError as failure:
        raise MessageRejectedError("MIME structure nested too deeply to process") from failure
    except Exception as failure:
        # The never-raise contract: a parser bug must quarantine the message (visible and
        # reprocessable once fixed), not crash the ingest worker. Tests assert this never fires.
        raise MessageRejectedError(f"internal parser error ({type(failure).__name__})") from failure


def _parse(raw: bytes, envelope_from: str, limits: ParseLimits) -> ParsedEmail:
    if len(raw) > limits.max_message_bytes:
        raise MessageRejectedError(
            f"message of {len(raw)} bytes exceeds {limits.max_message_bytes} bytes"
            " (max_message_bytes)"
        )
    if not raw or raw.isspace():
        raise MessageRejectedError("empty message")
    defects = DefectLog()
    root = parse_tree(raw, limits, defects)
    headers = header_values(root)
    content = extract_content(root, raw, defects)

    senders = mailboxes(headers.get("from", []), defects, "From")
    if "from" not in headers:
        defects.add("From: missing")
    sender = senders[0] if senders else None
    reply_to = mailboxes(headers.get("reply-to", []), defects, "Reply-To")
    content_type = parse_parameterized(first(headers, "content-type"), defects, "Content-Type")
    auto_headers = {
        name: header_text(first(headers, name), defects, name)
        for name in _AUTO_FIELDS
        if name in headers
    }
    verdict = classify(
        auto_headers,
        content_type=root.get_content_type(),
        report_type=content_type.params.get("report-type"),
        from_address=sender.address if sender else None,
        envelope_from=envelope_from,
    )
    parsed = ParsedEmail(
        message_id=message_id(first(headers, "message-id"), defects, "Message-ID"),
        in_reply_to=next(
            iter(message_ids(first(headers, "in-reply-to"), defects, "In-Reply-To")), None
        ),
        references=message_ids(_joined(headers.get("references")), defects, "References"),
        from_address=sender.address if sender else None,
        from_name=sender.name if sender else "",
        to=[box.address for box in mailboxes(headers.get("to", []), defects, "To")],
        cc=[box.address for box in mailboxes(headers.get("cc", []), defects, "Cc")],
        reply_to=reply_to[0].address if reply_to else None,
        subject=header_text(first(headers, "subject"), defects, "Subject").strip(),
        date=origination_date(first(headers, "date"), defects),
        text=content.text,
        html=content.html,
        attachments=content.attachments,
        auto_submitted=verdict.auto_submitted,
        auto_reason=verdict.reason,
        is_bounce=verdict.is_bounce,
        defects=[],
        header_list_id=list_id(first(headers, "list-id"), defects),
    )
    parsed.defects = defects.as_list()  # last: every field above may have added one
    return parsed


def _joined(values: list[str] | None) -> str | None:
    return " ".join(values) if values else None
