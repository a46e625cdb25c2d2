"""The export connector against emaildesk's own ingestion API, over a real socket in the same
test: a finished case posted one email per call, retried through the outbox after the receiver
failed, idempotent on repeat, and measured like any other conversation; and the CLI backfill."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send
from uniphore_support import EMAIL, MARIA, auth, finished_case

from emaildesk.api.uniphore.client import HttpContactSender
from emaildesk.app import build_worker, job_handlers
from emaildesk.cli_analytics import backfill
from emaildesk.db.database import Database
from emaildesk.domain.clock import utcnow
from emaildesk.domain.outbox import JobState, OutboxJob
from emaildesk.services.analytics_export import (
    EXPORT_JOB,
    enqueue_case_export,
    message_id_of,
)
from emaildesk.settings import Settings
from emaildesk.workers import OutboxWorker
from support.live_server import live_client

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


class FailingFirst:
    """The receiver, failing its first `failures` contact posts with 503 (as if restarting)."""

    def __init__(self, app: FastAPI, failures: int) -> None:
        self.app = app
        self.failures = failures
        self.posts = 0
        self.http: httpx.AsyncClient | None = None  # a client of the served receiver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == EMAIL and scope["method"] == "POST":
            self.posts += 1
            if self.posts <= self.failures:
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b"restarting"})
                return
        await self.app(scope, receive, send)


@pytest.fixture
async def receiver(demo_app: FastAPI, demo_database: Database) -> AsyncIterator[FailingFirst]:
    """The demo app served with a failing front, and the export pointed at it."""
    front = FailingFirst(demo_app, failures=1)
    async with live_client(front) as http:
        async with demo_database.uow() as uow:
            settings = await uow.analytics_export.settings()
            assert settings is not None
            settings.url = f"{http.base_url}{EMAIL}"
            await uow.commit()
        front.http = http
        yield front


def worker_at(app: FastAPI, now: datetime) -> OutboxWorker:
    runtime = app.state.runtime
    return OutboxWorker(
        runtime.database.uow, job_handlers(runtime), worker_id="t", clock=lambda: now
    )


async def jobs_of(database: Database, kind: str) -> list[OutboxJob]:
    async with database.uow() as uow:
        found = []
        for state in JobState:
            found += [j for j in await uow.outbox.in_state(state) if j.kind == kind]
    return sorted(found, key=lambda j: j.id or 0)


async def drain(app: FastAPI) -> None:
    worker = build_worker(app.state.runtime)
    while await worker.run_once():
        pass


async def test_connector_posts_a_finished_case_and_retries_after_the_receiver_failed(
    demo_app: FastAPI, demo_database: Database, receiver: FailingFirst
) -> None:
    case = await finished_case(demo_database, START)
    async with demo_database.uow() as uow:
        queued = await enqueue_case_export(uow, case.case_id)
        await uow.commit()
    assert [j.payload for j in queued] == [
        {"activity_id": case.inbound_id},
        {"activity_id": case.outbound_id},
    ]

    now = utcnow()
    await worker_at(demo_app, now).run_once()  # first post: 503; second: 202
    first, second = await jobs_of(demo_database, EXPORT_JOB)
    assert first.state is JobState.PENDING and first.attempts == 1
    assert "503" in (first.last_error or "")
    assert second.state is JobState.DONE

    await worker_at(demo_app, now + timedelta(minutes=5)).run_once()  # the retry, after backoff
    first, second = await jobs_of(demo_database, EXPORT_JOB)
    assert (first.state, first.attempts) == (JobState.DONE, 2)
    assert receiver.posts == 3

    await drain(demo_app)  # the receiver processes the two contacts
    http = receiver.http
    assert http is not None
    view = (await http.get(f"{EMAIL}/{case.case_id}", headers=auth())).json()
    assert (view["orgName"], view["catName"]) == ("Support", "Email")  # the Service route
    assert [m["direction"] for m in view["messages"]] == ["participant", "agent"]
    assert view["firstResponseMs"] == 300_000
    assert view["durationMs"] == 300_000
    assert view["participants"] == [MARIA]
    assert view["agents"] == ["agent1"]
    inbound, outbound = view["messages"]
    assert inbound["msgId"] == message_id_of(str(case.case_id), case.inbound_id)
    assert inbound["ts"] == int(START.timestamp() * 1000)
    assert inbound["body"].split() == ["Where", "is", "my", "order", "?"]
    assert inbound["agentEmailId"] == "support@example.com"
    assert len(inbound["sub"]) == 78
    assert outbound["from"] == "support@example.com" and outbound["to"] == [MARIA]
    assert outbound["metadataMap"] == {"emaildeskActivityId": str(case.outbound_id)}


async def test_export_is_idempotent_at_the_receiver(
    demo_app: FastAPI, demo_database: Database, receiver: FailingFirst
) -> None:
    receiver.failures = 0
    case = await finished_case(demo_database, START)
    for _ in range(2):
        async with demo_database.uow() as uow:
            await enqueue_case_export(uow, case.case_id)
            await uow.commit()
        await drain(demo_app)
    assert [j.state for j in await jobs_of(demo_database, EXPORT_JOB)] == [JobState.DONE] * 4
    http = receiver.http
    assert http is not None
    view = (await http.get(f"{EMAIL}/{case.case_id}", headers=auth())).json()
    assert view["messageCount"]["total"] == 2


async def test_refused_export_fails_permanently(
    demo_app: FastAPI, demo_database: Database, receiver: FailingFirst
) -> None:
    receiver.failures = 0
    async with demo_database.uow() as uow:
        settings = await uow.analytics_export.settings()
        assert settings is not None
        settings.token = "not-the-key"  # the receiver answers 401: retrying cannot help
        await uow.commit()
    case = await finished_case(demo_database, START)
    async with demo_database.uow() as uow:
        await enqueue_case_export(uow, case.case_id)
        await uow.commit()
    await drain(demo_app)
    states = [(j.state, j.attempts) for j in await jobs_of(demo_database, EXPORT_JOB)]
    assert states == [(JobState.DEAD, 1), (JobState.DEAD, 1)]
    assert "401" in ((await jobs_of(demo_database, EXPORT_JOB))[0].last_error or "")


async def test_backfill_posts_since_a_date_and_defers_failures_to_the_outbox(
    demo_app: FastAPI, demo_database: Database, receiver: FailingFirst
) -> None:
    await finished_case(demo_database, START - timedelta(days=30))  # before --since
    recent = await finished_case(demo_database, START)
    progress_out = io.StringIO()
    progress = await backfill(demo_database, HttpContactSender(), START, progress_out)
    assert (progress.total, progress.sent, progress.deferred) == (2, 1, 1)
    assert "export [" in progress_out.getvalue() and "2/2" in progress_out.getvalue()
    (deferred,) = await jobs_of(demo_database, EXPORT_JOB)
    assert deferred.payload == {"activity_id": recent.inbound_id}  # the 503, left for the outbox
    await drain(demo_app)
    http = receiver.http
    assert http is not None
    view = (await http.get(f"{EMAIL}/{recent.case_id}", headers=auth())).json()
    assert view["messageCount"]["total"] == 2


async def test_cli_export_since_shows_progress_and_exits_0(
    demo_database: Database, receiver: FailingFirst, demo_settings: Settings, database_url: str
) -> None:
    receiver.failures = 0
    await finished_case(demo_database, START)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emaildesk.cli",
        "--data-dir",
        str(demo_settings.data_dir),
        "--database-url",
        database_url,
        "analytics",
        "export",
        "--since",
        "2024-03-01",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert "exported 2 of 2 emails since 2024-03-01T00:00:00+00:00" in stdout.decode()
    assert "export [" in stderr.decode() and "2/2" in stderr.decode()
