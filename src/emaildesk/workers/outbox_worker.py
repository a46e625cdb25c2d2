"""The outbox worker: claim due jobs, run each kind's handler, record the outcome.

DESIGN.md "Events, outbox, workers". One iteration (`run_once`) is:

1. **Claim** a batch in one short transaction and commit it. The lease is durable before any
   effect starts, so a worker that dies mid-job leaves the job RUNNING with a lease that runs out;
   the claim query (`SqlOutbox.claim`) hands such jobs to the next worker that asks.
2. **Process** each job in its own unit of work: the handler does its effect (writing, if it
   writes, through the unit of work it is given), then the job is re-loaded, checked to be still
   ours, marked done, and everything commits together. Database effects are therefore
   exactly-once; effects outside the database (an SMTP send) are at-least-once and must be
   idempotent, which is why an outbound Message-ID is fixed when the job is created.
3. On failure the handler's writes are rolled back and the outcome is recorded in a fresh unit of
   work: retry with backoff, or dead (permanent failure, attempts used up, no handler for the
   kind). STYLE.md habit 7: a job fails alone; the loop never does.

Handlers that talk to the outside world should do so before their first database statement: on
SQLite every transaction holds the database's single write lock from its first statement
(`BEGIN IMMEDIATE`, see db/engine.py), and on PostgreSQL an open transaction would hold a
connection idle while the network is slow.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from emaildesk.db.database import Database
from emaildesk.domain.clock import utcnow
from emaildesk.domain.outbox import JobState, OutboxJob
from emaildesk.services.ports import UnitOfWork
from emaildesk.workers.errors import PermanentJobError, TransientJobError

logger = logging.getLogger(__name__)

JobHandler = Callable[[OutboxJob, UnitOfWork], Awaitable[None]]
"""Does one job's effect. Raise `TransientJobError` to retry, `PermanentJobError` to give up;
write to the database only through the unit of work passed in (the worker commits it)."""

JobHandlers = Mapping[str, JobHandler]
"""The registry: job kind → handler."""

DEFAULT_LEASE = timedelta(minutes=5)  # longer than any SMTP transaction's timeouts add up to
DEFAULT_POLL_INTERVAL = 1.0  # seconds idle between claims when nobody calls `wake()`
DEFAULT_BATCH_SIZE = 10
MAX_WORKER_ID_LENGTH = 128  # outbox_jobs.leased_by is String(128) (db/tables.py)

UnitOfWorkSource = Callable[[], UnitOfWork]


def default_worker_id() -> str:
    """`host:pid:random`: unique per process start, so a restarted worker that happens to get
    the same pid is not mistaken for the one that held the old leases."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[-MAX_WORKER_ID_LENGTH:]


@dataclass(frozen=True)
class _Claim:
    """A job this worker leased. `attempt` (the attempts count our claim set) together with the
    worker id names the lease: if either differs when we come back, someone re-leased the job."""

    job_id: int
    attempt: int
    job: OutboxJob  # the snapshot handed to the handler (detached from the claim's session)


@dataclass(frozen=True)
class _Failure:
    reason: str
    permanent: bool


