"""The app's lifespan runs the outbox worker: enqueued work is processed while it serves."""

from __future__ import annotations

import asyncio
from pathlib import Path

from emaildesk.app import create_app
from emaildesk.db.database import Database
from emaildesk.domain.outbox import JobState
from emaildesk.services.outbox import enqueue
from emaildesk.settings import Settings
from support.live_server import live_client


async def test_serving_app_processes_outbox_jobs(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url, worker_poll_seconds=0.05)
    async with database.uow() as uow:
        job = await enqueue(uow, "no.such.kind", {"n": 1})
        await uow.commit()
    async with live_client(create_app(settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
        for _ in range(200):
            async with database.uow() as uow:
                seen = await uow.outbox.get(job.id)  # type: ignore[arg-type]
            if seen is not None and seen.state is JobState.DEAD:
                break
            await asyncio.sleep(0.02)
    assert seen is not None
    assert seen.state is JobState.DEAD  # an unknown kind fails visibly, never silently
    assert "no.such.kind" in (seen.last_error or "")


async def test_worker_can_be_disabled(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, worker_enabled=False, worker_poll_seconds=0.05
    )
    async with database.uow() as uow:
        job = await enqueue(uow, "no.such.kind", {})
        await uow.commit()
    async with live_client(create_app(settings)) as client:
        await client.get("/healthz")
        await asyncio.sleep(0.3)
    async with database.uow() as uow:
        seen = await uow.outbox.get(job.id)  # type: ignore[arg-type]
    assert seen is not None and seen.state is JobState.PENDING
