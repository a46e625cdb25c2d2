"""Customer lookups by contact point (eGain v12 sender lookup, v3 `searchContactOnAttribute`) and
grant bookkeeping, on both backends."""

from __future__ import annotations

from repository_support import Departments, store

from emaildesk.db.database import Database
from emaildesk.domain.customers import (
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerGrant,
    new_individual_customer,
)

K = ContactPointKind


async def add_customer(
    database: Database,
    department_id: int | None,
    points: list[tuple[ContactPointKind, str, str | None]],
) -> Customer:
    customer = new_individual_customer(department_id, "First", "Last", points)
    async with database.uow() as uow:
        await uow.customers.add_customer(customer)
        await uow.commit()
    return customer


async def find(
    database: Database, kind: ContactPointKind, value: str, **scope: object
) -> int | None:
    """The customer id owning the point found, or None."""
    async with database.uow() as uow:
        point = await uow.customers.find_point(kind, value, **scope)  # type: ignore[arg-type]
        return None if point is None else point.customer_id


async def test_find_point_by_email_is_case_insensitive(database: Database) -> None:
    customer = await add_customer(database, None, [(K.EMAIL, "JHenry@Customer.com", None)])
    for asked in ("jhenry@customer.com", "JHENRY@CUSTOMER.COM", "  JHenry@customer.COM "):
        assert await find(database, K.EMAIL, asked) == customer.id


async def test_find_point_by_phone_compares_digits(database: Database) -> None:
    customer = await add_customer(database, None, [(K.MOBILE_PHONE, "+1 (555) 010-0199", None)])
    assert await find(database, K.MOBILE_PHONE, "+15550100199") == customer.id
    assert await find(database, K.MOBILE_PHONE, "+1-555-010-0199") == customer.id
    assert await find(database, K.MOBILE_PHONE, "15550100199") is None  # the + is significant


async def test_find_point_matches_the_kind(database: Database) -> None:
    await add_customer(database, None, [(K.HOME_PHONE, "5550100", None)])
    assert await find(database, K.OFFICE_PHONE, "5550100") is None
    assert await find(database, K.HOME_PHONE, "555 0100") is not None


async def test_find_point_unknown_value_is_none(database: Database) -> None:
    await add_customer(database, None, [(K.EMAIL, "a@example.com", None)])
    assert await find(database, K.EMAIL, "b@example.com") is None


async def test_find_point_custom_attribute_by_name(database: Database) -> None:
    customer = await add_customer(
        database, None, [(K.CUSTOM, "A-1", "account"), (K.CUSTOM, "Gold", "tier")]
    )
    assert await find(database, K.CUSTOM, "Gold", name="tier") == customer.id
    assert await find(database, K.CUSTOM, "Gold", name="account") is None


async def test_find_point_scoped_by_department_when_departmentalized(
    database: Database, departments: Departments
) -> None:
    in_service = await add_customer(
        database, departments.service, [(K.EMAIL, "same@example.com", None)]
    )
    in_sales = await add_customer(
        database, departments.sales, [(K.EMAIL, "same@example.com", None)]
    )
    scoped = {"departmentalized": True}
    assert (
        await find(
            database, K.EMAIL, "same@example.com", department_id=departments.service, **scoped
        )
        == in_service.id
    )
    assert (
        await find(database, K.EMAIL, "SAME@example.com", department_id=departments.sales, **scoped)
        == in_sales.id
    )


async def test_find_point_departmentalized_misses_other_departments(
    database: Database, departments: Departments
) -> None:
    await add_customer(database, departments.service, [(K.EMAIL, "only@example.com", None)])
    assert (
        await find(
            database,
            K.EMAIL,
            "only@example.com",
            department_id=departments.sales,
            departmentalized=True,
        )
        is None
    )


async def test_find_point_global_when_not_departmentalized(
    database: Database, departments: Departments
) -> None:
    """Without departmentalization the department asked for is ignored: one customer base."""
    customer = await add_customer(
        database, departments.service, [(K.EMAIL, "global@example.com", None)]
    )
    assert await find(database, K.EMAIL, "global@example.com") == customer.id
    assert (
        await find(database, K.EMAIL, "global@example.com", department_id=departments.sales)
        == customer.id
    )


async def test_find_point_global_returns_the_first_stored_when_several_match(
    database: Database, departments: Departments
) -> None:
    first = await add_customer(database, departments.sales, [(K.EMAIL, "dup@example.com", None)])
    await add_customer(database, departments.service, [(K.EMAIL, "dup@example.com", None)])
    assert await find(database, K.EMAIL, "dup@example.com") == first.id


async def test_add_point_to_an_existing_contact_is_found(database: Database) -> None:
    customer = await add_customer(database, None, [(K.EMAIL, "a@example.com", None)])
    contact = customer.primary_contact
    assert contact is not None
    async with database.uow() as uow:
        await uow.customers.add_point(
            ContactPoint(K.TWITTER, "@a", contact_id=contact.id, customer_id=customer.id)
        )
        await uow.commit()
    assert await find(database, K.TWITTER, " @a ") == customer.id
    async with database.uow() as uow:
        loaded = await uow.customers.get(customer.id)  # type: ignore[arg-type]
        assert loaded is not None
        assert loaded.primary_contact is not None
        assert [p.kind for p in loaded.primary_contact.points] == [K.EMAIL, K.TWITTER]


async def test_grant_counts_each_way(database: Database) -> None:
    a, b, c, d = Customer(), Customer(), Customer(), Customer()
    await store(database, a, b, c, d)
    assert a.id and b.id and c.id and d.id
    # a holds grants on b and c; d holds a grant on b.
    await store(
        database, CustomerGrant(a.id, b.id), CustomerGrant(a.id, c.id), CustomerGrant(d.id, b.id)
    )
    async with database.uow() as uow:
        assert await uow.customers.grant_counts(a.id, b.id) == (2, 2)
        assert await uow.customers.grant_counts(d.id, c.id) == (1, 1)
        assert await uow.customers.grant_counts(b.id, a.id) == (0, 0)
        assert sorted(await uow.customers.grantors_of(a.id)) == sorted([b.id, c.id])
        assert await uow.customers.grantors_of(b.id) == []
        found = await uow.customers.grant(a.id, b.id)
        assert found is not None
        assert (found.grantee_id, found.grantor_id) == (a.id, b.id)
        assert await uow.customers.grant(b.id, a.id) is None
