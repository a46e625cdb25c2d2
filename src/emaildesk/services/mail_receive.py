"""Receive a raw message durably, so the transport may acknowledge it (DESIGN.md "Mail").

Mail transports accept fast and process later, as Mailman's LMTP runner does: the raw bytes go
to the blob store (fsynced), an ingestion record and its `mail.ingest` outbox job are staged in
the caller's unit of work, and the caller commits and only then answers (SMTP 250, LMTP 250 per
recipient, IMAP flag/move). Nothing is refused here: the transport has already checked the
recipients (RCPT) and the size, and a message that cannot be processed is quarantined later by
`ingest_received`, visibly and reprocessably, never dropped.
"""

from __future__ import annotations

from emaildesk.domain.addresses import normalize_address
from emaildesk.domain.directory import EmailAlias
from emaildesk.domain.ingestion import Ingestion, IngestionSource
from emaildesk.services.mail_ingest import ingest_received
from emaildesk.services.outbox import enqueue
from emaildesk.services.ports import BlobStore, UnitOfWork

INGEST_JOB = "mail.ingest"  # outbox job kind; payload {"ingestion_id": n, ...hints}
MAX_ENVELOPE_FROM_LENGTH = 998  # ingestions.envelope_from is String(998) (RFC 5322 §2.1.1)

__all__ = ["INGEST_JOB", "accepting_alias", "enqueue_ingest", "ingest_received", "receive_raw"]


async def receive_raw(
    uow: UnitOfWork,
    blobs: BlobStore,
    *,
    raw: bytes,
    source: IngestionSource,
    envelope_from: str,
    recipients: list[str],
    mailbox: str | None = None,
    remote_uid: str | None = None,
) -> Ingestion:
    """Store the bytes, record the ingestion and stage its processing job; the caller commits,
    THEN acknowledges.

    The blob is written before the row is flushed, so a committed ingestion never names missing
    bytes; a crash before the commit leaves at most an orphan blob (content-addressed, so a
    retried delivery reuses it) and no acknowledgement, and the sender tries again.
    """
    sha = await blobs.put(raw)
    ingestion = Ingestion(
        source=source,
        raw_sha256=sha,
        size=len(raw),
        # RFC 5321 §4.5.3.1.3 caps a reverse-path at 256 octets and the transport enforces it;
        # the cap here only keeps an unchecked caller from failing the insert.
        envelope_from=envelope_from.strip()[:MAX_ENVELOPE_FROM_LENGTH],
        recipients=[normalize_address(r) for r in recipients if r.strip()],
        mailbox=mailbox,
        remote_uid=remote_uid,
    )
    await uow.ingestions.add(ingestion)
    await enqueue_ingest(uow, ingestion)
    return ingestion


async def enqueue_ingest(uow: UnitOfWork, ingestion: Ingestion) -> None:
    """Stage the job that processes this ingestion (at receipt, and again on reprocess).

    Besides the id, the payload names the raw blob and the envelope sender, so the handler can
    read and parse the message before its transaction starts (`mail_ingest.ReadMessage`); they
    are hints, checked against the ingestion, never trusted over it."""
    if ingestion.id is None:
        raise ValueError("the ingestion must be flushed (have an id) before its job is staged")
    payload = {
        "ingestion_id": ingestion.id,
        "raw_sha256": ingestion.raw_sha256,
        "envelope_from": ingestion.envelope_from,
    }
    await enqueue(uow, INGEST_JOB, payload)


async def accepting_alias(uow: UnitOfWork, address: str) -> EmailAlias | None:
    """The active alias a transport accepts mail for at this address, or None (refuse: SMTP
    550 at RCPT, an error for `emaildesk mail import`), before any bytes are read."""
    alias = await uow.directory.alias_by_address(address)
    return alias if alias is not None and alias.active else None
