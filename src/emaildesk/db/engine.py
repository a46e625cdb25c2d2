"""Engine construction for the two supported backends.

SQLite (embedded default): WAL so readers never wait for the writer; `synchronous=FULL` so an
acknowledged message survives power loss, not only a crash (DESIGN.md "Data"); foreign keys on;
and every transaction starts with `BEGIN IMMEDIATE`, because the driver's deferred BEGIN lets two
read-then-write transactions deadlock on the lock upgrade (SQLITE_BUSY with no retry).
PostgreSQL: asyncpg, a bounded pool, and `pool_pre_ping` so a restarted server is survived.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSessionType

SQLITE_BUSY_TIMEOUT_MS = 10_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """An async engine configured for durability on whichever backend the URL names."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the driver (see module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSessionType]:
    """Sessions that keep loaded objects usable after commit (responses are built from them)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
