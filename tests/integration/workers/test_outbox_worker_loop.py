"""The outbox worker's loop (`run`): it works until stopped, stops promptly, starts at once when
woken, and survives a claim that fails (STYLE.md habit 7: never fail per loop)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from outbox_worker_support import RECORD_KIND, add_jobs, completions, load_job, record_done

from emaildesk.db.database import Database
from emaildesk.db.uow import SqlUnitOfWork
from emaildesk.domain.outbox import JobState
from emaildesk.workers import OutboxWorker

LONG_POLL = 30.0  # longer than any test waits: work that happens did not come from polling
DEADLINE = 10.0


@asynccontextmanager
async def running(worker: OutboxWorker) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=DEADLINE)


async def wait_for_completions(database: Database, expected: int) -> None:
    async with asyncio.timeout(DEADLINE):
        # Polling the database is the point: the effect is a committed row, not an event.
        while sum((await completions(database)).values()) < expected:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def make_worker(
    factory: Callable[[], SqlUnitOfWork], poll_interval: float = LONG_POLL
) -> OutboxWorker:
    return OutboxWorker(
        factory,
        {RECORD_KIND: record_done},
        worker_id="loop",
        lease=timedelta(seconds=30),
        poll_interval=poll_interval,
    )


async def test_run_processes_due_jobs_until_stopped(database: Database) -> None:
    ids = await add_jobs(database, count=3)
    async with running(make_worker(database.uow, poll_interval=0.05)):
        await wait_for_completions(database, 3)
    assert await completions(database) == dict.fromkeys(ids, 1)


async def test_run_exits_promptly_when_stop_is_set(database: Database) -> None:
    worker = make_worker(database.uow)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.2)  # now idle, in a 30 s poll wait
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, timeout=DEADLINE)
    assert time.monotonic() - started < 1.0


async def test_run_returns_at_once_when_stop_is_already_set(database: Database) -> None:
    [job_id] = await add_jobs(database)
    stop = asyncio.Event()
    stop.set()
    await asyncio.wait_for(make_worker(database.uow).run(stop), timeout=1.0)
    assert (await load_job(database, job_id)).state is JobState.PENDING  # not even claimed


async def test_wake_starts_work_without_waiting_for_the_poll(database: Database) -> None:
    worker = make_worker(database.uow)
    async with running(worker):
        await asyncio.sleep(0.2)  # idle, in a 30 s poll wait
        [job_id] = await add_jobs(database)
        await worker.wake()
        await wait_for_completions(database, 1)
    assert await completions(database) == {job_id: 1}


async def test_run_survives_a_failing_claim(database: Database) -> None:
    calls = 0

    def flaky_factory() -> SqlUnitOfWork:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database went away")
        return database.uow()

    [job_id] = await add_jobs(database)
    async with running(make_worker(flaky_factory, poll_interval=0.05)):
        await wait_for_completions(database, 1)
    assert calls > 1
    assert await completions(database) == {job_id: 1}
