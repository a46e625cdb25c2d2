"""The Alembic migrations build exactly the schema the tables module declares."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from emaildesk.db.database import Database
from emaildesk.db.tables import metadata


async def test_migrations_produce_the_models_schema(database: Database) -> None:
    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with database.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


async def test_every_lookup_path_has_an_index(database: Database) -> None:
    """DESIGN: indexes for every lookup the specs imply."""
    wanted = {
        "email_aliases": ["address"],
        "contact_points": ["kind", "normalized", "department_id"],
        "email_payloads": ["message_id"],
        "activities": ["case_id"],
        "outbox_jobs": ["state", "run_after"],
        "user_attribute_index": ["name", "value"],
    }

    def indexed(connection: Connection) -> dict[str, list[list[str]]]:
        inspector = inspect(connection)
        found: dict[str, list[list[str]]] = {}
        for table in wanted:
            columns = [list(ix["column_names"]) for ix in inspector.get_indexes(table)]
            columns += [list(uq["column_names"]) for uq in inspector.get_unique_constraints(table)]
            found[table] = columns
        return found

    async with database.engine.connect() as connection:
        found = await connection.run_sync(indexed)
    for table, columns in wanted.items():
        assert any(ix[: len(columns)] == columns for ix in found[table]), (table, found[table])
