"""The MIME parser on every tricky message of `support.tricky_mail`, each with its exact outcome
(issue #4: "100% of messages ingested", hostile messages refused with a reason, never a crash).

`EXPECTED` holds one check per message name; a message added to the generator without an
expected outcome fails `test_every_tricky_message_has_an_expected_outcome`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from emaildesk.mail.parse import MessageRejectedError, ParsedEmail, parse_message
from support import tricky_mail as tm

Check = Callable[[ParsedEmail], None]
MESSAGES = tm.tricky_messages()


def sent_as_built(parsed: ParsedEmail, subject: str) -> None:
    """The fields every message built on `basic_headers` shares."""
    assert parsed.subject == subject
    assert parsed.from_address == tm.SENDER_ADDRESS
    assert parsed.from_name == "Jane Customer"
    assert parsed.to == [tm.RECIPIENT]
    assert parsed.cc == []
    assert parsed.message_id == "tricky@example.org"
    assert parsed.date == datetime(2024, 3, 5, 9, 15, tzinfo=UTC)


def human(parsed: ParsedEmail) -> None:
    assert (parsed.auto_submitted, parsed.auto_reason, parsed.is_bounce) == (False, None, False)


def plain_hello(subject: str) -> Check:
    def check(parsed: ParsedEmail) -> None:
        sent_as_built(parsed, subject)
        assert parsed.text == "hello\n"
        assert parsed.html is None
        assert parsed.attachments == []
        human(parsed)
        assert parsed.defects == []

    return check


def check_subject_unknown_charset(parsed: ParsedEmail) -> None:
    sent_as_built(parsed, "café crème")  # utf-8 refuses the bytes, cp1252 takes them
    assert parsed.defects == ["Subject: unknown charset 'x-klingon', decoded as cp1252"]


def check_quoted_printable_body(parsed: ParsedEmail) -> None:
    sent_as_built(parsed, "QP")
    assert parsed.text == "Café au lait €5 and a soft break.\n"
    assert parsed.defects == []


def check_base64_body(parsed: ParsedEmail) -> None:
    sent_as_built(parsed, "B64")
    assert parsed.text == "Здравствуйте,\nмой заказ не пришёл.\n"


def undeclared(codec: str) -> Check:
    def check(parsed: ParsedEmail) -> None:
        sent_as_built(parsed, "8bit")
        assert parsed.text == "Grüße, naïve café\n"
        assert parsed.defects == [
            f"part 1 (text/plain): 8-bit text without a charset, decoded as {codec}"
        ]

    return check


def check_alternative(parsed: ParsedEmail) -> None:
    sent_as_built(parsed, "Alternative")
    assert parsed.text == "Best plain"  # RFC 2046 §5.1.4: the last alternative is the best
    assert parsed.html == "<p>Best html</p>"
    assert parsed.attachments == []  # text/enriched is an alternative, not an attachment


def check_related_cid_image(parsed: ParsedEmail) -> None:
    sent_as_built(parsed, "Related")
    assert parsed.text == "See the logo."
    assert parsed.html is not None
    assert 'src="cid:logo.1@desk.example.test"' in parsed.html
    image, invoice = parsed.attachments
    assert (image.file_name, image.content_type, image.data) == (
        "attachment-1.png",
        "image/png",
        tm.PNG_BYTES,
    )
    assert (image.inline, image.content_id) == (True, "logo.1@desk.example.test")
    assert (invoice.file_name, invoice.content_type, invoice.data) == (
        "invoice.pdf",
        "application/pdf",
        tm.PDF_BYTES,
    )
    assert (invoice.inline, invoice.content_id) == (False, None)


def check_forwarded_rfc822(parsed: ParsedEmail) -> None:
    sent_as_built(parsed, "Fwd: Original question")
    assert parsed.text == "See the message below."  # the inner body stays in the .eml
    (forwarded,) = parsed.attachments
    assert forwarded.forwarded_message is True
    assert forwarded.content_type == "message/rfc822"
    assert forwarded.file_name == "Original question.eml"  # folded Subject, unfolded
    assert forwarded.data == tm.FORWARDED_INNER  # the original bytes, folding and spacing kept


def attachment_named(name: str, data: bytes, content_type: str) -> Check:
    def check(parsed: ParsedEmail) -> None:
        sent_as_built(parsed, "Attachment")
        assert parsed.text == "Attached."
        (attachment,) = parsed.attachments
        assert attachment.file_name == name
        assert attachment.content_type == content_type
        assert hashlib.sha256(attachment.data).digest() == hashlib.sha256(data).digest()
        assert (attachment.inline, attachment.content_id) == (False, None)

    return check


def check_missing_boundary(parsed: ParsedEmail) -> None:
    sent_as_built(parsed, "No boundary")
    assert parsed.text == "--xyz\nContent-Type: text/plain\n\nhello\n--xyz--\n"
    assert parsed.attachments == []
    assert "part 1 (multipart/mixed): NoBoundaryInMultipartDefect" in parsed.defects
    assert "part 1 (multipart/mixed): multipart body without parts kept as text" in parsed.defects


def check_broken_base64(parsed: ParsedEmail) -> None:
    attachment_named("broken.pdf", tm.PDF_BYTES, "application/pdf")(parsed)
    assert parsed.defects == [
        "part 3 (application/pdf): broken base64 repaired (bad padding or length)"
    ]


def check_nul_bytes(parsed: ParsedEmail) -> None:
    sent_as_built(parsed, "nulhere")
    assert parsed.text == "beforeafter\n"
    assert parsed.defects == [
        "part 1 (text/plain): NUL characters removed",
        "Subject: NUL characters removed",
    ]


def check_only_headers(parsed: ParsedEmail) -> None:
    sent_as_built(parsed, "Only headers")
    assert parsed.text == ""  # RFC 2045 §5.2: an implicit, empty text/plain body
    assert (parsed.html, parsed.attachments, parsed.defects) == (None, [], [])


def automatic(subject: str, reason: str) -> Check:
    def check(parsed: ParsedEmail) -> None:
        sent_as_built(parsed, subject)
        assert (parsed.auto_submitted, parsed.auto_reason, parsed.is_bounce) == (
            True,
            reason,
            False,
        )

    return check


def check_dsn_bounce(parsed: ParsedEmail) -> None:
    assert parsed.from_address == "MAILER-DAEMON@mx.example.org"
    assert parsed.auto_submitted is True
    assert parsed.is_bounce is True
    assert parsed.auto_reason == "multipart/report; report-type=delivery-status"
    assert parsed.text == "Your message could not be delivered."
    status, original = parsed.attachments
    assert (status.content_type, status.data, status.forwarded_message) == (
        "message/delivery-status",
        tm.DSN_BLOCKS,
        False,
    )
    assert status.file_name == "attachment-1.txt"
    assert (original.content_type, original.data, original.forwarded_message) == (
        "message/rfc822",
        tm.BOUNCED_ORIGINAL,
        True,
    )
    assert original.file_name == "Your case [#1042].eml"


def check_no_from(parsed: ParsedEmail) -> None:
    assert (parsed.from_address, parsed.from_name) == (None, "")
    assert parsed.subject == "Anonymous"
    assert parsed.text == "hello\n"
    assert parsed.defects == ["From: missing"]


EXPECTED: dict[str, Check] = {
    "subject_utf8": plain_hello("Grüße aus Köln €"),
    "subject_iso_8859_1": plain_hello("Café crème"),
    "subject_koi8_r": plain_hello("Привет мир"),
    "subject_shift_jis": plain_hello("日本語の件名"),
    "subject_unknown_charset": check_subject_unknown_charset,
    "quoted_printable_body": check_quoted_printable_body,
    "base64_body": check_base64_body,
    "undeclared_8bit_utf8": undeclared("utf-8"),
    "undeclared_8bit_latin1": undeclared("cp1252"),
    "alternative": check_alternative,
    "related_cid_image": check_related_cid_image,
    "forwarded_rfc822": check_forwarded_rfc822,
    "rfc2231_filename": attachment_named("€ rates.pdf", tm.PDF_BYTES, "application/pdf"),
    "rfc2231_continuations": attachment_named(
        "€ exchange rates 2024.pdf", tm.PDF_BYTES, "application/pdf"
    ),
    "tnef_winmail": attachment_named("winmail.dat", tm.TNEF_BYTES, "application/ms-tnef"),
    "binary_attachment": attachment_named(
        "data.bin", tm.random_bytes(200_000), "application/octet-stream"
    ),
    "missing_boundary": check_missing_boundary,
    "broken_base64": check_broken_base64,
    "nul_bytes": check_nul_bytes,
    "only_headers": check_only_headers,
    "auto_submitted": automatic("Out of office", "Auto-Submitted: auto-replied"),
    "precedence_bulk": automatic("Newsletter", "Precedence: bulk"),
    "x_autoreply": automatic("Away", "X-Autoreply: yes"),
    "return_path_null": automatic("Returned", "null sender (Return-Path)"),
    "dsn_bounce": check_dsn_bounce,
    "no_from": check_no_from,
}
# Refused messages: the exact reason, which names the limit crossed (quarantine shows it).
REJECTED = {
    "many_headers": "too many header fields in one part: more than 1000 (max_headers)",
    "many_parts": "too many MIME parts: more than 500 (max_parts)",
    "deep_nesting": "MIME nesting deeper than 20 levels (max_depth)",
    "long_header_line": "header fields of one part exceed 262144 bytes (max_header_bytes)",
    "empty": "empty message",
}


def test_every_tricky_message_has_an_expected_outcome() -> None:
    assert set(EXPECTED) | set(REJECTED) == set(MESSAGES)
    assert not set(EXPECTED) & set(REJECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tricky_message_is_parsed_as_expected(name: str) -> None:
    EXPECTED[name](parse_message(MESSAGES[name]))


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_hostile_message_is_rejected_with_its_reason(name: str) -> None:
    with pytest.raises(MessageRejectedError) as refused:
        parse_message(MESSAGES[name])
    assert refused.value.reason == REJECTED[name]
    assert str(refused.value) == REJECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_text_field_is_storable(name: str) -> None:
    """No NUL and no lone surrogate in any text: PostgreSQL refuses both."""
    parsed = parse_message(MESSAGES[name])
    texts = [
        parsed.subject,
        parsed.from_name,
        parsed.text or "",
        parsed.html or "",
        *parsed.defects,
        *(a.file_name for a in parsed.attachments),
    ]
    for text in texts:
        text.encode("utf-8")  # raises on a lone surrogate
        assert "\x00" not in text


def test_null_envelope_sender_is_automatic() -> None:
    parsed = parse_message(MESSAGES["subject_utf8"], envelope_from="<>")
    assert (parsed.auto_submitted, parsed.auto_reason, parsed.is_bounce) == (
        True,
        "null sender (envelope)",
        False,
    )


def test_unknown_envelope_sender_is_not_the_null_sender() -> None:
    """The HTTP entrances pass no envelope: "" means unknown, only "<>" is null."""
    assert parse_message(MESSAGES["subject_utf8"], envelope_from="").auto_submitted is False


def test_whitespace_only_message_is_rejected_as_empty() -> None:
    with pytest.raises(MessageRejectedError, match="empty message"):
        parse_message(b"\r\n \r\n\t")
