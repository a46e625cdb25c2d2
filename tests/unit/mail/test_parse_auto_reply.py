"""Mail no human wrote is recognised and flagged (RFC 3834 and the conventions before it), so it
is stored but never answered automatically."""

from __future__ import annotations

import pytest

from emaildesk.mail.parse import parse_message
from support import tricky_mail as tm


def flags(
    *extra: str, sender: str = tm.SENDER, envelope_from: str = ""
) -> tuple[bool, str | None, bool]:
    parsed = parse_message(
        tm.eml([*tm.basic_headers("x", sender=sender), *extra]), envelope_from=envelope_from
    )
    return parsed.auto_submitted, parsed.auto_reason, parsed.is_bounce


def test_auto_submitted_no_is_a_human() -> None:
    """RFC 3834 §5: "no" is the one value that means a person sent it."""
    assert flags("Auto-Submitted: No") == (False, None, False)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("auto-replied", "Auto-Submitted: auto-replied"),
        ("auto-generated", "Auto-Submitted: auto-generated"),
        ('auto-notified; owner-email="x@example.org"', "Auto-Submitted: auto-notified"),
        ("Auto-Replied (vacation)", "Auto-Submitted: auto-replied"),
    ],
)
def test_auto_submitted_other_than_no_is_automatic(value: str, reason: str) -> None:
    assert flags(f"Auto-Submitted: {value}") == (True, reason, False)


@pytest.mark.parametrize("value", ["bulk", "junk", "list", "BULK"])
def test_precedence_bulk_junk_list_is_automatic(value: str) -> None:
    assert flags(f"Precedence: {value}") == (True, f"Precedence: {value.lower()}", False)


def test_other_precedence_is_a_human() -> None:
    assert flags("Precedence: first-class") == (False, None, False)


@pytest.mark.parametrize("header", ["X-Autoreply", "X-Autorespond"])
def test_vendor_auto_reply_headers_are_automatic(header: str) -> None:
    assert flags(f"{header}: yes") == (True, f"{header}: yes", False)


def test_mailer_daemon_sender_is_a_bounce() -> None:
    assert flags(sender="MAILER-DAEMON@mx.example.org") == (True, "sender MAILER-DAEMON", True)


def test_mailer_daemon_envelope_sender_is_a_bounce() -> None:
    assert flags(envelope_from="mailer-daemon@mx.example.org") == (
        True,
        "sender MAILER-DAEMON",
        True,
    )


def test_null_envelope_sender_is_automatic_but_not_necessarily_a_bounce() -> None:
    """RFC 3834 §3.3 asks auto-responders to send from <> too."""
    assert flags(envelope_from="<>") == (True, "null sender (envelope)", False)


def test_read_receipt_report_is_automatic_not_a_bounce() -> None:
    raw = tm.eml(
        [
            *tm.basic_headers("Read: your case"),
            'Content-Type: multipart/report; report-type=disposition-notification; boundary="r"',
        ],
        tm.multipart("report", "r", [tm.part(["Content-Type: text/plain"], b"It was read.")]),
    )
    parsed = parse_message(raw)
    assert (parsed.auto_submitted, parsed.auto_reason, parsed.is_bounce) == (
        True,
        "multipart/report; report-type=disposition-notification",
        False,
    )
    assert parsed.text == "It was read."


def test_bounce_is_recognised_whichever_signal_is_named_first() -> None:
    """The reason is the first signal; the bounce flag does not depend on which it was."""
    assert flags("Auto-Submitted: auto-replied", sender="MAILER-DAEMON@mx.example.org") == (
        True,
        "Auto-Submitted: auto-replied",
        True,
    )


def test_dsn_in_a_forwarded_message_does_not_make_the_outer_mail_a_bounce() -> None:
    """Only the top-level type counts: a customer forwarding a bounce is a person writing."""
    raw = tm.eml(
        [*tm.basic_headers("Fwd: bounce"), 'Content-Type: multipart/mixed; boundary="o"'],
        tm.multipart("mixed", "o", [tm.part(["Content-Type: message/rfc822"], tm.dsn_bounce())]),
    )
    parsed = parse_message(raw)
    assert (parsed.auto_submitted, parsed.is_bounce) == (False, False)
    assert parsed.attachments[0].data == tm.dsn_bounce()
