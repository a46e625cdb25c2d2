"""Reading activities by id: the visibility rule "one customer or department never sees another's
data", the 404 that hides existence, order, the read model and its query bound, on both
databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event

from emaildesk.db.database import Database
from emaildesk.domain.activities import (
    Activity,
    ActivityType,
    Case,
    EmailPayload,
    Mode,
    Note,
    Substatus,
    TaskPayload,
)
from emaildesk.domain.actors import Actor
from emaildesk.domain.customers import (
    ContactPointKind,
    Customer,
    CustomerGrant,
    new_individual_customer,
)
from emaildesk.domain.directory import Department, EmailAlias, IssueType, Queue
from emaildesk.domain.errors import DomainError
from emaildesk.domain.users import Role, User
from emaildesk.services.activity_queries import ActivityView, get_activities
from emaildesk.services.ports import UnitOfWork

VIEWER_PERMISSIONS = ["View:Activity"]


@dataclass
class World:
    service: Department
    sales: Department
    alias: EmailAlias
    issue_type: IssueType
    queue: Queue
    agent: User  # home Service
    roamer: User  # home Sales, foreign user in Service
    alice: Customer  # the customer actor in these tests
    bob: Customer  # alice holds a grant on bob
    carol: Customer  # unrelated
    ids: dict[str, int]


async def add_customer(uow: UnitOfWork, name: str) -> Customer:
    customer = new_individual_customer(
        None, name.title(), "Doe", [(ContactPointKind.EMAIL, f"{name}@customer.com", None)]
    )
    return await uow.customers.add_customer(customer)


async def add_activity(
    uow: UnitOfWork,
    customer: Customer,
    department: Department,
    *,
    mode: Mode = Mode.INBOUND,
    substatus: Substatus = Substatus.READY_FOR_INBOUND_WORKFLOW,
    task: bool = False,
    case: Case | None = None,
    **extra: Any,
) -> Activity:
    assert department.id is not None
    if case is None:
        case = await uow.cases.add(Case(customer.id, department.id, "Phone"))
    activity = Activity(
        type=ActivityType.TASK if task else ActivityType.EMAIL,
        subtype="general",
        mode=mode,
        department_id=department.id,
        case_id=case.id,
        substatus=substatus,
        subject=f"{mode.value} for {customer.id}",
        customer_id=customer.id,
        email=None if task else EmailPayload(from_address="x@customer.com", to=["a@b.com"]),
        task=TaskPayload(text="Call back") if task else None,
        **extra,
    )
    return await uow.activities.add(activity)


@pytest.fixture
async def world(database: Database) -> World:
    async with database.uow() as uow:
        service = await uow.directory.add(Department("Service"))
        sales = await uow.directory.add(Department("Sales"))
        assert service.id is not None and sales.id is not None
        alias = await uow.directory.add(EmailAlias("support@example.com", service.id))
        issue_type = await uow.directory.add(IssueType("Billing"))
        queue = await uow.directory.add(Queue("Service queue", service.id))
        await uow.directory.add(Role("viewer", VIEWER_PERMISSIONS))
        agent = await uow.directory.add(User("agent", service.id, role_names=["viewer"]))
        roamer = await uow.directory.add(
            User("roamer", sales.id, role_names=["viewer"], foreign_department_ids=[service.id])
        )
        alice = await add_customer(uow, "alice")
        bob = await add_customer(uow, "bob")
        carol = await add_customer(uow, "carol")
        assert alice.id is not None and bob.id is not None
        await uow.customers.add(CustomerGrant(grantee_id=alice.id, grantor_id=bob.id))
        made = {
            "alice_in": await add_activity(
                uow,
                alice,
                service,
                issue_type_id=issue_type.id,
                queue_id=queue.id,
                user_last_worked_id=agent.id,
                last_department_id=sales.id,
                created_by_type="user",
                created_by_id=roamer.id,
                notes=[Note("checked", "user", agent.id or 0)],
            ),
            "alice_sent": await add_activity(
                uow, alice, service, mode=Mode.OUTBOUND, substatus=Substatus.SENT
            ),
            "alice_draft": await add_activity(
                uow, alice, service, mode=Mode.OUTBOUND, substatus=Substatus.ASSIGNED
            ),
            "alice_sending": await add_activity(
                uow, alice, service, mode=Mode.OUTBOUND, substatus=Substatus.SENDING
            ),
            "alice_failed": await add_activity(
                uow, alice, service, mode=Mode.OUTBOUND, substatus=Substatus.SEND_FAILED
            ),
            "alice_task": await add_activity(uow, alice, service, task=True),
            "bob_in": await add_activity(uow, bob, service),
            "carol_in": await add_activity(uow, carol, service),
            "carol_sales": await add_activity(uow, carol, sales),
        }
        made["alice_in"].email.receiver_alias_id = alias.id  # type: ignore[union-attr]
        await uow.commit()
    ids = {name: activity.id for name, activity in made.items()}
    assert all(i is not None for i in ids.values())
    return World(
        service,
        sales,
        alias,
        issue_type,
        queue,
        agent,
        roamer,
        alice,
        bob,
        carol,
        ids,  # type: ignore[arg-type]
    )


def user_actor(user: User, roles: list[Role] | None = None) -> Actor:
    return Actor.for_user(user, [Role("viewer", VIEWER_PERMISSIONS)] if roles is None else roles)


def customer_actor(customer: Customer) -> Actor:
    assert customer.id is not None
    return Actor.for_customer(customer.id)


async def read(database: Database, actor: Actor, ids: list[int]) -> ActivityView:
    async with database.uow() as uow:
        return await get_activities(uow, actor, ids)


async def not_found(database: Database, actor: Actor, ids: list[int]) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await read(database, actor, ids)
    assert caught.value.code == "404-101"
    return caught.value


# --- customers ---------------------------------------------------------------------------


async def test_customer_sees_emails_they_sent_and_emails_sent_to_them(
    database: Database, world: World
) -> None:
    ids = [world.ids["alice_in"], world.ids["alice_sent"]]
    view = await read(database, customer_actor(world.alice), ids)
    assert [a.id for a in view.activities] == ids


@pytest.mark.parametrize("name", ["alice_draft", "alice_sending", "alice_failed"])
async def test_customer_does_not_see_an_outbound_email_before_it_is_sent(
    database: Database, world: World, name: str
) -> None:
    error = await not_found(database, customer_actor(world.alice), [world.ids[name]])
    assert error.params["ids"] == str(world.ids[name])


async def test_customer_never_sees_tasks(database: Database, world: World) -> None:
    await not_found(database, customer_actor(world.alice), [world.ids["alice_task"]])


async def test_customer_sees_activities_of_a_customer_they_hold_a_grant_on(
    database: Database, world: World
) -> None:
    view = await read(database, customer_actor(world.alice), [world.ids["bob_in"]])
    assert [a.customer_id for a in view.activities] == [world.bob.id]


async def test_grant_is_one_way(database: Database, world: World) -> None:
    """Bob granted Alice; Bob holds nothing on Alice."""
    await not_found(database, customer_actor(world.bob), [world.ids["alice_in"]])


async def test_one_customer_never_sees_another_customers_activities(
    database: Database, world: World
) -> None:
    await not_found(database, customer_actor(world.alice), [world.ids["carol_in"]])


# --- users -------------------------------------------------------------------------------


async def test_user_sees_activities_of_their_home_department(
    database: Database, world: World
) -> None:
    ids = [world.ids["carol_in"], world.ids["alice_task"], world.ids["alice_draft"]]
    view = await read(database, user_actor(world.agent), ids)
    assert [a.id for a in view.activities] == ids


async def test_user_sees_activities_of_a_department_where_they_are_a_foreign_user(
    database: Database, world: World
) -> None:
    ids = [world.ids["carol_sales"], world.ids["carol_in"]]
    view = await read(database, user_actor(world.roamer), ids)
    assert [a.id for a in view.activities] == ids


async def test_one_department_never_sees_another_departments_activities(
    database: Database, world: World
) -> None:
    await not_found(database, user_actor(world.agent), [world.ids["carol_sales"]])


async def test_user_without_view_activity_is_refused_403_178(
    database: Database, world: World
) -> None:
    actor = user_actor(world.agent, roles=[Role("viewer", ["Create:Activity"])])
    with pytest.raises(DomainError) as caught:
        await read(database, actor, [world.ids["carol_in"], 999_999])
    assert caught.value.code == "403-178"
    assert caught.value.params["action"] == "View Activity"


# --- client applications -----------------------------------------------------------------


async def test_client_application_sees_every_activity(database: Database, world: World) -> None:
    actor = Actor.for_client(1, "crm", frozenset({"app.core.casemgr.read"}))
    ids = list(world.ids.values())
    view = await read(database, actor, ids)
    assert [a.id for a in view.activities] == ids


# --- not found, order ---------------------------------------------------------------------


async def test_missing_and_invisible_ids_are_reported_together_in_request_order(
    database: Database, world: World
) -> None:
    actor = customer_actor(world.alice)
    ids = [world.ids["carol_in"], world.ids["alice_in"], 999_999, world.ids["alice_task"]]
    error = await not_found(database, actor, ids)
    assert error.params["ids"] == f"{world.ids['carol_in']},999999,{world.ids['alice_task']}"


async def test_activities_come_back_in_the_order_asked_each_once(
    database: Database, world: World
) -> None:
    w = world.ids
    ids = [w["bob_in"], w["alice_in"], w["carol_in"], w["alice_in"]]
    view = await read(database, user_actor(world.agent), ids)
    assert [a.id for a in view.activities] == [w["bob_in"], w["alice_in"], w["carol_in"]]


async def test_no_ids_is_an_empty_view(database: Database, world: World) -> None:
    view = await read(database, user_actor(world.agent), [])
    assert view.activities == []


# --- the read model -----------------------------------------------------------------------


async def test_view_carries_everything_the_representations_refer_to(
    database: Database, world: World
) -> None:
    view = await read(database, user_actor(world.agent), [world.ids["alice_in"]])
    (activity,) = view.activities
    case = view.case(activity.case_id)
    assert case is not None and case.customer_id == world.alice.id
    department = view.department(activity.department_id)
    assert department is not None and department.name == "Service"
    last_department = view.department(activity.last_department_id)
    assert last_department is not None and last_department.name == "Sales"
    customer = view.customer(activity.customer_id)
    assert customer is not None and customer.email_addresses() == ["alice@customer.com"]
    assert customer.contacts[0].first_name == "Alice"
    worker = view.user(activity.user_last_worked_id)
    assert worker is not None and worker.login_id == "agent"
    creator = view.user(activity.created_by_id)
    assert creator is not None and creator.login_id == "roamer"
    issue_type = view.issue_type(activity.issue_type_id)
    assert issue_type is not None and issue_type.name == "Billing"
    assert activity.email is not None
    alias = view.alias(activity.email.receiver_alias_id)
    assert alias is not None and alias.address == "support@example.com"
    assert [n.text for n in activity.notes] == ["checked"]


# --- the query bound ----------------------------------------------------------------------


@contextmanager
def counted_selects(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


async def seed_many(database: Database, count: int, *, shared: bool) -> tuple[list[int], Actor]:
    """`count` activities in one department; `shared`: one case, customer and user for all,
    otherwise a case, a customer and a last-worked user of their own each."""
    async with database.uow() as uow:
        department = await uow.directory.add(Department(f"Dept {count} {shared}"))
        assert department.id is not None
        queue = await uow.directory.add(Queue(f"Queue {count} {shared}", department.id))
        issue_type = await uow.directory.add(IssueType(f"Issue {count} {shared}"))
        await uow.directory.add(Role(f"viewer{count}{shared}", ["View:Activity"]))
        ids = []
        owner: Customer | None = None
        worker: User | None = None
        case: Case | None = None
        for n in range(count):
            if owner is None or not shared:
                owner = await add_customer(uow, f"c{count}x{n}{shared}".lower())
                worker = await uow.directory.add(User(f"w{count}x{n}{shared}", department.id))
                case = await uow.cases.add(Case(owner.id, department.id, "Phone"))
            assert worker is not None
            activity = await add_activity(
                uow,
                owner,
                department,
                case=case,
                user_last_worked_id=worker.id,
                queue_id=queue.id,
                issue_type_id=issue_type.id,
            )
            assert activity.id is not None
            ids.append(activity.id)
        viewer = await uow.directory.add(
            User(f"viewer{count}{shared}", department.id, role_names=[f"viewer{count}{shared}"])
        )
        roles = [Role(f"viewer{count}{shared}", ["View:Activity"])]
        await uow.commit()
    return ids, Actor.for_user(viewer, roles)


async def selects_to_read(database: Database, count: int, *, shared: bool) -> int:
    ids, actor = await seed_many(database, count, shared=shared)
    with counted_selects(database) as statements:
        view = await read(database, actor, ids)
    assert len(view.activities) == count
    assert len(view.customers) == (1 if shared else count)
    return len(statements)


MAX_SELECTS = 16  # activities + 4 eager loads, departments, aliases, cases, customers + 2, ...


async def test_no_query_per_activity_when_activities_share_their_references(
    database: Database,
) -> None:
    few = await selects_to_read(database, 3, shared=True)
    many = await selects_to_read(database, 40, shared=True)
    assert many == few
    assert many <= MAX_SELECTS


async def test_statement_count_is_bounded_whatever_the_number_of_ids(
    database: Database,
) -> None:
    few = await selects_to_read(database, 3, shared=False)
    many = await selects_to_read(database, 40, shared=False)
    assert many == few
    assert many <= MAX_SELECTS
