#!/usr/bin/env python3
"""Sustained ingestion rate of `POST /contacts/email` (2 KB email contacts), against a bare
endpoint that parses the same JSON and inserts one row, measured in the same run.

Both servers run as their own uvicorn process on a loopback port, on the same kind of database
(SQLite in WAL mode with synchronous=FULL, emaildesk's embedded default, built by emaildesk's
own engine factory so durability is equal; or PostgreSQL with --database-url, one database per
server). The load generator keeps `--concurrency` requests in flight until `--requests` are
answered, after a warm-up, and reports requests/s and latency percentiles. The emaildesk run
does everything a real request does: bearer key lookup, the field table, tenant/org/category,
idempotency (INSERT … ON CONFLICT), the conversation row, the outbox job and the event, and
answers 202 only after the commit. Processing runs later in the worker (`--worker` runs it
during the measurement too).

    .venv/bin/python bench/uniphore_ingest.py                      # SQLite, 3000 requests
    .venv/bin/python bench/uniphore_ingest.py --requests 10000 --concurrency 32 --worker

Target (issue #6): emaildesk ≥ 30% of the bare rate. Exit status 1 when below.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

TARGET_RATIO = 0.30
KEY = "bench-analytics-key-0123456789"
CONTACT_BYTES = 2048
MESSAGES_PER_CONVERSATION = 5


# --- the two servers ----------------------------------------------------------------------------


def bare_app(database_url: str) -> Any:
    """Parse the JSON body and insert one row, durably, with emaildesk's engine settings."""
    from sqlalchemy import Column, Integer, MetaData, Table, Text, insert
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from emaildesk.db.engine import create_engine

    metadata = MetaData()
    rows = Table(
        "bare_contacts",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("body", Text, nullable=False),
    )
    engine = create_engine(database_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        yield
        await engine.dispose()

    async def ingest(request: Request) -> JSONResponse:
        data = json.loads(await request.body())
        async with engine.begin() as connection:
            await connection.execute(insert(rows).values(body=json.dumps(data)))
        return JSONResponse({"status": 202, "message": "accepted"}, status_code=202)

    return Starlette(routes=[Route("/contacts/email", ingest, methods=["POST"])], lifespan=lifespan)


async def prepare_emaildesk(database_url: str) -> None:
    """Migrate and create the tenant, organization, category and API key."""
    from emaildesk.db.database import Database
    from emaildesk.domain.analytics import (
        AnalyticsApiKey,
        AnalyticsCategory,
        AnalyticsOrganization,
        AnalyticsTenant,
    )
    from emaildesk.domain.auth import digest

    database = Database(database_url)
    try:
        await database.migrate()
        async with database.uow() as uow:
            tenant = await uow.analytics.add(AnalyticsTenant("Acme Corp"))
            assert tenant.id is not None
            organization = await uow.analytics.add(AnalyticsOrganization(tenant.id, "Sales"))
            assert organization.id is not None
            await uow.analytics.add(AnalyticsCategory(tenant.id, organization.id, "Leads"))
            await uow.analytics.add(AnalyticsApiKey(tenant.id, "bench", digest(KEY)))
            await uow.commit()
    finally:
        await database.dispose()


def serve(kind: str, port: int, database_url: str, data_dir: str, worker: bool) -> None:
    import uvicorn

    if kind == "bare":
        app = bare_app(database_url)
    else:
        from emaildesk.app import create_app
        from emaildesk.settings import Settings

        asyncio.run(prepare_emaildesk(database_url))
        settings = Settings(
            data_dir=Path(data_dir), database_url=database_url, worker_enabled=worker
        )
        app = create_app(settings, migrate=False)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=120,  # the load generator keeps its connections for the whole run
    )


# --- the load -----------------------------------------------------------------------------------


def contact(n: int) -> dict[str, Any]:
    """A 2 KB contact; five messages per conversation, alternating participant and agent."""
    inbound = n % 2 == 0
    body: dict[str, Any] = {
        "metadata": {"tenantName": "Acme Corp", "orgName": "Sales", "catName": "Leads"},
        "data": {
            "convId": f"bench-{n // MESSAGES_PER_CONVERSATION}",
            "msgId": str(uuid.uuid4()),
            "lang": "us-en",
            "sub": "Goods delivery status",
            "ts": 1_700_000_000_000 + n * 1000,
            "body": "",
            "agentId": "Agent1",
            "psId": "Participant1",
            "agentEmailId": "agent1@xyz.com",
            "psEmailId": "ps1@acmecorp.com",
            "from": "ps1@acmecorp.com" if inbound else "agent1@xyz.com",
            "to": ["agent1@xyz.com"] if inbound else ["ps1@acmecorp.com"],
        },
    }
    filler = CONTACT_BYTES - len(json.dumps(body))
    body["data"]["body"] = ("Where is my order? " * 200)[: max(filler, 0)]
    return body


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    failures: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, int(q / 100 * len(ordered) + 0.5) - 1))]

    def line(self) -> str:
        return (
            f"{self.name:<10} {self.rate:>9.1f} req/s   p50 {self.percentile(50) * 1000:>7.2f} ms"
            f"   p99 {self.percentile(99) * 1000:>7.2f} ms   mean "
            f"{statistics.fmean(self.latencies) * 1000:>7.2f} ms   failures {self.failures}"
        )


