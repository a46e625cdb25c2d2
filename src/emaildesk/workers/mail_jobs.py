"""The `mail.ingest` job: process one received message (services/mail_ingest.py).

Retries are the outbox worker's: an unforeseen error is retried with backoff. On the job's last
attempt the error is not let out but recorded as the message's quarantine reason instead, so a
message that keeps breaking processing ends QUARANTINED, visible and reprocessable, and never
stays RECEIVED forever behind a dead job (Mailman's shunt queue, bounded).
"""

from __future__ import annotations

import logging

from emaildesk.domain.errors import DomainError, ErrorFamily
from emaildesk.domain.outbox import OutboxJob
from emaildesk.services.mail_config import MailConfig
from emaildesk.services.mail_ingest import (
    ReadMessage,
    ingest_received,
    quarantine_unprocessable,
    read_message,
)
from emaildesk.services.ports import BlobStore, UnitOfWork
from emaildesk.workers.errors import PermanentJobError
from emaildesk.workers.outbox_worker import JobHandler

logger = logging.getLogger(__name__)


def ingestion_id_of(job: OutboxJob) -> int:
    """The payload's ingestion id; a job without one can never succeed."""
    value = job.payload.get("ingestion_id")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise PermanentJobError("mail.ingest payload has no valid 'ingestion_id'")
    return value


def mail_ingest_handler(blobs: BlobStore, config: MailConfig) -> JobHandler:
    """The handler the composition root registers for `mail.ingest` (app.job_handlers)."""

    async def handle(job: OutboxJob, uow: UnitOfWork) -> None:
        ingestion_id = ingestion_id_of(job)
        try:
            read = await _read_ahead(blobs, job)  # before the transaction's first statement
            ingestion = await ingest_received(uow, blobs, ingestion_id, settings=config, read=read)
        except Exception as error:  # the job's boundary: see the module docstring
            if isinstance(error, DomainError) and error.family is ErrorFamily.NOT_FOUND:
                # No such ingestion (its receipt never committed): nothing will ever change that.
                raise PermanentJobError(str(error)) from error
            if job.attempts < job.max_attempts:
                raise
            reason = (
                f"processing failed on all {job.attempts} attempts; "
                f"last error: {type(error).__name__}: {error}"
            )
            await uow.rollback()
            ingestion = await quarantine_unprocessable(uow, ingestion_id, reason)
        logger.info(
            "mail ingested",
            extra={
                "fields": {
                    "ingestion_id": ingestion_id,
                    "state": ingestion.state.value,
                    "activity_id": ingestion.activity_id,
                }
            },
        )

    return handle


async def _read_ahead(blobs: BlobStore, job: OutboxJob) -> ReadMessage | None:
    """Read and parse the message the payload names, if it names one; `ingest_received` checks
    that it is the ingestion's and otherwise reads it itself (also when the blob is missing, to
    quarantine the message with that reason)."""
    sha, envelope_from = job.payload.get("raw_sha256"), job.payload.get("envelope_from")
    if not isinstance(sha, str) or not isinstance(envelope_from, str):
        return None
    try:
        return await read_message(blobs, sha, envelope_from)
    except LookupError:
        return None
