"""The database handle the composition root builds once: engine, sessions, unit-of-work
factory, schema migration and a readiness probe."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from emaildesk.db.engine import create_engine, create_sessionmaker, is_sqlite
from emaildesk.db.mapping import map_domain
from emaildesk.db.uow import SqlUnitOfWorkFactory

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class Database:
    def __init__(self, url: str, echo: bool = False) -> None:
        map_domain()
        self.url = url
        self.engine: AsyncEngine = create_engine(url, echo=echo)
        self.sessionmaker = create_sessionmaker(self.engine)
        self.uow = SqlUnitOfWorkFactory(self.sessionmaker)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic runs its own event loop: thread)."""
        await asyncio.to_thread(command.upgrade, alembic_config(self.url), "head")

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query (used by /readyz)."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
