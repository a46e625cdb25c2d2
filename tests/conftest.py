"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL.

The `database` fixture is parametrized over both backends. The schema is built once per session
and backend by the real Alembic migrations; each test then starts from an empty schema (a copy of
the migrated SQLite file; TRUNCATE on PostgreSQL), so tests may commit freely, as the app does.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))

from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database, alembic_config
from emaildesk.db.tables import metadata
from support.postgres_cluster import PostgresCluster

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_migrated_url(pg_cluster: PostgresCluster) -> str:
    pg_cluster.create_database("emaildesk_test")
    url = pg_cluster.url("emaildesk_test")
    command.upgrade(alembic_config(url), "head")
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    command.upgrade(alembic_config(f"sqlite+aiosqlite:///{path}"), "head")
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty, migrated database of the parametrized backend."""
    if request.param == "sqlite":
        target = tmp_path / "emaildesk.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("pg_migrated_url")
    return url


def _truncate_statement() -> str:
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    return f"TRUNCATE {names} RESTART IDENTITY CASCADE"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    if not db.is_sqlite:
        async with db.engine.begin() as connection:
            await connection.execute(text(_truncate_statement()))
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "blobs")
