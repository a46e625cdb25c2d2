"""The outbox use cases (services/outbox.py): what `enqueue` stores and refuses, and the
operator's `requeue_dead`."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from outbox_worker_support import (
    RECORD_KIND,
    FakeClock,
    add_jobs,
    completions,
    load_job,
    record_done,
)

from emaildesk.db.database import Database
from emaildesk.domain import errors
from emaildesk.domain.clock import utcnow
from emaildesk.domain.errors import DomainError
from emaildesk.domain.outbox import DEFAULT_MAX_ATTEMPTS, JobState, OutboxJob
from emaildesk.services.outbox import MAX_KIND_LENGTH, enqueue, requeue_dead
from emaildesk.services.ports import UnitOfWork
from emaildesk.workers import OutboxWorker, PermanentJobError


async def test_enqueue_stores_a_pending_job_in_the_callers_transaction(database: Database) -> None:
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    async with database.uow() as uow:
        job = await enqueue(uow, RECORD_KIND, {"to": ["a"], "n": 1}, max_attempts=3, run_after=at)
        await uow.commit()
    assert job.id is not None
    stored = await load_job(database, job.id)
    assert (stored.kind, stored.payload, stored.state, stored.attempts, stored.max_attempts) == (
        RECORD_KIND,
        {"to": ["a"], "n": 1},
        JobState.PENDING,
        0,
        3,
    )
    assert stored.run_after == at.astimezone(UTC)


async def test_enqueue_defaults_to_due_now_with_default_attempts(database: Database) -> None:
    before = utcnow()
    [job_id] = await add_jobs(database)
    stored = await load_job(database, job_id)
    assert stored.max_attempts == DEFAULT_MAX_ATTEMPTS
    assert before <= stored.run_after <= utcnow()


async def test_enqueue_without_commit_leaves_no_job(database: Database) -> None:
    async with database.uow() as uow:
        await enqueue(uow, RECORD_KIND, {})
        # the caller's change failed: no commit
    async with database.uow() as uow:
        assert await uow.outbox.in_state(JobState.PENDING) == []


@pytest.mark.parametrize(
    ("kind", "payload", "max_attempts"),
    [
        ("", {}, None),
        ("k" * (MAX_KIND_LENGTH + 1), {}, None),
        (RECORD_KIND, {}, 0),
        (RECORD_KIND, {"when": datetime(2030, 1, 1, tzinfo=UTC)}, None),
        (RECORD_KIND, {"ratio": math.nan}, None),
    ],
    ids=["empty-kind", "kind-too-long", "no-attempts", "not-json", "nan"],
)
async def test_enqueue_refuses_what_cannot_be_stored_or_run(
    database: Database, kind: str, payload: dict[str, object], max_attempts: int | None
) -> None:
    async with database.uow() as uow:
        with pytest.raises(ValueError, match=r"kind|max_attempts|JSON"):
            await enqueue(uow, kind, payload, max_attempts=max_attempts)


async def test_requeue_dead_gives_fresh_attempts_and_the_worker_runs_it_again(
    database: Database,
) -> None:
    [job_id] = await add_jobs(database, max_attempts=1)
    clock = FakeClock(utcnow() + timedelta(seconds=1))
    refused = True

    async def refuse_once(job: OutboxJob, uow: UnitOfWork) -> None:
        if refused:
            raise PermanentJobError("550 mailbox unavailable")
        await record_done(job, uow)

    worker = OutboxWorker(database.uow, {RECORD_KIND: refuse_once}, worker_id="w", clock=clock)
    await worker.run_once()
    assert (await load_job(database, job_id)).state is JobState.DEAD

    clock.advance(timedelta(hours=1))
    async with database.uow() as uow:
        job = await requeue_dead(uow, job_id, now=clock.now)
        await uow.commit()
    assert (job.state, job.attempts, job.run_after, job.finished_at) == (
        JobState.PENDING,
        0,
        clock.now,
        None,
    )
    stored = await load_job(database, job_id)
    assert (stored.state, stored.attempts, stored.last_error) == (
        JobState.PENDING,
        0,
        "550 mailbox unavailable",  # the reason stays visible until the next outcome
    )

    refused = False
    assert await worker.run_once() == 1
    assert (await load_job(database, job_id)).state is JobState.DONE
    assert await completions(database) == {job_id: 1}


async def test_requeue_dead_of_an_unknown_job_is_not_found(database: Database) -> None:
    async with database.uow() as uow:
        with pytest.raises(DomainError) as raised:
            await requeue_dead(uow, 424242)
    assert raised.value.spec is errors.IDS_NOT_FOUND
    assert raised.value.params == {"ids": "424242"}


@pytest.mark.parametrize("state", [JobState.PENDING, JobState.RUNNING, JobState.DONE])
async def test_requeue_dead_refuses_a_job_that_is_not_dead(
    database: Database, state: JobState
) -> None:
    [job_id] = await add_jobs(database)
    async with database.uow() as uow:
        if state is not JobState.PENDING:
            [job] = await uow.outbox.claim("w", timedelta(seconds=30), utcnow())
            if state is JobState.DONE:
                job.succeed()
            await uow.commit()
    async with database.uow() as uow:
        with pytest.raises(DomainError) as raised:
            await requeue_dead(uow, job_id)
    assert raised.value.spec is errors.OPERATION_NOT_ALLOWED_IN_STATE
    assert raised.value.params == {"operation": "requeue", "state": state.value}
    stored = await load_job(database, job_id)
    assert stored.state is state
    assert stored.attempts == (0 if state is JobState.PENDING else 1)
