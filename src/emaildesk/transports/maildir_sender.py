"""The embedded default for outbound mail: with no relay configured, every message is written to
a maildir in the data directory (`settings.outbound_maildir`), so a fresh install is useful (and
testable) with no mail server at all (DESIGN.md "Mail").

Durability matches an SMTP relay's 250: `mailbox.Maildir.add` writes the message under `tmp/`,
fsyncs it and links it into `new/` (the maildir protocol: a reader never sees a partial file);
we then fsync `new/` so the link itself survives power loss before we report success.

Each delivery gets its own file, so a send retried after a crash (the outbox's at-least-once)
leaves a second file with the same Message-ID, exactly as a relay would receive a second copy.
Files use LF line ends, as local mail files do. Two headers are prepended, as a final delivery
agent does: `Return-Path` (RFC 5321 §4.4) with the envelope sender, and one `Delivered-To` per
envelope recipient, so Bcc recipients (never in the message's own headers) stay visible to
the operator who reads the maildir.
"""

from __future__ import annotations

import asyncio
import mailbox
import os
from email.message import EmailMessage
from pathlib import Path

from emaildesk.transports.smtp_client import Refusals, wire_bytes
from emaildesk.workers.errors import PermanentJobError, TransientJobError

NEW_SUBDIR = "new"
MAILDIR_SUBDIRS = ("tmp", NEW_SUBDIR, "cur")


class MaildirSender:
    """Delivers into a local maildir; same `send` as `RelaySender`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"maildir {self.path}"

    async def send(
        self, message: EmailMessage | bytes, envelope_from: str, recipients: list[str]
    ) -> Refusals:
        """Store the message; a maildir refuses nobody, so the refusals are always empty."""
        if not recipients:
            raise PermanentJobError("no recipients")
        for address in [envelope_from, *recipients]:
            if "\r" in address or "\n" in address:  # would forge a header line
                raise PermanentJobError("address not sendable: contains a line break")
        raw = message if isinstance(message, bytes) else wire_bytes(message)
        trace = [f"Return-Path: <{envelope_from}>"]
        trace += [f"Delivered-To: {address}" for address in recipients]
        stored = "\n".join(trace).encode() + b"\n" + raw.replace(b"\r\n", b"\n")
        try:
            await asyncio.to_thread(self._store, stored)
        except OSError as exc:  # disk full, permissions: may be fixed without us
            raise TransientJobError(f"maildir write failed: {type(exc).__name__}") from exc
        return {}

    def _store(self, data: bytes) -> str:
        # Maildir(create=True) makes the subdirectories only when the maildir itself is new; an
        # existing but empty directory (made by hand, or by a backup restore) needs them too.
        for subdir in MAILDIR_SUBDIRS:
            (self.path / subdir).mkdir(parents=True, exist_ok=True)
        box = mailbox.Maildir(self.path, factory=None, create=False)
        key = box.add(data)  # written in tmp/, fsynced, linked into new/
        _fsync_dir(self.path / NEW_SUBDIR)
        return key


def _fsync_dir(directory: Path) -> None:
    """Make the link into `new/` durable (POSIX: a directory entry needs its own fsync)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
