"""The outbox job handlers of conversation analytics, for the composition root to register
(app.job_handlers): `analytics.contact` processes an accepted contact, `analytics.export` posts
one email of a finished case to the configured receiver.

They translate the use cases' outcomes into what the outbox worker understands: a contact that
does not exist, or an export the receiver refused, is a permanent failure (dead at once,
visible); a receiver that is away is a transient one (retried with backoff).
"""

from __future__ import annotations

from collections.abc import Callable

from emaildesk.domain.errors import DomainError, ErrorFamily
from emaildesk.domain.outbox import OutboxJob
from emaildesk.services.analytics_export import (
    EXPORT_JOB,
    ContactSender,
    ExportPermanentError,
    ExportTransientError,
    export_activity,
)
from emaildesk.services.analytics_ingest import CONTACT_JOB
from emaildesk.services.analytics_processing import process_contact
from emaildesk.services.ports import UnitOfWork
from emaildesk.workers.errors import PermanentJobError, TransientJobError
from emaildesk.workers.outbox_worker import JobHandler


def payload_id(job: OutboxJob, key: str) -> int:
    """A positive integer id from the payload; a job without one can never succeed."""
    value = job.payload.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise PermanentJobError(f"{job.kind} payload has no valid '{key}'")
    return value


def contact_handler() -> JobHandler:
    async def handle(job: OutboxJob, uow: UnitOfWork) -> None:
        message_id = payload_id(job, "message_id")
        try:
            await process_contact(uow, message_id)
        except DomainError as error:
            if error.family is ErrorFamily.NOT_FOUND:
                raise PermanentJobError(str(error)) from error
            raise

    return handle


def export_handler(uow_factory: Callable[[], UnitOfWork], sender: ContactSender) -> JobHandler:
    """The export reads through `uow_factory` and closes that unit of work before posting; the
    worker's own unit of work stays untouched until the job is marked done."""

    async def handle(job: OutboxJob, uow: UnitOfWork) -> None:
        activity_id = payload_id(job, "activity_id")
        try:
            await export_activity(uow_factory, sender, activity_id)
        except ExportTransientError as error:
            raise TransientJobError(error.reason) from error
        except ExportPermanentError as error:
            raise PermanentJobError(error.reason) from error

    return handle


def analytics_job_handlers(
    uow_factory: Callable[[], UnitOfWork], sender: ContactSender
) -> dict[str, JobHandler]:
    return {CONTACT_JOB: contact_handler(), EXPORT_JOB: export_handler(uow_factory, sender)}
