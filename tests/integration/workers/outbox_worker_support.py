"""Shared by the outbox worker tests and the crash worker script: a test-only job kind whose
effect is an event row written through the job's unit of work, so the effect commits (or not)
together with the job's completion and can be counted afterwards."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from emaildesk.db.database import Database
from emaildesk.domain.events import Event
from emaildesk.domain.outbox import OutboxJob
from emaildesk.services.outbox import enqueue
from emaildesk.services.ports import UnitOfWork

RECORD_KIND = "test.record"
DONE_EVENT = "TestJobDone"


async def record_done(job: OutboxJob, uow: UnitOfWork) -> None:
    """The effect: one event per completion, naming the worker that held the lease."""
    assert job.id is not None
    await uow.events.append(
        Event(
            kind=DONE_EVENT,
            aggregate_type="job",
            aggregate_id=job.id,
            payload={"by": job.leased_by, "attempt": job.attempts},
        )
    )


async def completions(database: Database) -> Counter[int]:
    """How many completion effects committed, per job id."""
    async with database.uow() as uow:
        events = await uow.events.since(0, limit=10_000)
    return Counter(e.aggregate_id for e in events if e.kind == DONE_EVENT)


async def completion_events(database: Database) -> list[Event]:
    async with database.uow() as uow:
        events = await uow.events.since(0, limit=10_000)
    return [e for e in events if e.kind == DONE_EVENT]


async def add_jobs(
    database: Database, count: int = 1, kind: str = RECORD_KIND, **options: Any
) -> list[int]:
    ids = []
    async with database.uow() as uow:
        for n in range(count):
            job = await enqueue(uow, kind, {"n": n}, **options)
            assert job.id is not None
            ids.append(job.id)
        await uow.commit()
    return ids


async def load_job(database: Database, job_id: int) -> OutboxJob:
    async with database.uow() as uow:
        job = await uow.outbox.get(job_id)
    assert job is not None
    return job


@dataclass
class FakeClock:
    """A clock the test moves by hand, so backoff and leases need no real waiting."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
