"""One outbox worker iteration against a real database (SQLite and PostgreSQL): each outcome a
handler can have, and the lease rules that keep a job's effect to exactly one commit."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from outbox_worker_support import (
    RECORD_KIND,
    FakeClock,
    add_jobs,
    completion_events,
    completions,
    load_job,
    record_done,
)

from emaildesk.db.database import Database
from emaildesk.domain.clock import utcnow
from emaildesk.domain.outbox import JobState, OutboxJob, backoff
from emaildesk.services.ports import UnitOfWork
from emaildesk.workers import (
    JobHandlers,
    OutboxWorker,
    PermanentJobError,
    TransientJobError,
    build_outbox_worker,
)

LEASE = timedelta(seconds=30)


def worker(
    database: Database, handlers: JobHandlers, clock: FakeClock, name: str = "w1", batch: int = 10
) -> OutboxWorker:
    return OutboxWorker(
        database.uow, handlers, worker_id=name, lease=LEASE, batch_size=batch, clock=clock
    )


@pytest.fixture
def clock() -> FakeClock:
    # A little ahead of real time, so jobs enqueued just now (run_after = now) are due.
    return FakeClock(utcnow() + timedelta(seconds=1))


async def test_job_succeeds_and_its_effect_commits_with_it(
    database: Database, clock: FakeClock
) -> None:
    [job_id] = await add_jobs(database)
    assert await worker(database, {RECORD_KIND: record_done}, clock).run_once() == 1
    job = await load_job(database, job_id)
    assert (job.state, job.attempts, job.finished_at, job.lease_until, job.last_error) == (
        JobState.DONE,
        1,
        clock.now,
        None,
        None,
    )
    [event] = await completion_events(database)
    assert (event.aggregate_id, event.payload["by"]) == (job_id, "w1")


async def test_nothing_due_claims_nothing(database: Database, clock: FakeClock) -> None:
    await add_jobs(database, run_after=clock.now + timedelta(minutes=5))
    assert await worker(database, {RECORD_KIND: record_done}, clock).run_once() == 0
    assert await completions(database) == {}


async def test_transient_failure_retries_after_backoff_then_succeeds(
    database: Database, clock: FakeClock
) -> None:
    [job_id] = await add_jobs(database)
    calls: list[int] = []

    async def flaky(job: OutboxJob, uow: UnitOfWork) -> None:
        calls.append(job.attempts)
        if job.attempts == 1:
            raise TransientJobError("451 relay busy")
        await record_done(job, uow)

    w = worker(database, {RECORD_KIND: flaky}, clock)
    failed_at = clock.now
    assert await w.run_once() == 1
    job = await load_job(database, job_id)
    assert (job.state, job.attempts, job.last_error) == (JobState.PENDING, 1, "451 relay busy")
    assert job.run_after == failed_at + backoff(1)

    clock.advance(backoff(1) - timedelta(milliseconds=1))
    assert await w.run_once() == 0  # not due yet
    clock.advance(timedelta(milliseconds=1))
    assert await w.run_once() == 1
    job = await load_job(database, job_id)
    assert (job.state, job.attempts) == (JobState.DONE, 2)
    assert calls == [1, 2]
    assert await completions(database) == {job_id: 1}


async def test_permanent_failure_is_dead_at_once_with_its_reason(
    database: Database, clock: FakeClock
) -> None:
    [job_id] = await add_jobs(database)

    async def refuse(job: OutboxJob, uow: UnitOfWork) -> None:
        raise PermanentJobError("550 mailbox unavailable")

    assert await worker(database, {RECORD_KIND: refuse}, clock).run_once() == 1
    job = await load_job(database, job_id)
    assert (job.state, job.attempts, job.last_error, job.finished_at) == (
        JobState.DEAD,
        1,
        "550 mailbox unavailable",
        clock.now,
    )


async def test_job_past_max_attempts_is_dead(database: Database, clock: FakeClock) -> None:
    [job_id] = await add_jobs(database, max_attempts=2)

    async def always_busy(job: OutboxJob, uow: UnitOfWork) -> None:
        raise TransientJobError("451 relay busy")

    w = worker(database, {RECORD_KIND: always_busy}, clock)
    assert await w.run_once() == 1
    assert (await load_job(database, job_id)).state is JobState.PENDING
    clock.advance(backoff(1))
    assert await w.run_once() == 1
    job = await load_job(database, job_id)
    assert (job.state, job.attempts, job.last_error) == (JobState.DEAD, 2, "451 relay busy")
    clock.advance(timedelta(days=1))
    assert await w.run_once() == 0  # dead stays dead


async def test_unknown_kind_is_dead_with_a_clear_reason(
    database: Database, clock: FakeClock
) -> None:
    [job_id] = await add_jobs(database, kind="test.nobody-handles-this")
    assert await worker(database, {RECORD_KIND: record_done}, clock).run_once() == 1
    job = await load_job(database, job_id)
    assert job.state is JobState.DEAD
    assert job.last_error == "no handler for job kind 'test.nobody-handles-this'"


async def test_unexpected_exception_is_transient_with_type_and_message(
    database: Database, clock: FakeClock
) -> None:
    [job_id] = await add_jobs(database)

    async def buggy(job: OutboxJob, uow: UnitOfWork) -> None:
        raise ValueError("template has no field 'x'")

    assert await worker(database, {RECORD_KIND: buggy}, clock).run_once() == 1
    job = await load_job(database, job_id)
    assert (job.state, job.last_error) == (
        JobState.PENDING,
        "ValueError: template has no field 'x'",
    )


async def test_failed_handler_writes_are_rolled_back(database: Database, clock: FakeClock) -> None:
    [job_id] = await add_jobs(database)

    async def write_then_fail(job: OutboxJob, uow: UnitOfWork) -> None:
        await record_done(job, uow)
        raise TransientJobError("failed after writing")

    assert await worker(database, {RECORD_KIND: write_then_fail}, clock).run_once() == 1
    assert (await load_job(database, job_id)).state is JobState.PENDING
    assert await completions(database) == {}


async def test_one_failing_job_does_not_stop_the_batch(
    database: Database, clock: FakeClock
) -> None:
    ids = await add_jobs(database, count=3)

    async def second_one_breaks(job: OutboxJob, uow: UnitOfWork) -> None:
        if job.id == ids[1]:
            raise RuntimeError("boom")
        await record_done(job, uow)

    assert await worker(database, {RECORD_KIND: second_one_breaks}, clock).run_once() == 3
    assert await completions(database) == {ids[0]: 1, ids[2]: 1}
    assert (await load_job(database, ids[1])).last_error == "RuntimeError: boom"


async def test_run_once_claims_at_most_one_batch(database: Database, clock: FakeClock) -> None:
    await add_jobs(database, count=5)
    w = worker(database, {RECORD_KIND: record_done}, clock, batch=2)
    assert [await w.run_once() for _ in range(4)] == [2, 2, 1, 0]
    assert sum((await completions(database)).values()) == 5


@pytest.mark.parametrize("late_outcome", ["success", "failure"])
async def test_lost_lease_is_not_overwritten_and_its_effect_is_discarded(
    database: Database, clock: FakeClock, late_outcome: str
) -> None:
    """A worker whose lease ran out while its handler worked, and whose job another worker
    claimed and finished meanwhile, must neither commit its effect nor touch the job."""
    [job_id] = await add_jobs(database)
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_first_time(job: OutboxJob, uow: UnitOfWork) -> None:
        if job.leased_by == "slow":
            started.set()
            await release.wait()
            if late_outcome == "failure":
                raise TransientJobError("late failure")
        await record_done(job, uow)

    handlers = {RECORD_KIND: slow_first_time}
    slow = worker(database, handlers, clock, name="slow")
    later = FakeClock(clock.now + LEASE + timedelta(seconds=1))
    fast = worker(database, handlers, later, name="fast")

    slow_run = asyncio.create_task(slow.run_once())
    await asyncio.wait_for(started.wait(), timeout=10)
    assert await fast.run_once() == 1  # the slow worker's lease has run out: reclaimed
    release.set()
    assert await asyncio.wait_for(slow_run, timeout=10) == 1

    job = await load_job(database, job_id)
    assert (job.state, job.attempts, job.leased_by, job.last_error) == (
        JobState.DONE,
        2,
        "fast",
        None,
    )
    [event] = await completion_events(database)
    assert event.payload["by"] == "fast"


async def test_expired_lease_nobody_reclaimed_still_completes(
    database: Database, clock: FakeClock
) -> None:
    [job_id] = await add_jobs(database)

    async def overrun(job: OutboxJob, uow: UnitOfWork) -> None:
        clock.advance(3 * LEASE)  # the handler outlived its lease; no other worker came
        await record_done(job, uow)

    assert await worker(database, {RECORD_KIND: overrun}, clock).run_once() == 1
    job = await load_job(database, job_id)
    assert (job.state, job.attempts) == (JobState.DONE, 1)
    assert await completions(database) == {job_id: 1}


async def test_lease_is_respected_until_it_expires(database: Database, clock: FakeClock) -> None:
    [job_id] = await add_jobs(database)
    async with database.uow() as uow:  # a worker claims and dies before doing anything
        await uow.outbox.claim("ghost", LEASE, clock.now)
        await uow.commit()
    w = worker(database, {RECORD_KIND: record_done}, clock)
    clock.advance(LEASE)
    assert await w.run_once() == 0  # lease_until is not yet in the past
    clock.advance(timedelta(milliseconds=1))
    assert await w.run_once() == 1
    job = await load_job(database, job_id)
    assert (job.state, job.attempts, job.leased_by) == (JobState.DONE, 2, "w1")


async def test_job_that_keeps_killing_workers_is_dead_after_max_attempts(
    database: Database, clock: FakeClock
) -> None:
    """A job whose every worker dies never reaches fail(); the claim counts it out instead."""
    [job_id] = await add_jobs(database, max_attempts=2)
    for ghost in ("ghost-1", "ghost-2"):
        async with database.uow() as uow:
            assert len(await uow.outbox.claim(ghost, LEASE, clock.now)) == 1
            await uow.commit()
        clock.advance(LEASE + timedelta(seconds=1))
    handled: list[int] = []

    async def must_not_run(job: OutboxJob, uow: UnitOfWork) -> None:
        handled.append(job.attempts)

    assert await worker(database, {RECORD_KIND: must_not_run}, clock).run_once() == 1
    job = await load_job(database, job_id)
    assert (job.state, job.attempts) == (JobState.DEAD, 3)
    assert job.last_error is not None
    assert job.last_error.startswith("attempt 2 of 2 never recorded an outcome")
    assert handled == []


async def test_build_outbox_worker_runs_jobs_of_the_database(database: Database) -> None:
    [job_id] = await add_jobs(database)
    built = build_outbox_worker(
        database,
        {RECORD_KIND: record_done},
        worker_id="built",
        lease=LEASE,
        poll_interval=0.1,
    )
    assert (built.worker_id, built.lease, built.poll_interval) == ("built", LEASE, 0.1)
    assert await built.run_once() == 1
    assert (await load_job(database, job_id)).state is JobState.DONE


@pytest.mark.parametrize("late_outcome", ["success", "failure"])
async def test_late_worker_leaves_a_job_another_worker_now_holds(
    database: Database, clock: FakeClock, late_outcome: str
) -> None:
    """The late worker comes back while the new lease holder is still working: it must not
    finish the job under the holder (success) nor hand it back to the queue (failure), or a
    third worker could start it too."""
    [job_id] = await add_jobs(database)
    started = {"slow": asyncio.Event(), "fast": asyncio.Event()}
    release = {"slow": asyncio.Event(), "fast": asyncio.Event()}

    async def wait_for_release(job: OutboxJob, uow: UnitOfWork) -> None:
        assert job.leased_by is not None
        started[job.leased_by].set()
        await release[job.leased_by].wait()
        if job.leased_by == "slow" and late_outcome == "failure":
            raise TransientJobError("late failure")
        await record_done(job, uow)

    handlers = {RECORD_KIND: wait_for_release}
    slow = worker(database, handlers, clock, name="slow")
    later = FakeClock(clock.now + LEASE + timedelta(seconds=1))
    fast = worker(database, handlers, later, name="fast")

    slow_run = asyncio.create_task(slow.run_once())
    await asyncio.wait_for(started["slow"].wait(), timeout=10)
    fast_run = asyncio.create_task(fast.run_once())
    await asyncio.wait_for(started["fast"].wait(), timeout=10)

    release["slow"].set()
    assert await asyncio.wait_for(slow_run, timeout=10) == 1
    job = await load_job(database, job_id)
    assert (job.state, job.attempts, job.leased_by, job.last_error) == (
        JobState.RUNNING,
        2,
        "fast",
        None,
    )
    assert job.lease_until == later.now + LEASE
    assert await completions(database) == {}

    release["fast"].set()
    assert await asyncio.wait_for(fast_run, timeout=10) == 1
    job = await load_job(database, job_id)
    assert (job.state, job.leased_by) == (JobState.DONE, "fast")
    [event] = await completion_events(database)
    assert event.payload["by"] == "fast"
