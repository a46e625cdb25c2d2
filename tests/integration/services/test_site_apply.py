"""Applying a site description (`apply_site`) against a real database, on both backends.

The demo site is the main fixture: it exercises every section. Each test commits as the CLI does
and reads the result back in a fresh unit of work, so it asserts on durable state.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select

from emaildesk.db import tables as t
from emaildesk.db.database import Database
from emaildesk.domain import errors
from emaildesk.domain.custom_attributes import AttributeEntity
from emaildesk.domain.customers import MAX_GRANTS_EACH_WAY, ContactPointKind
from emaildesk.domain.directory import Department, PartitionSettings
from emaildesk.domain.errors import DomainError
from emaildesk.domain.events import SITE_APPLIED
from emaildesk.services.passwords import Argon2PasswordHasher
from emaildesk.services.site import ENTRY_DETAIL, PROBLEM_DETAIL, apply_site
from emaildesk.services.site_spec import (
    AliasSpec,
    CustomerSpec,
    DepartmentSpec,
    GrantSpec,
    QueueSpec,
    SiteReport,
    SiteSpec,
    UserSpec,
)
from emaildesk.sitefile import load_site_file

DEMO = Path(__file__).resolve().parents[3] / "src" / "emaildesk" / "demo" / "site.toml"
DEMO_COUNTS = {
    "settings": 1,
    "custom_attributes": 4,
    "departments": 2,
    "queues": 3,  # one per department, plus "Service escalations"
    "roles": 3,
    "issue_types": 2,
    "message_centers": 1,
    "aliases": 3,
    "users": 5,
    "client_applications": 1,
    "customers": 3,
    "grants": 1,
    "analytics_tenants": 1,
    "analytics_organizations": 2,
    "analytics_categories": 2,
    "analytics_api_keys": 1,
    "analytics_export": 1,
    "analytics_export_routes": 2,
}


@pytest.fixture(scope="module")
def demo() -> SiteSpec:
    return load_site_file(DEMO, self_contained=True)


@pytest.fixture
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher.for_tests()


async def apply(database: Database, spec: SiteSpec, hasher: Argon2PasswordHasher) -> SiteReport:
    async with database.uow() as uow:
        report = await apply_site(uow, spec, hasher)
        await uow.commit()
    return report


async def row_counts(database: Database) -> dict[str, int]:
    async with database.engine.connect() as connection:
        return {
            table.name: int(await connection.scalar(select(func.count()).select_from(table)) or 0)
            for table in t.metadata.sorted_tables
        }


async def site_events(database: Database) -> list[dict[str, dict[str, int]]]:
    async with database.uow() as uow:
        return [e.payload for e in await uow.events.since(0) if e.kind == SITE_APPLIED]


def changes(report: SiteReport) -> dict[str, tuple[int, int]]:
    """(created, updated) of every section where something changed."""
    return {
        name: (c.created, c.updated)
        for name, c in report.sections.items()
        if c.created or c.updated
    }


def with_user(spec: SiteSpec, index: int, **changes: object) -> SiteSpec:
    users = list(spec.users)
    users[index] = dataclasses.replace(users[index], **changes)
    return dataclasses.replace(spec, users=tuple(users))


async def test_demo_site_creates_every_entry(
    database: Database, demo: SiteSpec, hasher: Argon2PasswordHasher
) -> None:
    report = await apply(database, demo, hasher)

    assert {name: c.created for name, c in report.sections.items()} == DEMO_COUNTS
    assert report.totals.updated == report.totals.unchanged == 0
    async with database.uow() as uow:
        settings = await uow.directory.settings()
        assert settings.id is not None
        assert not settings.customer_departmentalization
        assert settings.secure_messaging_enabled
        assert settings.task_subtypes == ["general", "callback"]
        service = await uow.directory.department_by_name("Service")
        sales = await uow.directory.department_by_name("Sales")
        assert service is not None and sales is not None
        for department in (service, sales):
            queue = await uow.directory.queue_by_name(department.name)
            assert queue is not None and queue.department_id == department.id
        supervisor = await uow.directory.user_by_login("super1")
        assert supervisor is not None
        assert supervisor.home_department_id == service.id
        assert supervisor.foreign_department_ids == [sales.id]
        assert hasher.verify(supervisor.password_hash, "Super1-demo")
        assert "Super1-demo" not in supervisor.password_hash
        unlicensed = await uow.directory.user_by_login("nolicense")
        assert unlicensed is not None and not unlicensed.has_user_license()
        by_number = await uow.directory.users_by_attribute("employee_number", "E-2001")
        assert [u.login_id for u in by_number] == ["super1"]
        app = await uow.directory.client_by_client_id("demo-integrator")
        assert app is not None and hasher.verify(app.secret_hash, "Demo-integrator-secret")
        assert app.scopes == ["app.core.casemgr.read", "app.core.casemgr.manage"]
        retired = await uow.directory.alias_by_address("old-support@example.com")
        assert retired is not None and not retired.active
        center = await uow.directory.message_center_by_name("Customer portal")
        billing = await uow.directory.issue_type_by_name("Billing question")
        assert center is not None and billing is not None and billing.id in center.issue_type_ids
        rating = (await uow.directory.attribute_definitions(AttributeEntity.ACTIVITY))[
            "customer_rating"
        ]
        assert rating.enum_values == ["1", "2", "3", "4", "5"]
        maria = await uow.customers.find_point(ContactPointKind.EMAIL, "Maria.Lopez@example.net")
        leo = await uow.customers.find_point(ContactPointKind.EMAIL, "leo.lopez@example.net")
        assert maria is not None and leo is not None
        assert maria.customer_id is not None and leo.customer_id is not None
        assert await uow.customers.grant(maria.customer_id, leo.customer_id) is not None
        assert await uow.customers.find_point(ContactPointKind.MOBILE_PHONE, "+15550100")
    assert await site_events(database) == [report.as_payload()]


async def test_applying_the_same_file_twice_changes_nothing(
    database: Database, demo: SiteSpec, hasher: Argon2PasswordHasher
) -> None:
    await apply(database, demo, hasher)
    rows = await row_counts(database)
    async with database.uow() as uow:
        agent = await uow.directory.user_by_login("agent1")
        assert agent is not None
        stored_hash = agent.password_hash

    again = await apply(database, demo, hasher)

    assert {name: c.unchanged for name, c in again.sections.items()} == DEMO_COUNTS
    assert not again.changed
    assert await row_counts(database) == rows  # not even a SiteApplied event
    async with database.uow() as uow:
        agent = await uow.directory.user_by_login("agent1")
        assert agent is not None and agent.password_hash == stored_hash


async def test_a_changed_value_updates_exactly_that_entry(
    database: Database, demo: SiteSpec, hasher: Argon2PasswordHasher
) -> None:
    await apply(database, demo, hasher)
    rows = await row_counts(database)
    aliases = list(demo.aliases)
    aliases[2] = dataclasses.replace(aliases[2], active=True)
    changed = with_user(demo, 0, first_name="Annika")
    changed = with_user(changed, 1, password="Agent2-changed")
    changed = dataclasses.replace(changed, aliases=tuple(aliases))

    report = await apply(database, changed, hasher)

    assert changes(report) == {"users": (0, 2), "aliases": (0, 1)}
    assert report.totals.unchanged == sum(DEMO_COUNTS.values()) - 3
    async with database.uow() as uow:
        renamed = await uow.directory.user_by_login("agent1")
        assert renamed is not None and renamed.first_name == "Annika"
        assert renamed.last_name == "Berg"
        rekeyed = await uow.directory.user_by_login("agent2")
        assert rekeyed is not None
        assert hasher.verify(rekeyed.password_hash, "Agent2-changed")
        assert not hasher.verify(rekeyed.password_hash, "Agent2-demo")
        revived = await uow.directory.alias_by_address("old-support@example.com")
        assert revived is not None and revived.active
    assert (await row_counts(database))["events"] == rows["events"] + 1
    assert (await site_events(database))[-1] == {
        name: {"created": c.created, "updated": c.updated, "unchanged": c.unchanged}
        for name, c in report.sections.items()
    }


async def test_nothing_is_deleted_by_omission(
    database: Database, demo: SiteSpec, hasher: Argon2PasswordHasher
) -> None:
    await apply(database, demo, hasher)
    rows = await row_counts(database)
    partial = SiteSpec(departments=(DepartmentSpec("Service"),))

    report = await apply(database, partial, hasher)

    assert report.sections["departments"].unchanged == 1 and not report.changed
    assert await row_counts(database) == rows


async def test_an_omitted_key_keeps_its_value(
    database: Database, demo: SiteSpec, hasher: Argon2PasswordHasher
) -> None:
    await apply(database, demo, hasher)
    bare = SiteSpec(users=(UserSpec(login_id="super1", home_department="service"),))

    report = await apply(database, bare, hasher)

    assert report.sections["users"].unchanged == 1
    async with database.uow() as uow:
        user = await uow.directory.user_by_login("super1")
        assert user is not None
        assert (user.first_name, user.external_id, user.role_names) == (
            "Carla",
            "hr-2001",
            ["supervisor"],
        )
        assert len(user.foreign_department_ids) == 1
        assert hasher.verify(user.password_hash, "Super1-demo")


async def test_references_to_names_only_in_the_database_resolve(
    database: Database, demo: SiteSpec, hasher: Argon2PasswordHasher
) -> None:
    await apply(database, demo, hasher)
    later = SiteSpec(
        users=(
            UserSpec(
                login_id="agent3",
                home_department="Sales",
                password="Agent3-demo",
                roles=("agent",),
                custom_attributes={"employee_number": "E-1003"},
            ),
        ),
        grants=(GrantSpec("sam.chen@example.org", "leo.lopez@example.net"),),
    )

    report = await apply(database, later, hasher)

    assert changes(report) == {"users": (1, 0), "grants": (1, 0)}
    async with database.uow() as uow:
        found = await uow.directory.users_by_attribute("employee_number", "E-1003")
        assert [u.login_id for u in found] == ["agent3"]


@pytest.mark.parametrize(
    ("spec", "code", "entry", "problem"),
    [
        (
            SiteSpec(users=(UserSpec(login_id="x", home_department="Marketing"),)),
            errors.DEPARTMENT_NOT_FOUND.code,
            "users[0].home_department",
            None,
        ),
        (
            SiteSpec(users=(UserSpec(login_id="x", home_department="Sales", roles=("boss",)),)),
            errors.INVALID_ATTRIBUTE.code,
            "users[0].roles",
            "unknown role 'boss'",
        ),
        (
            SiteSpec(
                users=(
                    UserSpec(
                        login_id="x", home_department="Sales", custom_attributes={"shoe": "9"}
                    ),
                )
            ),
            errors.UNKNOWN_CUSTOM_ATTRIBUTE.code,
            "users[0].custom_attributes",
            None,
        ),
        (
            SiteSpec(
                users=(UserSpec(login_id="x", home_department="Sales", external_id="hr-2001"),)
            ),
            errors.INVALID_ATTRIBUTE.code,
            "users[0].external_id",
            "'hr-2001' is the external id of user 'super1'",
        ),
        (
            SiteSpec(grants=(GrantSpec("nobody@example.com", "sam.chen@example.org"),)),
            errors.INVALID_ATTRIBUTE.code,
            "grants[0].grantee",
            "unknown customer 'nobody@example.com'",
        ),
        (
            SiteSpec(customers=(CustomerSpec("new@example.com", department="Sales"),)),
            errors.INVALID_ATTRIBUTE.code,
            "customers[0].department",
            "customer departmentalization is off: customers have none",
        ),
        (
            SiteSpec(queues=(QueueSpec("Sales", "Service"),)),
            errors.INVALID_ATTRIBUTE.code,
            "queues[0].name",
            "'Sales' is the queue of department 'Sales'",
        ),
        (
            SiteSpec(aliases=(AliasSpec("info@example.com", "Nowhere"),)),
            errors.DEPARTMENT_NOT_FOUND.code,
            "aliases[0].department",
            None,
        ),
    ],
    ids=[
        "unknown-department",
        "unknown-role",
        "unknown-custom-attribute",
        "external-id-of-another-user",
        "unknown-customer",
        "department-without-departmentalization",
        "another-departments-queue",
        "alias-in-unknown-department",
    ],
)
async def test_an_unknown_reference_at_apply_time_names_the_entry(
    database: Database,
    demo: SiteSpec,
    hasher: Argon2PasswordHasher,
    spec: SiteSpec,
    code: str,
    entry: str,
    problem: str | None,
) -> None:
    await apply(database, demo, hasher)
    rows = await row_counts(database)

    with pytest.raises(DomainError) as raised:
        await apply(database, spec, hasher)

    assert raised.value.code == code
    assert raised.value.details[ENTRY_DETAIL] == entry
    assert raised.value.details.get(PROBLEM_DETAIL) == problem
    assert await row_counts(database) == rows  # nothing committed


async def test_grants_are_limited_each_way(
    database: Database, hasher: Argon2PasswordHasher
) -> None:
    """api-notes §1.7: a customer holds grants on at most 75 customers."""
    parent = "parent@example.com"
    others = [f"child{i}@example.com" for i in range(MAX_GRANTS_EACH_WAY + 1)]
    spec = SiteSpec(
        customers=tuple(CustomerSpec(email) for email in [parent, *others]),
        grants=tuple(GrantSpec(parent, child) for child in others[:MAX_GRANTS_EACH_WAY]),
    )
    report = await apply(database, spec, hasher)
    assert report.sections["grants"].created == MAX_GRANTS_EACH_WAY
    one_more = SiteSpec(grants=(*spec.grants, GrantSpec(parent, others[-1])))

    with pytest.raises(DomainError) as raised:
        await apply(database, one_more, hasher)

    assert raised.value.code == errors.GRANT_LIMIT.code
    assert raised.value.details[ENTRY_DETAIL] == f"grants[{MAX_GRANTS_EACH_WAY}]"


async def test_departmentalized_customers_are_identified_within_their_department(
    database: Database, hasher: Argon2PasswordHasher
) -> None:
    async with database.uow() as uow:
        await uow.directory.add(PartitionSettings(customer_departmentalization=True))
        await uow.directory.add(Department("Service"))
        await uow.directory.add(Department("Sales"))
        await uow.commit()
    same_address = "pat@example.com"
    spec = SiteSpec(
        customers=(
            CustomerSpec(same_address, first_name="Pat", department="Service"),
            CustomerSpec(same_address, first_name="Patricia", department="Sales"),
            CustomerSpec("kim@example.com", department="Sales"),
        ),
        grants=(GrantSpec(same_address, "kim@example.com", department="Sales"),),
    )

    first = await apply(database, spec, hasher)
    second = await apply(database, spec, hasher)

    assert first.sections["customers"].created == 3
    assert second.sections["customers"].unchanged == 3 and not second.changed
    with pytest.raises(DomainError) as raised:
        await apply(database, SiteSpec(customers=(CustomerSpec(same_address),)), hasher)
    assert raised.value.code == errors.REQUIRED_ATTRIBUTE.code
    assert raised.value.details[ENTRY_DETAIL] == "customers[0].department"


async def test_a_customer_is_found_by_email_and_its_contact_points_updated(
    database: Database, demo: SiteSpec, hasher: Argon2PasswordHasher
) -> None:
    await apply(database, demo, hasher)
    moved = dataclasses.replace(
        demo.customers[0],
        email="MARIA.LOPEZ@example.net",
        points={ContactPointKind.MOBILE_PHONE: "+1 555 0199", ContactPointKind.TWITTER: "mlopez"},
    )

    report = await apply(database, SiteSpec(customers=(moved,)), hasher)

    assert changes(report) == {"customers": (0, 1)}
    async with database.uow() as uow:
        phone = await uow.customers.find_point(ContactPointKind.MOBILE_PHONE, "+15550199")
        twitter = await uow.customers.find_point(ContactPointKind.TWITTER, "mlopez")
        email = await uow.customers.find_point(ContactPointKind.EMAIL, "maria.lopez@example.net")
        assert phone is not None and twitter is not None and email is not None
        assert phone.customer_id == twitter.customer_id == email.customer_id
        assert email.value == "MARIA.LOPEZ@example.net"
        assert await uow.customers.find_point(ContactPointKind.MOBILE_PHONE, "+15550100") is None


async def test_a_changed_client_secret_is_rehashed_and_an_unchanged_one_kept(
    database: Database, demo: SiteSpec, hasher: Argon2PasswordHasher
) -> None:
    await apply(database, demo, hasher)
    async with database.uow() as uow:
        before = await uow.directory.client_by_client_id("demo-integrator")
        assert before is not None
    renamed = dataclasses.replace(demo.client_applications[0], name="Integrator")
    rekeyed = dataclasses.replace(renamed, client_secret="New-secret")

    kept = await apply(database, SiteSpec(client_applications=(renamed,)), hasher)
    async with database.uow() as uow:
        after_rename = await uow.directory.client_by_client_id("demo-integrator")
        assert after_rename is not None
    changed = await apply(database, SiteSpec(client_applications=(rekeyed,)), hasher)

    assert changes(kept) == changes(changed) == {"client_applications": (0, 1)}
    assert after_rename.name == "Integrator"
    assert after_rename.secret_hash == before.secret_hash
    async with database.uow() as uow:
        app = await uow.directory.client_by_client_id("demo-integrator")
        assert app is not None and hasher.verify(app.secret_hash, "New-secret")


async def test_changed_user_custom_attributes_are_reindexed(
    database: Database, demo: SiteSpec, hasher: Argon2PasswordHasher
) -> None:
    await apply(database, demo, hasher)

    await apply(
        database, with_user(demo, 0, custom_attributes={"employee_number": "E-1999"}), hasher
    )

    async with database.uow() as uow:
        assert await uow.directory.users_by_attribute("employee_number", "E-1001") == []
        found = await uow.directory.users_by_attribute("employee_number", "E-1999")
        assert [u.login_id for u in found] == ["agent1"]
