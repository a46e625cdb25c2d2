"""Background workers: the claim → process → commit loops (DESIGN.md "Events, outbox, workers")."""

from emaildesk.workers.errors import JobError, PermanentJobError, TransientJobError
from emaildesk.workers.outbox_worker import (
    JobHandler,
    JobHandlers,
    OutboxWorker,
    build_outbox_worker,
    default_worker_id,
)

__all__ = [
    "JobError",
    "JobHandler",
    "JobHandlers",
    "OutboxWorker",
    "PermanentJobError",
    "TransientJobError",
    "build_outbox_worker",
    "default_worker_id",
]
