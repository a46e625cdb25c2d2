"""An outbox worker process for the crash test: its handler announces on stdout that it started
(`started <job id>`) and then hangs, so the test can SIGKILL the process in the middle of a job.

Usage: crash_worker.py DATABASE_URL LEASE_SECONDS WORKER_ID
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from outbox_worker_support import RECORD_KIND, record_done

from emaildesk.db.database import Database
from emaildesk.domain.outbox import OutboxJob
from emaildesk.services.ports import UnitOfWork
from emaildesk.workers import OutboxWorker

STARTED = "started"


async def main(database_url: str, lease: timedelta, worker_id: str) -> None:
    database = Database(database_url)

    async def announce_then_hang(job: OutboxJob, uow: UnitOfWork) -> None:
        print(STARTED, job.id, flush=True)
        await asyncio.Event().wait()  # the test kills us here
        await record_done(job, uow)  # never reached: the effect must not happen

    worker = OutboxWorker(
        database.uow,
        {RECORD_KIND: announce_then_hang},
        worker_id=worker_id,
        lease=lease,
        poll_interval=0.05,
    )
    await worker.run(asyncio.Event())


if __name__ == "__main__":
    url, lease_seconds, name = sys.argv[1:4]
    asyncio.run(main(url, timedelta(seconds=float(lease_seconds)), name))
