"""The unit of work (STYLE.md habit 2): the caller commits once; leaving without a commit rolls
everything back; a failed statement (a unique constraint) leaves the database as it was."""

from __future__ import annotations

import pytest
from repository_support import Departments, store
from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError

from emaildesk.db import tables as t
from emaildesk.db.database import Database
from emaildesk.db.uow import SqlUnitOfWork
from emaildesk.domain.directory import Department, EmailAlias
from emaildesk.domain.events import Event
from emaildesk.domain.users import User


async def count(database: Database, table: Table) -> int:
    async with database.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(table)) or 0)


async def test_unit_of_work_without_commit_rolls_back(database: Database) -> None:
    async with database.uow() as uow:
        department = await uow.directory.add(Department("Billing"))
        await uow.events.append(Event("DepartmentCreated", "department", department.id or 0))
        assert department.id is not None  # flushed: visible inside this unit of work
        assert await uow.directory.department_by_name("Billing") is department
    async with database.uow() as uow:
        assert await uow.directory.department_by_name("Billing") is None
        assert await uow.events.since(0) == []


async def test_unit_of_work_rolls_back_when_the_block_raises(database: Database) -> None:
    async def add_then_fail() -> None:
        async with database.uow() as uow:
            await uow.directory.add(Department("Billing"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await add_then_fail()
    assert await count(database, t.departments) == 0


async def test_unit_of_work_explicit_rollback_discards_staged_rows(database: Database) -> None:
    async with database.uow() as uow:
        await uow.directory.add(Department("Billing"))
        await uow.rollback()
        await uow.directory.add(Department("Returns"))
        await uow.commit()
    async with database.uow() as uow:
        assert [d.name for d in await uow.directory.departments()] == ["Returns"]


async def test_unit_of_work_commit_is_visible_to_the_next(database: Database) -> None:
    async with database.uow() as uow:
        await uow.directory.add(Department("Billing"))
        await uow.commit()
    assert await count(database, t.departments) == 1


async def test_unit_of_work_is_unusable_outside_its_block(database: Database) -> None:
    uow = database.uow()
    assert isinstance(uow, SqlUnitOfWork)
    with pytest.raises(RuntimeError, match="outside"):
        _ = uow.session
    async with uow:
        pass
    with pytest.raises(RuntimeError, match="outside"):
        await uow.commit()


async def test_duplicate_alias_address_raises_and_leaves_the_database_unchanged(
    database: Database, departments: Departments
) -> None:
    await store(database, EmailAlias("support@example.com", departments.service, "Support"))
    with pytest.raises(IntegrityError):
        # The department is staged before the failing alias: it must go too.
        await store(
            database,
            Department("Billing"),
            EmailAlias("support@example.com", departments.sales),
        )
    async with database.uow() as uow:
        aliases = await uow.directory.aliases()
        assert [(a.address, a.department_id, a.display_name) for a in aliases] == [
            ("support@example.com", departments.service, "Support")
        ]
        assert await uow.directory.department_by_name("Billing") is None


@pytest.mark.parametrize(
    "duplicate",
    [
        lambda d: Department("Service"),
        lambda d: User("ann", d.sales),
        lambda d: User("other", d.sales, external_id="EXT-1"),
    ],
    ids=["department name", "user login", "user external id"],
)
async def test_unique_constraints_raise(
    database: Database, departments: Departments, duplicate: object
) -> None:
    await store(database, User("ann", departments.service, external_id="EXT-1"))
    before = (await count(database, t.departments), await count(database, t.users))
    with pytest.raises(IntegrityError):
        await store(database, duplicate(departments))  # type: ignore[operator]
    assert (await count(database, t.departments), await count(database, t.users)) == before


async def test_unit_of_work_is_usable_after_a_failed_one(
    database: Database, departments: Departments
) -> None:
    """A failed transaction must not poison the pool: the next unit of work just works."""
    with pytest.raises(IntegrityError):
        await store(database, Department("Service"))
    await store(database, Department("Billing"))
    assert await count(database, t.departments) == 3
