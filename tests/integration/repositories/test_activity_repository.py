"""Activity reads: many ids at once (v12 `GET activity/{IDs}`, up to 75), by Message-ID
(threading and duplicate detection), by case; and the promise of mapping.py that relationships
load in a fixed number of batched queries, never one per row."""

from __future__ import annotations

import pytest
from repository_support import Departments, counting_statements, store

from emaildesk.db.database import Database
from emaildesk.domain.activities import (
    Activity,
    ActivityType,
    Case,
    EmailPayload,
    Mode,
    Note,
    TaskPayload,
)
from emaildesk.domain.attachments import Attachment

MAX_STATEMENTS_FOR_GET_MANY = 6  # activities + email + task + attachments + notes (+ BEGIN)


def email(
    department_id: int, subject: str, message_id: str | None = None, case_id: int | None = None
) -> Activity:
    return Activity(
        ActivityType.EMAIL,
        "general",
        Mode.INBOUND,
        department_id,
        case_id=case_id,
        subject=subject,
        email=EmailPayload(from_address="a@example.com", message_id=message_id),
    )


async def add_activities(database: Database, *activities: Activity) -> list[int]:
    await store(database, *activities)
    return [a.id for a in activities if a.id is not None]


async def test_get_many_preserves_the_order_asked(
    database: Database, departments: Departments
) -> None:
    ids = await add_activities(database, *(email(departments.service, f"s{i}") for i in range(4)))
    asked = [ids[2], ids[0], ids[3], ids[1]]
    async with database.uow() as uow:
        found = await uow.activities.get_many(asked)
    assert [a.id for a in found] == asked
    assert [a.subject for a in found] == ["s2", "s0", "s3", "s1"]


async def test_get_many_skips_missing_ids(database: Database, departments: Departments) -> None:
    ids = await add_activities(
        database, email(departments.service, "a"), email(departments.service, "b")
    )
    missing = max(ids) + 100
    async with database.uow() as uow:
        found = await uow.activities.get_many([missing, ids[1], missing + 1, ids[0]])
        assert [a.id for a in found] == [ids[1], ids[0]]
        assert await uow.activities.get_many([]) == []
        assert await uow.activities.get_many([missing]) == []


async def test_get_many_repeated_id_is_returned_each_time_asked(
    database: Database, departments: Departments
) -> None:
    (only,) = await add_activities(database, email(departments.service, "a"))
    async with database.uow() as uow:
        found = await uow.activities.get_many([only, only])
    assert [a.id for a in found] == [only, only]


async def test_by_message_id_finds_every_copy_in_id_order(
    database: Database, departments: Departments
) -> None:
    ids = await add_activities(
        database,
        email(departments.service, "first", "<m1@example.com>"),
        email(departments.service, "other", "<m2@example.com>"),
        email(departments.sales, "second", "<m1@example.com>"),
        email(departments.sales, "no id"),
    )
    async with database.uow() as uow:
        found = await uow.activities.by_message_id("<m1@example.com>")
        assert [a.id for a in found] == [ids[0], ids[2]]
        assert all(a.email is not None and a.email.message_id == "<m1@example.com>" for a in found)
        assert await uow.activities.by_message_id("<unknown@example.com>") == []


async def test_in_case_lists_the_case_activities(
    database: Database, departments: Departments
) -> None:
    first, second = Case(None, departments.service), Case(None, departments.service)
    await store(database, first, second)
    ids = await add_activities(
        database,
        email(departments.service, "a", case_id=first.id),
        email(departments.service, "b", case_id=second.id),
        email(departments.service, "c", case_id=first.id),
    )
    async with database.uow() as uow:
        assert [a.id for a in await uow.activities.in_case(first.id)] == [ids[0], ids[2]]  # type: ignore[arg-type]
        case = await uow.cases.get(first.id)  # type: ignore[arg-type]
        assert case is not None
        assert await uow.cases.get(999_999) is None


def rich_activity(department_id: int, n: int) -> Activity:
    activity = email(department_id, f"subject {n}", f"<{n}@example.com>")
    activity.attachments = [
        Attachment(f"a{n}.pdf", "application/pdf", 1, "ab" * 32),
        Attachment(f"b{n}.png", "image/png", 1, "cd" * 32, True, f"cid{n}"),
    ]
    activity.notes = [Note(f"note {n}", "user", 1)]
    return activity


@pytest.mark.parametrize("count", [5, 50])
async def test_get_many_loads_relationships_without_n_plus_1(
    database: Database, departments: Departments, count: int
) -> None:
    activities = [rich_activity(departments.service, n) for n in range(count)]
    activities.append(
        Activity(
            ActivityType.TASK, "general", Mode.INBOUND, departments.service, task=TaskPayload("t")
        )
    )
    ids = await add_activities(database, *activities)
    async with database.uow() as uow:
        with counting_statements(database) as statements:
            found = await uow.activities.get_many(ids)
            # Touch every relationship: nothing may load lazily after the batch.
            shape = [
                (a.email.message_id if a.email else None, len(a.attachments), len(a.notes), a.task)
                for a in found
            ]
    assert len(found) == count + 1
    assert shape[0] == ("<0@example.com>", 2, 1, None)
    assert shape[-1][3] is not None
    assert len(statements) <= MAX_STATEMENTS_FOR_GET_MANY, "\n".join(statements)
