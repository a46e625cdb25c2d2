"""The event log and the outbox queue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from emaildesk.db import tables as t
from emaildesk.db.repositories.base import SqlRepository
from emaildesk.domain.events import Event
from emaildesk.domain.outbox import JobState, OutboxJob


class SqlEventLog(SqlRepository):
    async def append(self, event: Event) -> Event:
        return await self.add(event)

    async def since(self, after_id: int, limit: int = 500) -> list[Event]:
        """Events committed after `after_id`, oldest first (resume after a reconnect)."""
        stmt = select(Event).where(t.events.c.id > after_id).order_by(t.events.c.id).limit(limit)
        return list(await self.session.scalars(stmt))


class SqlOutbox(SqlRepository):
    async def enqueue(self, job: OutboxJob) -> OutboxJob:
        return await self.add(job)

    async def get(self, job_id: int) -> OutboxJob | None:
        return await self.session.get(OutboxJob, job_id)

    async def claim(
        self,
        worker: str,
        lease: timedelta,
        now: datetime,
        limit: int = 1,
        kinds: list[str] | None = None,
    ) -> list[OutboxJob]:
        """Lease due jobs: pending ones whose time has come, and running ones whose lease ran
        out (their worker died). `FOR UPDATE SKIP LOCKED` on PostgreSQL lets many workers claim
        without waiting on each other; SQLite ignores it (its writer lock serializes claims)."""
        c = t.outbox_jobs.c
        due = or_(
            and_(c.state == JobState.PENDING, c.run_after <= now),
            and_(c.state == JobState.RUNNING, c.lease_until < now),
        )
        stmt = select(OutboxJob).where(due)
        if kinds:
            stmt = stmt.where(c.kind.in_(kinds))
        stmt = stmt.order_by(c.run_after, c.id).limit(limit).with_for_update(skip_locked=True)
        jobs = list(await self.session.scalars(stmt))
        for job in jobs:
            job.claim(worker, lease, now)
        await self.session.flush()
        return jobs

    async def lock(self, job_id: int) -> OutboxJob | None:
        """Re-read a job with a row lock (PostgreSQL `FOR UPDATE`; SQLite's writer lock is
        already held), discarding any stale copy in the session: how a worker checks it still
        owns the job before recording its outcome."""
        return await self.session.get(
            OutboxJob, job_id, with_for_update=True, populate_existing=True
        )

    async def in_state(self, state: JobState, limit: int = 100) -> list[OutboxJob]:
        stmt = select(OutboxJob).where(t.outbox_jobs.c.state == state)
        return list(await self.session.scalars(stmt.order_by(t.outbox_jobs.c.id).limit(limit)))
