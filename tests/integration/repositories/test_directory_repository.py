"""Directory lookups the APIs make on every request (aliases, departments, users by login,
external id or custom attribute, roles, client applications, custom attribute definitions)."""

from __future__ import annotations

import pytest
from repository_support import Departments, store
from sqlalchemy.exc import IntegrityError

from emaildesk.db.database import Database
from emaildesk.domain.custom_attributes import (
    AttributeEntity,
    AttributeType,
    CustomAttributeDefinition,
)
from emaildesk.domain.directory import (
    EmailAlias,
    IssueType,
    MessageCenter,
    PartitionSettings,
    Queue,
)
from emaildesk.domain.users import ClientApplication, Role, User


async def test_alias_by_address_is_case_insensitive(
    database: Database, departments: Departments
) -> None:
    await store(database, EmailAlias("support@example.com", departments.service))
    async with database.uow() as uow:
        for asked in ("support@example.com", "Support@Example.COM", " SUPPORT@example.com "):
            alias = await uow.directory.alias_by_address(asked)
            assert alias is not None, asked
            assert alias.department_id == departments.service
        assert await uow.directory.alias_by_address("sales@example.com") is None


async def test_alias_created_with_capitals_is_found_and_unique(
    database: Database, departments: Departments
) -> None:
    await store(database, EmailAlias("Sales@Example.com", departments.sales))
    async with database.uow() as uow:
        alias = await uow.directory.alias_by_address("sales@example.com")
        assert alias is not None
        assert alias.address == "sales@example.com"
    with pytest.raises(IntegrityError):
        await store(database, EmailAlias("SALES@example.com", departments.service))


async def test_aliases_are_listed_in_creation_order(
    database: Database, departments: Departments
) -> None:
    await store(
        database,
        EmailAlias("b@example.com", departments.service),
        EmailAlias("a@example.com", departments.sales),
    )
    async with database.uow() as uow:
        assert [a.address for a in await uow.directory.aliases()] == [
            "b@example.com",
            "a@example.com",
        ]


async def test_department_by_name_is_case_insensitive(
    database: Database, departments: Departments
) -> None:
    async with database.uow() as uow:
        for asked in ("Service", "service", "SERVICE", " Service "):
            department = await uow.directory.department_by_name(asked)
            assert department is not None, asked
            assert department.id == departments.service
        assert await uow.directory.department_by_name("Billing") is None
        assert [d.name for d in await uow.directory.departments()] == ["Service", "Sales"]
        by_id = await uow.directory.department(departments.sales)
        assert by_id is not None
        assert by_id.name == "Sales"


async def test_settings_default_when_none_stored(database: Database) -> None:
    async with database.uow() as uow:
        settings = await uow.directory.settings()
    assert settings.id is None
    assert settings.max_email_size_mb == PartitionSettings().max_email_size_mb


async def test_settings_stored_are_returned(database: Database) -> None:
    await store(database, PartitionSettings(customer_departmentalization=True))
    async with database.uow() as uow:
        settings = await uow.directory.settings()
    assert settings.id is not None
    assert settings.customer_departmentalization


async def test_users_by_attribute_after_index_user_attributes(
    database: Database, departments: Departments
) -> None:
    ann = User("ann", departments.service, custom_attributes={"employee_number": "E-1"})
    bob = User("bob", departments.sales, custom_attributes={"employee_number": "E-2", "team": "x"})
    async with database.uow() as uow:
        for user in (ann, bob):
            await uow.directory.add(user)
            await uow.directory.index_user_attributes(user)
        await uow.commit()
    async with database.uow() as uow:
        found = await uow.directory.users_by_attribute("employee_number", "E-2")
        assert [u.login_id for u in found] == ["bob"]
        assert await uow.directory.users_by_attribute("employee_number", "E-3") == []
        assert await uow.directory.users_by_attribute("team", "E-2") == []


async def test_users_by_attribute_follows_a_reindex(
    database: Database, departments: Departments
) -> None:
    ann = User("ann", departments.service, custom_attributes={"employee_number": "E-1"})
    async with database.uow() as uow:
        await uow.directory.add(ann)
        await uow.directory.index_user_attributes(ann)
        await uow.commit()
    async with database.uow() as uow:
        loaded = await uow.directory.user_by_login("ann")
        assert loaded is not None
        loaded.custom_attributes = {"employee_number": "E-9"}
        await uow.directory.index_user_attributes(loaded)
        await uow.commit()
    async with database.uow() as uow:
        assert await uow.directory.users_by_attribute("employee_number", "E-1") == []
        assert [
            u.login_id for u in await uow.directory.users_by_attribute("employee_number", "E-9")
        ] == ["ann"]
        loaded = await uow.directory.user_by_login("ann")
        assert loaded is not None
        loaded.custom_attributes = {}
        await uow.directory.index_user_attributes(loaded)
        await uow.commit()
    async with database.uow() as uow:
        assert await uow.directory.users_by_attribute("employee_number", "E-9") == []


