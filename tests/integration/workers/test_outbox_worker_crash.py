"""The issue's acceptance test: kill a worker mid-job; the job is retried and done once.

The worker runs in its own process (crash_worker.py) and is killed with SIGKILL while its
handler runs, so nothing in it gets to clean up: what survives is only what it committed (the
lease). A second worker then finds the job once the lease has run out, and finishes it.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta
from pathlib import Path

from outbox_worker_support import (
    RECORD_KIND,
    FakeClock,
    add_jobs,
    completions,
    load_job,
    record_done,
)

from emaildesk.db.database import Database
from emaildesk.domain.clock import utcnow
from emaildesk.domain.outbox import JobState
from emaildesk.workers import OutboxWorker

CRASH_WORKER = Path(__file__).with_name("crash_worker.py")
LEASE = timedelta(seconds=60)  # long: the rescuing worker's clock is moved past it, no waiting
START_DEADLINE = 60.0  # seconds for the subprocess to import, connect, claim and start


async def wait_until_started(process: asyncio.subprocess.Process) -> str:
    """The `started <job id>` line; everything else the process said goes into the failure."""
    assert process.stdout is not None
    said: list[str] = []
    async with asyncio.timeout(START_DEADLINE):
        while line := (await process.stdout.readline()).decode():
            if line.startswith("started "):
                return line.split()[1]
            said.append(line)
    raise AssertionError("crash worker exited before its job started:\n" + "".join(said))


async def test_killed_worker_job_is_retried_and_done_once(
    database: Database, database_url: str
) -> None:
    [job_id] = await add_jobs(database)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CRASH_WORKER),
        database_url,
        str(LEASE.total_seconds()),
        "doomed",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert await wait_until_started(process) == str(job_id)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), timeout=30)
    assert process.returncode == -signal.SIGKILL

    # What the dead worker left: its lease, and no effect.
    job = await load_job(database, job_id)
    assert (job.state, job.attempts, job.leased_by) == (JobState.RUNNING, 1, "doomed")
    assert job.lease_until is not None
    assert await completions(database) == {}

    clock = FakeClock(utcnow())
    rescuer = OutboxWorker(
        database.uow, {RECORD_KIND: record_done}, worker_id="rescuer", lease=LEASE, clock=clock
    )
    assert await rescuer.run_once() == 0  # the lease still holds
    clock.now = job.lease_until + timedelta(seconds=1)
    assert await rescuer.run_once() == 1

    job = await load_job(database, job_id)
    assert (job.state, job.attempts, job.leased_by) == (JobState.DONE, 2, "rescuer")
    assert await completions(database) == {job_id: 1}
    assert await rescuer.run_once() == 0  # and it is not done again
