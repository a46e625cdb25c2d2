"""Helpers shared by the repository tests: seed rows, store entities, and compare entity graphs.

Everything is written through the repositories and committed, as the application does, so a
test starts from durable rows and reads them back through a fresh unit of work.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from emaildesk.db.database import Database
from emaildesk.domain.directory import Department


@dataclass(frozen=True)
class Departments:
    service: int
    sales: int


async def seed_departments(database: Database) -> Departments:
    async with database.uow() as uow:
        service = await uow.directory.add(Department("Service", "Support for customers"))
        sales = await uow.directory.add(Department("Sales"))
        await uow.commit()
    assert service.id is not None
    assert sales.id is not None
    return Departments(service.id, sales.id)


async def store(database: Database, *entities: object) -> None:
    """Add and commit in one unit of work (any repository's `add` stages any mapped entity)."""
    async with database.uow() as uow:
        for entity in entities:
            await uow.directory.add(entity)
        await uow.commit()


def snapshot(value: Any) -> Any:
    """A plain, comparable copy of an entity graph (dataclass fields, lists, dicts)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: snapshot(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [snapshot(v) for v in value]
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    return value


@contextmanager
def counting_statements(database: Database) -> Iterator[list[str]]:
    """Record every SQL statement the engine sends while the block runs."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
