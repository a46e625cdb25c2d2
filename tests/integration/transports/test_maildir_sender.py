"""The embedded default: outbound mail written durably into a local maildir."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from emaildesk.transports.maildir_sender import MaildirSender
from emaildesk.transports.smtp_client import wire_bytes
from emaildesk.workers.errors import PermanentJobError, TransientJobError

FROM = "support@example.com"


def message() -> EmailMessage:
    built = EmailMessage()
    built["From"] = f"Support <{FROM}>"
    built["To"] = "jane@customer.example"
    built["Subject"] = "Grüße [#7]"
    built["Message-ID"] = "<ed.7.9.abc@desk.example.com>"
    built.set_content("Zürich\nsecond line\n")
    built.add_attachment(bytes(range(256)), maintype="application", subtype="octet-stream")
    return built


async def test_message_lands_in_new_readable_by_mailbox_maildir(tmp_path: Path) -> None:
    box_path = tmp_path / "outbound-maildir"
    refused = await MaildirSender(box_path).send(message(), FROM, ["jane@customer.example"])
    assert refused == {}
    assert len(list((box_path / "new").iterdir())) == 1
    [stored] = list(mailbox.Maildir(box_path, create=False))
    assert stored["Message-ID"] == "<ed.7.9.abc@desk.example.com>"
    assert stored.get_payload()[1].get_payload(decode=True) == bytes(range(256))


async def test_stored_content_is_the_wire_message_with_lf_line_ends(tmp_path: Path) -> None:
    raw = wire_bytes(message())
    await MaildirSender(tmp_path).send(raw, FROM, ["jane@customer.example"])
    [path] = list((tmp_path / "new").iterdir())
    stored = path.read_bytes()
    assert b"\r\n" not in stored
    assert stored.endswith(raw.replace(b"\r\n", b"\n"))


async def test_envelope_is_kept_in_trace_headers_bcc_included(tmp_path: Path) -> None:
    recipients = ["jane@customer.example", "audit@desk.example.com"]
    await MaildirSender(tmp_path).send(message(), FROM, recipients)
    [stored] = list(mailbox.Maildir(tmp_path, create=False))
    assert stored["Return-Path"] == f"<{FROM}>"
    assert stored.get_all("Delivered-To") == recipients
    assert stored["Bcc"] is None


async def test_each_send_is_its_own_file(tmp_path: Path) -> None:
    """A retried send (same Message-ID) is a second copy, as a relay would receive it."""
    sender = MaildirSender(tmp_path)
    await sender.send(message(), FROM, ["jane@customer.example"])
    await sender.send(message(), FROM, ["jane@customer.example"])
    ids = [m["Message-ID"] for m in mailbox.Maildir(tmp_path, create=False)]
    assert ids == ["<ed.7.9.abc@desk.example.com>"] * 2


async def test_address_with_a_line_break_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PermanentJobError, match="line break"):
        await MaildirSender(tmp_path).send(message(), FROM, ["jane@x.example\r\nBcc: evil@x"])
    assert not (tmp_path / "new").exists()


async def test_unwritable_maildir_is_transient(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the maildir should be")
    with pytest.raises(TransientJobError, match="maildir write failed"):
        await MaildirSender(blocker).send(message(), FROM, ["jane@customer.example"])


async def test_no_recipients_is_permanent(tmp_path: Path) -> None:
    with pytest.raises(PermanentJobError, match="no recipients"):
        await MaildirSender(tmp_path).send(message(), FROM, [])