class OutboxWorker:
    """Claims and runs outbox jobs; any number may run at once (see `_reload_if_ours`).

    DESIGN.md plans a single in-process worker on SQLite; several are still correct there (every
    transaction is serialized by the database's write lock), only not faster.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkSource,
        handlers: JobHandlers,
        *,
        worker_id: str,
        lease: timedelta = DEFAULT_LEASE,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        batch_size: int = DEFAULT_BATCH_SIZE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if not worker_id or len(worker_id) > MAX_WORKER_ID_LENGTH:
            raise ValueError(f"worker_id must be 1..{MAX_WORKER_ID_LENGTH} characters")
        if lease <= timedelta(0):
            raise ValueError("lease must be positive")
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._uow_factory = uow_factory
        self._handlers = dict(handlers)
        self.worker_id = worker_id
        self.lease = lease
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self._clock = clock
        self._wakeup = asyncio.Event()

    async def wake(self) -> None:
        """Start the next claim now instead of after the poll interval (an in-process enqueuer
        calls this after its commit; a job enqueued elsewhere is found by the poll)."""
        self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and process until `stop` is set; idle for `poll_interval` when nothing is due.

        The batch in hand is finished before stopping (it is bounded by `batch_size`). A caller
        that cannot wait may cancel the task instead: the job in progress rolls back and is
        retried once its lease runs out, exactly as after a crash.
        """
        while not stop.is_set():
            # Cleared before the claim, so a wake() arriving while we work is not lost.
            self._wakeup.clear()
            try:
                claimed = await self.run_once()
            except Exception:  # the loop boundary: the database may be away; try again later
                logger.warning(
                    "outbox claim failed",
                    exc_info=True,
                    extra={"fields": {"worker": self.worker_id}},
                )
                claimed = 0
            if claimed == 0:
                await self._idle(stop)

    async def run_once(self) -> int:
        """Claim one batch and process it; returns how many jobs were claimed (0: nothing due).

        A claim failure propagates (nothing was leased); a job's failure never does.
        """
        claimed, runnable = await self._claim()
        for claim in runnable:
            try:
                await self._process(claim)
            except Exception:  # the per-item boundary: even recording the outcome failed
                # The job stays RUNNING under our lease and is retried when the lease runs out.
                logger.error(
                    "outbox job outcome not recorded; it will be retried after its lease",
                    exc_info=True,
                    extra={"fields": self._fields(claim)},
                )
        return claimed

    async def _idle(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(self._wakeup.wait())]
        try:
            await asyncio.wait(
                waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def _claim(self) -> tuple[int, list[_Claim]]:
        """Lease a batch and commit at once, so the lease is durable before any effect runs.

        A job reclaimed more often than `max_attempts` allows has crashed its workers every time
        (it never reached `fail()`, which would have ended it): it is declared dead here instead
        of being handed to yet another worker to crash — Mailman's shunt queue, bounded.
        """
        async with self._uow_factory() as uow:
            now = self._clock()
            jobs = await uow.outbox.claim(self.worker_id, self.lease, now, limit=self.batch_size)
            runnable: list[_Claim] = []
            for job in jobs:
                if job.id is None:  # a claimed row always has its id; this narrows the type
                    raise RuntimeError("claimed an outbox job without an id")
                claim = _Claim(job_id=job.id, attempt=job.attempts, job=job)
                if job.attempts > job.max_attempts:
                    job.fail(
                        f"attempt {job.attempts - 1} of {job.max_attempts} never recorded an "
                        "outcome (its worker stopped and the lease expired); no attempts left",
                        permanent=True,
                        now=now,
                    )
                    logger.error("outbox job dead", extra={"fields": self._fields(claim)})
                else:
                    runnable.append(claim)
            await uow.commit()
        return len(jobs), runnable

    async def _process(self, claim: _Claim) -> None:
        handler = self._handlers.get(claim.job.kind)
        failure: _Failure | None
        if handler is None:
            failure = _Failure(f"no handler for job kind '{claim.job.kind}'", permanent=True)
        else:
            failure = await self._attempt(claim, handler)
        if failure is not None:
            await self._record_failure(claim, failure)

    async def _attempt(self, claim: _Claim, handler: JobHandler) -> _Failure | None:
        """Run the handler and, in the same transaction, mark the job done if it is still ours.

        Returns the failure to record, or None when there is nothing more to do (done, or the
        job was no longer ours and our writes were discarded).
        """
        try:
            async with self._uow_factory() as uow:
                await handler(claim.job, uow)
                job = await self._reload_if_ours(uow, claim)
                if job is None:
                    return None  # leaving the block rolls the handler's writes back
                job.succeed(self._clock())
                await uow.commit()
        except TransientJobError as exc:
            return _Failure(exc.reason or type(exc).__name__, permanent=False)
        except PermanentJobError as exc:
            return _Failure(exc.reason or type(exc).__name__, permanent=True)
        except Exception as exc:  # a handler's unforeseen error: transient (workers/errors.py)
            # Log the type only: an exception's text may quote the payload (STYLE.md habit 15);
            # the full text is kept in the job's last_error, where operators look.
            logger.debug("outbox handler traceback", exc_info=True)
            return _Failure(f"{type(exc).__name__}: {exc}", permanent=False)
        logger.info("outbox job done", extra={"fields": self._fields(claim)})
        return None

    async def _record_failure(self, claim: _Claim, failure: _Failure) -> None:
        """Retry later or dead, in a fresh transaction (the handler's one may be broken)."""
        async with self._uow_factory() as uow:
            job = await self._reload_if_ours(uow, claim)
            if job is None:
                return
            job.fail(failure.reason, permanent=failure.permanent, now=self._clock())
            await uow.commit()
        fields = {**self._fields(claim), "state": job.state.value}
        if job.state is JobState.DEAD:
            logger.error("outbox job dead", extra={"fields": fields})
        else:
            fields["run_after"] = job.run_after.isoformat()
            logger.warning("outbox job will be retried", extra={"fields": fields})

    async def _reload_if_ours(self, uow: UnitOfWork, claim: _Claim) -> OutboxJob | None:
        """The job, locked for the rest of this transaction, if our lease still holds it.

        Why a lock and not just a re-read: our lease may have run out while the handler worked,
        and another worker may have claimed the job (RUNNING → RUNNING, attempts + 1). Were we
        to read the row unlocked and write it later, that worker could claim *and complete* the
        job in between, and both effects would commit. With the row locked until our commit:

        - PostgreSQL (READ COMMITTED): `SELECT … FOR UPDATE` waits for any claim in flight to
          commit and then returns the newest row version. Either it is still ours, and no claim
          can take it before we commit (claims use `SKIP LOCKED`, so they pass over the locked
          row, and after our commit it is no longer claimable), or another worker's lease is on
          it, and we leave without writing. `populate_existing` makes sure we look at that
          newest version even if the handler loaded the job earlier in this session.
        - SQLite ignores `FOR UPDATE`, but every transaction begins `IMMEDIATE`, holding the
          database's only write lock from its first statement to its commit: what we read here
          cannot change before our commit, for the same reason.

        A lease that ran out with nobody claiming the job in the meantime is still ours: the
        lock, not the clock, decides, and completing such a job is exactly right.
        """
        job = await uow.outbox.lock(claim.job_id)
        if (
            job is None
            or job.state is not JobState.RUNNING
            or job.leased_by != self.worker_id
            or job.attempts != claim.attempt
        ):
            logger.warning(
                "outbox job lease lost; outcome discarded",
                extra={
                    "fields": {
                        **self._fields(claim),
                        "now_state": None if job is None else job.state.value,
                        "now_leased_by": None if job is None else job.leased_by,
                        "now_attempt": None if job is None else job.attempts,
                    }
                },
            )
            return None
        return job

    def _fields(self, claim: _Claim) -> dict[str, object]:
        """What a log line may say about a job: ids and its kind, never its payload."""
        return {
            "job_id": claim.job_id,
            "kind": claim.job.kind,
            "attempt": claim.attempt,
            "worker": self.worker_id,
        }


def build_outbox_worker(
    database: Database,
    handlers: JobHandlers,
    *,
    worker_id: str,
    lease: timedelta = DEFAULT_LEASE,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> OutboxWorker:
    """What the composition root calls (app lifespan, `emaildesk worker`)."""
    return OutboxWorker(
        database.uow,
        handlers,
        worker_id=worker_id,
        lease=lease,
        poll_interval=poll_interval,
        batch_size=batch_size,
    )
