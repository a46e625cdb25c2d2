"""Put work on the outbox, and give a dead job another chance.

`enqueue` is called inside the unit of work that makes the change asking for the work, so the
change, its event and its job commit together or not at all (DESIGN.md "Events, outbox,
workers"); the outbox worker picks the job up after that commit. `requeue_dead` is the operator's
answer to a job that failed visibly (CLI, console).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from emaildesk.domain import errors
from emaildesk.domain.clock import as_utc
from emaildesk.domain.outbox import DEFAULT_MAX_ATTEMPTS, JobState, OutboxJob
from emaildesk.services.ports import UnitOfWork

MAX_KIND_LENGTH = 64  # outbox_jobs.kind is String(64) (db/tables.py)


async def enqueue(
    uow: UnitOfWork,
    kind: str,
    payload: Mapping[str, Any],
    *,
    max_attempts: int | None = None,
    run_after: datetime | None = None,
) -> OutboxJob:
    """Stage a job in the caller's transaction (the caller commits, then may wake a worker).

    Bad arguments are programming errors, not a user's, so they raise `ValueError`; the payload
    must be JSON (it is stored as JSON, never pickled) and is checked here, where the mistake
    is, rather than at the flush.
    """
    if not kind or len(kind) > MAX_KIND_LENGTH:
        raise ValueError(f"job kind must be 1..{MAX_KIND_LENGTH} characters")
    if max_attempts is not None and max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    try:
        json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"job payload is not JSON: {exc}") from exc
    job = OutboxJob(
        kind=kind,
        payload=dict(payload),
        max_attempts=DEFAULT_MAX_ATTEMPTS if max_attempts is None else max_attempts,
    )
    if run_after is not None:
        job.run_after = as_utc(run_after)
    return await uow.outbox.enqueue(job)


async def requeue_dead(uow: UnitOfWork, job_id: int, *, now: datetime | None = None) -> OutboxJob:
    """Give a dead job a fresh set of attempts, due at once. Its `last_error` is kept, so the
    reason it died stays visible until it succeeds or dies again.

    Raises IDS_NOT_FOUND for an unknown id and OPERATION_NOT_ALLOWED_IN_STATE unless dead.
    The state is checked here as well as in the domain because `OutboxJob.requeue` only checks
    that PENDING may follow, and a RUNNING job may become PENDING (a retry): without this guard
    an operator could reset the attempts of a job a worker is running.
    """
    job = await uow.outbox.get(job_id)
    if job is None:
        raise errors.IDS_NOT_FOUND(ids=job_id)
    if job.state is not JobState.DEAD:
        raise errors.OPERATION_NOT_ALLOWED_IN_STATE(operation="requeue", state=job.state.value)
    job.requeue(now)
    return job