async def test_users_by_attribute_finds_nothing_without_index(
    database: Database, departments: Departments
) -> None:
    """The lookup reads the index table only: a user stored without indexing is invisible."""
    await store(database, User("ann", departments.service, custom_attributes={"k": "v"}))
    async with database.uow() as uow:
        assert await uow.directory.users_by_attribute("k", "v") == []


async def test_user_lookups_by_id_login_and_external_id(
    database: Database, departments: Departments
) -> None:
    ann = User("ann", departments.service, external_id="EXT-1")
    await store(database, ann)
    async with database.uow() as uow:
        by_id = await uow.directory.user(ann.id)  # type: ignore[arg-type]
        by_login = await uow.directory.user_by_login("ann")
        by_external = await uow.directory.user_by_external_id("EXT-1")
        assert by_id is not None
        assert by_id is by_login is by_external  # one identity map per unit of work
        assert await uow.directory.user_by_login("Ann") is None  # login ids are exact
        assert await uow.directory.user_by_external_id("EXT-2") is None


async def test_roles_named_returns_only_the_names_asked(database: Database) -> None:
    await store(database, Role("agent", ["View:Activity"]), Role("admin"), Role("supervisor"))
    async with database.uow() as uow:
        found = await uow.directory.roles_named(["agent", "supervisor", "ghost"])
        assert sorted(r.name for r in found) == ["agent", "supervisor"]
        assert await uow.directory.roles_named([]) == []
        role = await uow.directory.role_by_name("agent")
        assert role is not None
        assert role.permissions == ["View:Activity"]


async def test_client_application_by_client_id(database: Database) -> None:
    app = ClientApplication("CRM", "demo-integrator", "hash", ["app.core.casemgr.read"])
    await store(database, app)
    async with database.uow() as uow:
        found = await uow.directory.client_by_client_id("demo-integrator")
        assert found is not None
        assert found.name == "CRM"
        assert await uow.directory.client(app.id) is found  # type: ignore[arg-type]
        assert await uow.directory.client_by_client_id("other") is None


async def test_named_lookups_of_issue_types_message_centers_and_queues(
    database: Database, departments: Departments
) -> None:
    issue = IssueType("Billing")
    await store(database, issue, Queue("Service", departments.service))
    center = MessageCenter("Help", departments.service, issue_type_ids=[issue.id])  # type: ignore[list-item]
    await store(database, center)
    async with database.uow() as uow:
        assert (await uow.directory.issue_type_by_name("Billing")) is not None
        assert (await uow.directory.issue_type(issue.id)) is not None  # type: ignore[arg-type]
        found = await uow.directory.message_center_by_name("Help")
        assert found is not None
        assert found.issue_type_ids == [issue.id]
        assert await uow.directory.message_center(center.id) is found  # type: ignore[arg-type]
        queue = await uow.directory.queue_by_name("Service")
        assert queue is not None
        assert queue.department_id == departments.service
        assert await uow.directory.queue_by_name("Sales") is None


async def test_attribute_definitions_are_per_entity_keyed_by_name(database: Database) -> None:
    await store(
        database,
        CustomAttributeDefinition("rating", AttributeEntity.ACTIVITY, enum_values=["1", "2"]),
        CustomAttributeDefinition("order_number", AttributeEntity.ACTIVITY),
        CustomAttributeDefinition("rating", AttributeEntity.CONTACT, AttributeType.INTEGER),
    )
    async with database.uow() as uow:
        activity = await uow.directory.attribute_definitions(AttributeEntity.ACTIVITY)
        contact = await uow.directory.attribute_definitions(AttributeEntity.CONTACT)
        user = await uow.directory.attribute_definitions(AttributeEntity.USER)
    assert sorted(activity) == ["order_number", "rating"]
    assert activity["rating"].enum_values == ["1", "2"]
    assert contact["rating"].type is AttributeType.INTEGER
    assert user == {}
