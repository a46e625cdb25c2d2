"""The operator's view of received mail that could not be processed: list, inspect, download
and reprocess quarantined messages (DESIGN.md "Mail": visible and reprocessable, never dropped).

Shared by `emaildesk mail quarantine …` and, later, the console. Reprocessing moves a message
back to RECEIVED and stages a fresh `mail.ingest` job in the caller's unit of work, so the
decision and the job commit together; the caller may also process it at once
(`ingest_received`), in which case the job later finds it handled and does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from emaildesk.domain import errors
from emaildesk.domain.ingestion import Ingestion, IngestionState
from emaildesk.services.mail_receive import enqueue_ingest
from emaildesk.services.ports import BlobStore, UnitOfWork

DEFAULT_PAGE = 100
SUMMARY_HEADERS = ("From", "To", "Cc", "Subject", "Date", "Message-ID", "Auto-Submitted")
# Only the head of a message is read for its summary: a quarantined message may be hostile,
# and its headers, if it has any worth showing, are at the start.
SUMMARY_READ_BYTES = 64 * 1024
MAX_SUMMARY_VALUE = 200  # characters of a header value shown


@dataclass(frozen=True)
class QuarantinedMessage:
    """One quarantined message as an operator inspects it."""

    ingestion: Ingestion
    headers: list[tuple[str, str]]  # a summary: the first of each SUMMARY_HEADERS present


async def list_quarantined(
    uow: UnitOfWork, *, limit: int = DEFAULT_PAGE, after_id: int = 0
) -> list[Ingestion]:
    """Oldest first, a page at a time (`after_id`: the last id of the previous page)."""
    return await uow.ingestions.in_state(IngestionState.QUARANTINED, limit, after_id)


async def get_ingestion(uow: UnitOfWork, ingestion_id: int) -> Ingestion:
    """Any ingestion by id (an operator may look up a stored one too); IDS_NOT_FOUND if none."""
    ingestion = await uow.ingestions.get(ingestion_id)
    if ingestion is None:
        raise errors.IDS_NOT_FOUND(ids=ingestion_id)
    return ingestion


async def raw_message(uow: UnitOfWork, blobs: BlobStore, ingestion_id: int) -> bytes:
    """The message exactly as it was received, byte for byte."""
    ingestion = await get_ingestion(uow, ingestion_id)
    return await blobs.get(ingestion.raw_sha256)


async def inspect(uow: UnitOfWork, blobs: BlobStore, ingestion_id: int) -> QuarantinedMessage:
    ingestion = await get_ingestion(uow, ingestion_id)
    raw = await blobs.get(ingestion.raw_sha256)
    return QuarantinedMessage(ingestion, header_summary(raw))


def header_summary(raw: bytes) -> list[tuple[str, str]]:
    """The headers an operator recognises a message by, read leniently (compat32 keeps going
    where the message is broken; the point is to show what is there, not to judge it)."""
    message = BytesHeaderParser(policy=compat32).parsebytes(raw[:SUMMARY_READ_BYTES])
    summary = []
    for name in SUMMARY_HEADERS:
        value = message.get(name)
        if value is None:
            continue
        text = " ".join(str(value).split())  # unfold; drop control whitespace
        text = "".join(ch if ch.isprintable() else "?" for ch in text)
        summary.append((name, text[:MAX_SUMMARY_VALUE]))
    return summary


async def reprocess(uow: UnitOfWork, ingestion_id: int) -> Ingestion:
    """Send a quarantined message through ingestion again (after the cause was fixed: the rate
    limit raised, an alias re-activated, a parser bug fixed). Raises IDS_NOT_FOUND, or
    OPERATION_NOT_ALLOWED_IN_STATE unless the message is quarantined."""
    ingestion = await uow.ingestions.lock(ingestion_id)
    if ingestion is None:
        raise errors.IDS_NOT_FOUND(ids=ingestion_id)
    ingestion.reprocess()
    await enqueue_ingest(uow, ingestion)
    return ingestion


async def received_ingestions(
    uow: UnitOfWork, *, limit: int = DEFAULT_PAGE, after_id: int = 0
) -> list[Ingestion]:
    """Messages waiting to be processed (or whose processing never finished)."""
    return await uow.ingestions.in_state(IngestionState.RECEIVED, limit, after_id)
