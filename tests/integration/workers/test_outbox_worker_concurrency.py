"""Several outbox workers on one database never run a job twice (DESIGN.md: `FOR UPDATE SKIP
LOCKED` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` serializes them). Each job's effect commits with
its completion, so "done exactly once" is visible as exactly one effect row per job; handler calls
are counted too, because an effect outside the database (an email) is not protected by the
commit."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from outbox_worker_support import RECORD_KIND, add_jobs, completion_events, record_done

from emaildesk.db.database import Database
from emaildesk.domain.outbox import JobState, OutboxJob
from emaildesk.services.ports import UnitOfWork
from emaildesk.workers import OutboxWorker

JOBS = 200
WORKERS_ON_POSTGRES = 4
WORKERS_ON_SQLITE = 2


async def test_concurrent_workers_do_each_job_exactly_once(database: Database) -> None:
    ids = await add_jobs(database, count=JOBS)
    count = WORKERS_ON_SQLITE if database.is_sqlite else WORKERS_ON_POSTGRES

    handler_runs: Counter[int | None] = Counter()

    async def record_after_yielding(job: OutboxJob, uow: UnitOfWork) -> None:
        handler_runs[job.id] += 1
        await asyncio.sleep(0)  # let the other workers interleave with this one
        await record_done(job, uow)

    workers = [
        OutboxWorker(
            database.uow,
            {RECORD_KIND: record_after_yielding},
            worker_id=f"w{n}",
            lease=timedelta(minutes=5),
            batch_size=5,
        )
        for n in range(count)
    ]

    async def drain(worker: OutboxWorker) -> None:
        while await worker.run_once():
            pass

    await asyncio.wait_for(asyncio.gather(*(drain(w) for w in workers)), timeout=120)

    # Claims are exclusive: no handler ran twice (the lease check would have kept a second
    # run's effect out of the database, but an email would still have been sent twice).
    assert handler_runs == dict.fromkeys(ids, 1)
    events = await completion_events(database)
    assert Counter(e.aggregate_id for e in events) == dict.fromkeys(ids, 1)
    async with database.uow() as uow:
        done = await uow.outbox.in_state(JobState.DONE, limit=JOBS + 1)
    assert sorted(j.id for j in done if j.id is not None) == sorted(ids)
    assert {j.attempts for j in done} == {1}  # no job was claimed twice
    # The test means something only if the workers really shared the queue.
    assert len({e.payload["by"] for e in events}) > 1
