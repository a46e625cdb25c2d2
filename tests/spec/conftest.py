"""Fixtures for the spec conformance tests: the bundled demo site in a fresh database (both
backends), served by the real app over a real loopback socket.

Users, passwords, customers and aliases are those of src/emaildesk/demo/site.toml (README "Demo
site"); passwords are hashed with cheap Argon2 parameters so logins stay fast.

Speed: the demo site is applied ONCE per session and backend into a template; each test gets its
own copy of it (a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL), so no test
pays for migrations or the site apply. Inside tests/spec, `database_url` and `database` are that
copy (they override the root conftest's empty database), and `demo_database` is `database`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from alembic import command
from fastapi import FastAPI

from emaildesk.app import build_runtime, create_app
from emaildesk.cli import DEMO_SITE
from emaildesk.db.database import Database, alembic_config
from emaildesk.services.passwords import Argon2PasswordHasher
from emaildesk.services.site import apply_site
from emaildesk.settings import Settings
from emaildesk.sitefile import load_site_file
from support.live_server import live_client
from support.postgres_cluster import PostgresCluster

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
PG_TEMPLATE = "emaildesk_demo_template"


async def _apply_demo(url: str) -> None:
    database = Database(url)
    try:
        async with database.uow() as uow:
            spec = load_site_file(DEMO_SITE, self_contained=True)
            await apply_site(uow, spec, Argon2PasswordHasher.for_tests())
            await uow.commit()
    finally:
        await database.dispose()


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to completion from sync code, even if a loop is running (own thread)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def sqlite_demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    shutil.copyfile(sqlite_template, path)
    _run(_apply_demo(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_demo_template(pg_cluster: PostgresCluster) -> str:
    pg_cluster.create_database(PG_TEMPLATE)
    url = pg_cluster.url(PG_TEMPLATE)
    command.upgrade(alembic_config(url), "head")
    _run(_apply_demo(url))
    return PG_TEMPLATE


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A private copy of the demo-site database of the parametrized backend."""
    if request.param == "sqlite":
        target = tmp_path / "emaildesk.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_demo_template"), target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    template: str = request.getfixturevalue("pg_demo_template")
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    name = f"spec_{uuid.uuid4().hex[:12]}"
    admin = cluster.dsn("postgres")
    _run(_admin(admin, f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield cluster.url(name)
    finally:
        _run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def demo_database(database: Database) -> Database:
    """The test's database with the demo site applied (the same object as `database`)."""
    return database


@pytest.fixture
def demo_settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, worker_enabled=False)


@pytest.fixture
async def demo_app(demo_database: Database, demo_settings: Settings) -> FastAPI:
    runtime = build_runtime(demo_settings, hasher=Argon2PasswordHasher.for_tests())
    return create_app(demo_settings, runtime=runtime, migrate=False)


@pytest.fixture
async def client(demo_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the demo site over a real socket."""
    async with live_client(demo_app) as http:
        yield http
