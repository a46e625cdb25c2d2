"""`emaildesk worker`: a process that runs only the outbox workers, for scale-out beside any
number of `serve` processes on one PostgreSQL (DESIGN.md "Scale-out"). Stops on SIGTERM/SIGINT,
finishing the batch in hand."""

from __future__ import annotations

import asyncio
import logging
import signal

from emaildesk.app import build_runtime, running_worker
from emaildesk.logs import configure_logging
from emaildesk.settings import Settings

log = logging.getLogger(__name__)


async def run_worker(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_json)
    runtime = build_runtime(settings.model_copy(update={"worker_enabled": True}))
    await runtime.database.migrate()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        async with running_worker(runtime) as worker:
            assert worker is not None
            log.info("worker started", extra={"fields": {"worker": worker.worker_id}})
            await stopping.wait()
    finally:
        await runtime.database.dispose()