async def load(
    name: str, url: str, total: int, concurrency: int, warmup: int, offset: int
) -> Result:
    headers = {"Authorization": f"Bearer {KEY}"}
    bodies = [json.dumps(contact(offset + n)).encode() for n in range(warmup + total)]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        next_index = 0
        latencies: list[float] = []
        failures = 0
        errors: dict[str, int] = {}

        async def one(body: bytes, record: bool) -> None:
            nonlocal failures
            started = time.perf_counter()
            try:
                response = await client.post(
                    "/contacts/email",
                    content=body,
                    headers={**headers, "Content-Type": "application/json"},
                )
                status = str(response.status_code)
            except httpx.TransportError as exc:  # counted, named, and the run goes on
                status = type(exc).__name__
            if status != "202":
                failures += 1
                errors[status] = errors.get(status, 0) + 1
            if record:
                latencies.append(time.perf_counter() - started)

        async def runner(stop: int, record: bool) -> None:
            nonlocal next_index
            while next_index < stop:
                body = bodies[next_index]
                next_index += 1
                await one(body, record)

        await asyncio.gather(*(runner(warmup, False) for _ in range(concurrency)))
        started = time.perf_counter()
        await asyncio.gather(*(runner(warmup + total, True) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    if errors:
        print(f"{name}: failed requests by status or error: {errors}", file=sys.stderr)
    return Result(name, total, seconds, latencies, failures)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until_up(url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(600):
            if process.returncode is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                await client.get("/")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError("server did not start")


async def measure(
    kind: str, args: argparse.Namespace, workdir: Path, run: Callable[[str], Awaitable[Result]]
) -> Result:
    port = free_port()
    database_url = args.database_url.get(kind) or (
        f"sqlite+aiosqlite:///{workdir / kind / 'bench.sqlite3'}"
    )
    (workdir / kind).mkdir(parents=True, exist_ok=True)
    command = [sys.executable, __file__, "--serve", kind, "--port", str(port)]
    command += ["--db", database_url, "--data-dir", str(workdir / kind)]
    if args.worker:
        command.append("--worker")
    process = await asyncio.create_subprocess_exec(
        *command, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_until_up(url, process)
        return await run(url)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="uniphore-bench-") as tmp:
        workdir = Path(tmp)
        results: dict[str, Result] = {}
        for kind in ("bare", "emaildesk"):

            def run(url: str, kind: str = kind) -> Awaitable[Result]:
                return load(kind, url, args.requests, args.concurrency, args.warmup, 0)

            results[kind] = await measure(kind, args, workdir, run)
    bare, ours = results["bare"], results["emaildesk"]
    ratio = ours.rate / bare.rate
    print(
        f"POST /contacts/email, {CONTACT_BYTES}-byte contacts, {args.requests} requests, "
        f"{args.concurrency} in flight, {'PostgreSQL' if args.database_url else 'SQLite'}"
        f"{', worker running' if args.worker else ''}"
    )
    print(bare.line())
    print(ours.line())
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"emaildesk / bare = {ratio:.0%} ({verdict} the {TARGET_RATIO:.0%} target)")
    return 0 if ratio >= TARGET_RATIO and not (bare.failures or ours.failures) else 1


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--worker", action="store_true", help="process contacts meanwhile")
    parser.add_argument(
        "--database-url",
        nargs=2,
        metavar=("BARE_URL", "EMAILDESK_URL"),
        default=None,
        help="two empty PostgreSQL databases (default: SQLite files in a temp dir)",
    )
    parser.add_argument("--serve", choices=["bare", "emaildesk"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    urls = args.database_url
    args.database_url = {"bare": urls[0], "emaildesk": urls[1]} if urls else {}
    return args


if __name__ == "__main__":
    arguments = parse()
    if arguments.serve:
        serve(arguments.serve, arguments.port, arguments.db, arguments.data_dir, arguments.worker)
        sys.exit(0)
    sys.exit(asyncio.run(main(arguments)))
