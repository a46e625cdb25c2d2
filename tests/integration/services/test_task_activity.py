"""Creating a task activity (eGain v3 `POST /activity/task`), on both databases.

Every refusal is checked for its code and for having written nothing (row counts unchanged)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from emaildesk.db import tables as t
from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.domain.activities import Activity, ActivityType, Case, Mode, Substatus
from emaildesk.domain.actors import Actor
from emaildesk.domain.clock import utcnow
from emaildesk.domain.custom_attributes import AttributeEntity, CustomAttributeDefinition
from emaildesk.domain.customers import ContactPointKind, Customer, new_individual_customer
from emaildesk.domain.directory import Department
from emaildesk.domain.errors import DomainError
from emaildesk.domain.users import ClientApplication, Role, User
from emaildesk.services.attachment_uploads import AttachmentRef, upload_attachment
from emaildesk.services.customer_lookup import NewCustomerDetails
from emaildesk.services.ports import UnitOfWork
from emaildesk.services.task_activity import NewTask, TargetUser, create_task
from support.seed import BasicSite, seed_basic_site

EMAIL, HOME, MOBILE, CUSTOM = (
    ContactPointKind.EMAIL,
    ContactPointKind.HOME_PHONE,
    ContactPointKind.MOBILE_PHONE,
    ContactPointKind.CUSTOM,
)
JOHN = "john@customer.com"


@dataclass
class Site:
    basic: BasicSite
    billing: Department  # nobody works here
    users: dict[str, User]
    roles: list[Role]
    client: Actor
    john: int  # email, home phone "+1 555 0100", custom contact attribute loyalty_id "L-1"

    def actor(self, login: str) -> Actor:
        return Actor.for_user(self.users[login], self.roles)

    def user_id(self, login: str) -> int:
        user_id = self.users[login].id
        assert user_id is not None
        return user_id


async def add_user(uow: UnitOfWork, login: str, department_id: int, **fields: object) -> User:
    values: dict[str, object] = {"licenses": ["agent"], "role_names": ["agent"]}
    values.update(fields)
    user = await uow.directory.add(User(login, department_id, **values))  # type: ignore[arg-type]
    await uow.directory.index_user_attributes(user)
    return user


async def build_site(database: Database, *, departmentalized: bool = False) -> Site:
    async with database.uow() as uow:
        basic = await seed_basic_site(uow, departmentalized=departmentalized)
        service, sales = basic.service.id, basic.sales.id
        assert service is not None and sales is not None
        basic.settings.task_subtypes = ["general", "follow_up"]
        billing = await uow.directory.add(Department("Billing"))
        await uow.directory.add(CustomAttributeDefinition("loyalty_id", AttributeEntity.CONTACT))
        roles = [
            await uow.directory.add(Role("agent", ["Create:Activity"])),
            await uow.directory.add(Role("supervisor", ["Create:Activity", "Transfer:User"])),
            await uow.directory.add(Role("viewer", ["View:Activity"])),
        ]
        users = {
            "agent": await add_user(uow, "agent", service, foreign_department_ids=[sales]),
            "supervisor": await add_user(uow, "supervisor", service, role_names=["supervisor"]),
            "viewer": await add_user(uow, "viewer", service, role_names=["viewer"]),
            "unlicensed": await add_user(uow, "unlicensed", service, licenses=[]),
            "colleague": await add_user(
                uow,
                "colleague",
                service,
                external_id="EXT-7",
                custom_attributes={"employee_no": "42", "team": "blue"},
            ),
            "twin": await add_user(uow, "twin", service, custom_attributes={"team": "blue"}),
            "retired": await add_user(uow, "retired", service, active=False),
            "no_licence": await add_user(uow, "no_licence", service, licenses=["reporting"]),
            "seller": await add_user(uow, "seller", sales),
        }
        app = await uow.directory.add(ClientApplication("crm", "crm-client", scopes=[]))
        assert app.id is not None
        john = new_individual_customer(
            service if departmentalized else None,
            "John",
            "Henry",
            [(EMAIL, JOHN, None), (HOME, "+1 555 0100", None), (CUSTOM, "L-1", "loyalty_id")],
        )
        await uow.customers.add_customer(john)
        assert john.id is not None
        await uow.commit()
    return Site(basic, billing, users, roles, Actor.for_client(app.id, "crm", frozenset()), john.id)


@pytest.fixture
async def site(database: Database) -> Site:
    return await build_site(database)


def task(**overrides: object) -> NewTask:
    base: dict[str, object] = {
        "department_name": "Service",
        "type_value": "task",
        "subtype_value": "general",
        "subject": "Follow up with customer",
        "search_contact_on_attribute": "email.emailAddress",
        "customer": NewCustomerDetails(points=[(EMAIL, JOHN, None)]),
    }
    base.update(overrides)
    return NewTask(**base)  # type: ignore[arg-type]


def details(*points: tuple[ContactPointKind, str, str | None]) -> NewCustomerDetails:
    return NewCustomerDetails("Jane", "Doe", list(points))


COUNTED = (t.activities, t.task_payloads, t.cases, t.customers, t.contact_points, t.events)


async def counts(database: Database) -> dict[str, int]:
    async with database.engine.connect() as connection:
        found = {
            table.name: int(await connection.scalar(select(func.count()).select_from(table)) or 0)
            for table in COUNTED
        }
        attached = select(func.count()).where(t.attachments.c.activity_id.is_not(None))
        found["attached"] = int(await connection.scalar(attached) or 0)
    return found


async def create(database: Database, blobs: FileBlobStore, actor: Actor, command: NewTask) -> int:
    async with database.uow() as uow:
        activity = await create_task(uow, blobs, actor, command)
        await uow.commit()
    assert activity.id is not None
    return activity.id


async def created(
    database: Database, blobs: FileBlobStore, actor: Actor, command: NewTask
) -> Activity:
    """Create, then read the task back through a fresh unit of work."""
    activity_id = await create(database, blobs, actor, command)
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
    assert activity is not None
    return activity


async def refused(
    database: Database, blobs: FileBlobStore, actor: Actor, command: NewTask
) -> DomainError:
    before = await counts(database)
    with pytest.raises(DomainError) as caught:
        await create(database, blobs, actor, command)
    assert await counts(database) == before
    return caught.value


async def load_customer(database: Database, customer_id: int | None) -> Customer:
    assert customer_id is not None
    async with database.uow() as uow:
        found = await uow.customers.get(customer_id)
    assert found is not None
    return found


# --- the task ---


async def test_user_creates_task_assigned_to_self_in_a_new_case(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    activity = await created(
        database, blobs, site.actor("agent"), task(text="Call back", html="<p>Call back</p>")
    )
    assert activity.task is not None
    assert (activity.type, activity.subtype, activity.mode) == (
        ActivityType.TASK,
        "general",
        Mode.INBOUND,
    )
    assert activity.substatus is Substatus.ASSIGNED
    agent = site.user_id("agent")
    assert (activity.assigned_user_id, activity.user_last_worked_id) == (agent, agent)
    assert (activity.created_by_type, activity.created_by_id) == ("user", agent)
    assert activity.department_id == site.basic.service.id
    assert (activity.task.text, activity.task.html) == ("Call back", "<p>Call back</p>")
    assert activity.customer_id == site.john
    john = await load_customer(database, site.john)
    assert (activity.contact_id, activity.contact_point_id) == (john.contacts[0].id, None)
    async with database.uow() as uow:
        assert activity.case_id is not None
        case = await uow.cases.get(activity.case_id)
        events = [(e.kind, e.payload) for e in await uow.events.since(0)]
    assert case is not None and case.customer_id == site.john
    assert [kind for kind, _ in events] == ["CaseCreated", "ActivityCreated"]
    assert events[1][1]["assigned_user_id"] == agent


async def test_customer_actor_is_not_allowed(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(database, blobs, Actor.for_customer(site.john), task())
    assert error.code == "403-112"


async def test_user_needs_create_permission_on_activity(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(database, blobs, site.actor("viewer"), task())
    assert (error.code, error.params) == ("403-178", {"action": "Create Activity"})


async def test_user_needs_a_user_license(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(database, blobs, site.actor("unlicensed"), task())
    assert error.code == "403-2002"


async def test_user_must_work_in_the_department(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(database, blobs, site.actor("agent"), task(department_name="Billing"))
    assert (error.code, error.params) == ("403-2004", {"department": "Billing"})


async def test_foreign_department_user_may_create_there(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    activity = await created(database, blobs, site.actor("agent"), task(department_name="sales"))
    assert activity.department_id == site.basic.sales.id


async def test_client_application_needs_no_department_membership(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(department_name="Billing", target_user=TargetUser(login_id="agent"))
    activity = await created(database, blobs, site.client, command)
    assert (activity.department_id, activity.assigned_user_id) == (
        site.billing.id,
        site.user_id("agent"),
    )
    assert (activity.created_by_type, activity.created_by_id) == ("client_app", site.client.id)


@pytest.mark.parametrize(
    ("name", "code"), [(None, "400-2001"), ("  ", "400-2001"), ("Nowhere", "400-2023")]
)
async def test_department_name_is_required_and_must_exist(
    database: Database, blobs: FileBlobStore, site: Site, name: str | None, code: str
) -> None:
    error = await refused(database, blobs, site.actor("agent"), task(department_name=name))
    assert error.code == code


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"type_value": "email"}, "400-196"),
        ({"type_value": None}, "400-2001"),
        ({"subtype_value": None}, "400-2001"),
    ],
)
async def test_type_must_be_task_with_a_subtype(
    database: Database, blobs: FileBlobStore, site: Site, overrides: dict[str, object], code: str
) -> None:
    error = await refused(database, blobs, site.actor("agent"), task(**overrides))
    assert error.code == code


async def test_subtype_must_be_a_configured_task_subtype(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(database, blobs, site.actor("agent"), task(subtype_value="callback"))
    assert (error.code, error.params) == (
        "400-196",
        {"attribute": "type.subtype.value", "values": "general, follow_up"},
    )
    activity = await created(database, blobs, site.actor("agent"), task(subtype_value="follow_up"))
    assert activity.subtype == "follow_up"


async def test_subject_or_content_is_required(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(database, blobs, site.actor("agent"), task(subject=None))
    assert error.code == "400-2002"
    activity = await created(database, blobs, site.actor("agent"), task(subject=None, text="Do it"))
    assert activity.subject == ""


async def test_subject_longer_than_255_is_refused(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(database, blobs, site.actor("agent"), task(subject="x" * 256))
    assert error.code == "400-2003"


async def test_priority_must_be_1_to_7(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(database, blobs, site.actor("agent"), task(priority="8"))
    assert error.code == "400-196"
    activity = await created(database, blobs, site.actor("agent"), task(priority="2"))
    assert activity.priority == 2


async def test_due_date_must_be_in_the_future(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    past = utcnow() - timedelta(minutes=1)
    error = await refused(database, blobs, site.actor("agent"), task(due_date=past))
    assert error.code == "400-2019"
    future = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    activity = await created(database, blobs, site.actor("agent"), task(due_date=future))
    assert activity.due_date == future


@pytest.mark.parametrize(
    ("attributes", "code"),
    [({"nope": "1"}, "400-2012"), ({"customer_rating": "9"}, "400-2013")],
)
async def test_custom_attributes_must_be_configured_and_valid(
    database: Database, blobs: FileBlobStore, site: Site, attributes: dict[str, str], code: str
) -> None:
    error = await refused(database, blobs, site.actor("agent"), task(custom_attributes=attributes))
    assert error.code == code


async def test_custom_attributes_are_stored(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    attributes = {"customer_rating": "4"}
    activity = await created(
        database, blobs, site.actor("agent"), task(custom_attributes=attributes)
    )
    assert activity.custom_attributes == attributes


# --- finding or creating the customer ---


async def test_search_contact_on_attribute_is_required(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(search_contact_on_attribute=None)
    error = await refused(database, blobs, site.actor("agent"), command)
    assert (error.code, error.params) == ("400-112", {"parameters": "searchContactOnAttribute"})


@pytest.mark.parametrize("value", ["email", "fax.phone", "custom.", "EMAIL.EMAILADDRESS"])
async def test_search_contact_on_attribute_must_be_a_documented_value(
    database: Database, blobs: FileBlobStore, site: Site, value: str
) -> None:
    command = task(search_contact_on_attribute=value)
    error = await refused(database, blobs, site.actor("agent"), command)
    assert error.code == "400-102"
    assert "custom.<attribute_name>" in error.params["values"]


async def test_unknown_custom_contact_attribute_is_refused(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    """`order_number` is an activity attribute, not a contact attribute."""
    command = task(
        search_contact_on_attribute="custom.order_number",
        customer=details((CUSTOM, "7", "order_number")),
    )
    error = await refused(database, blobs, site.actor("agent"), command)
    assert (error.code, error.params) == ("400-2012", {"name": "order_number"})


async def test_searched_attribute_must_be_in_the_customer_representation(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(search_contact_on_attribute="home.phone")
    error = await refused(database, blobs, site.actor("agent"), command)
    assert (error.code, error.params) == (
        "400-2001",
        {"attribute": "customer.contacts.contact.home.phone"},
    )


async def test_searched_attribute_must_appear_once(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(customer=details((EMAIL, JOHN, None), (EMAIL, "other@customer.com", None)))
    error = await refused(database, blobs, site.actor("agent"), command)
    assert error.code == "400-2018"


@pytest.mark.parametrize(
    ("search", "point"),
    [
        ("email.emailAddress", (EMAIL, "John@Customer.COM", None)),
        ("home.phone", (HOME, "+1 (555) 0100", None)),
        ("custom.loyalty_id", (CUSTOM, "L-1", "loyalty_id")),
    ],
)
async def test_customer_is_found_on_the_searched_attribute(
    database: Database,
    blobs: FileBlobStore,
    site: Site,
    search: str,
    point: tuple[ContactPointKind, str, str | None],
) -> None:
    before = await counts(database)
    command = task(search_contact_on_attribute=search, customer=details(point))
    activity = await created(database, blobs, site.actor("agent"), command)
    assert activity.customer_id == site.john
    assert (await counts(database))["customers"] == before["customers"]


async def test_customer_not_found_without_create_customer_is_refused(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(customer=details((EMAIL, "jane@customer.com", None)))
    error = await refused(database, blobs, site.actor("agent"), command)
    assert (error.code, error.params) == ("400-2024", {"attribute": "email.emailAddress"})


async def test_create_customer_creates_a_shared_individual_customer(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(
        create_customer=True,
        customer=details((EMAIL, "jane@customer.com", None), (MOBILE, "+1 555 0199", None)),
    )
    activity = await created(database, blobs, site.actor("agent"), command)
    jane = await load_customer(database, activity.customer_id)
    assert jane.id != site.john and jane.department_id is None
    contact = jane.contacts[0]
    assert (contact.first_name, contact.last_name) == ("Jane", "Doe")
    assert sorted((p.kind.value, p.value) for p in contact.points) == [
        ("email.emailAddress", "jane@customer.com"),
        ("mobile.phone", "+1 555 0199"),
    ]
    assert (activity.contact_id, activity.contact_point_id) == (contact.id, None)
    async with database.uow() as uow:
        kinds = [e.kind for e in await uow.events.since(0)]
    assert kinds == ["CustomerCreated", "CaseCreated", "ActivityCreated"]


async def test_created_customer_takes_the_activity_department_when_departmentalized(
    database: Database, blobs: FileBlobStore
) -> None:
    site = await build_site(database, departmentalized=True)
    command = task(
        department_name="Sales",
        create_customer=True,
        customer=details((EMAIL, "jane@customer.com", None)),
    )
    activity = await created(database, blobs, site.actor("agent"), command)
    jane = await load_customer(database, activity.customer_id)
    assert jane.department_id == site.basic.sales.id


async def test_lookup_is_in_the_activity_department_when_departmentalized(
    database: Database, blobs: FileBlobStore
) -> None:
    """John lives in Service: a task in Sales does not find him there."""
    site = await build_site(database, departmentalized=True)
    error = await refused(database, blobs, site.actor("agent"), task(department_name="Sales"))
    assert error.code == "400-2024"
    activity = await created(database, blobs, site.actor("agent"), task())
    assert activity.customer_id == site.john


async def test_new_customer_may_have_one_contact_point_per_kind(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(
        create_customer=True,
        customer=details((EMAIL, "jane@customer.com", None), (HOME, "1", None), (HOME, "2", None)),
    )
    error = await refused(database, blobs, site.actor("agent"), command)
    assert (error.code, error.params) == ("400-2018", {"kind": "home.phone"})


async def test_new_customer_custom_contact_attributes_must_be_configured(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(
        create_customer=True,
        customer=details((EMAIL, "jane@customer.com", None), (CUSTOM, "x", "shoe_size")),
    )
    error = await refused(database, blobs, site.actor("agent"), command)
    assert error.code == "400-2012"


async def test_activity_contact_links_the_contact_point(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(
        activity_contact="home.phone",
        customer=details((EMAIL, JOHN, None), (HOME, "+1 555 0100", None)),
    )
    activity = await created(database, blobs, site.actor("agent"), command)
    john = await load_customer(database, site.john)
    [home] = [p for p in john.contacts[0].points if p.kind is HOME]
    assert (activity.contact_id, activity.contact_point_id) == (john.contacts[0].id, home.id)


async def test_activity_contact_links_the_new_customers_point(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(
        create_customer=True,
        activity_contact="email.emailAddress",
        customer=details((EMAIL, "jane@customer.com", None)),
    )
    activity = await created(database, blobs, site.actor("agent"), command)
    jane = await load_customer(database, activity.customer_id)
    assert activity.contact_point_id == jane.contacts[0].points[0].id


async def test_activity_contact_must_be_a_documented_value(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    """mobile.phone may be searched on, but is not in the activityContact enum."""
    command = task(
        activity_contact="mobile.phone",
        customer=details((EMAIL, JOHN, None), (MOBILE, "1", None)),
    )
    error = await refused(database, blobs, site.actor("agent"), command)
    assert (error.code, error.params) == (
        "400-102",
        {
            "parameter": "activityContact",
            "values": "email.emailAddress, home.phone, office.phone, social.facebookId, "
            "social.twitterId, social.instagramId",
        },
    )


async def test_activity_contact_must_be_in_the_customer_representation(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(
        database, blobs, site.actor("agent"), task(activity_contact="social.twitterId")
    )
    assert (error.code, error.params) == (
        "400-2001",
        {"attribute": "customer.contacts.contact.social.twitterId"},
    )


async def test_activity_contact_the_found_customer_lacks_is_refused(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(
        activity_contact="social.twitterId",
        customer=details((EMAIL, JOHN, None), (ContactPointKind.TWITTER, "@john", None)),
    )
    error = await refused(database, blobs, site.actor("agent"), command)
    assert (error.code, error.params) == (
        "400-102",
        {"parameter": "activityContact", "values": "email.emailAddress, home.phone"},
    )


# --- the target user ---


@pytest.mark.parametrize(
    "target",
    [
        TargetUser(login_id="colleague"),
        TargetUser(external_id="EXT-7"),
        TargetUser(custom_attributes={"employee_no": "42"}),
        TargetUser(custom_attributes={"employee_no": "42", "team": "blue"}),
    ],
)
async def test_target_user_is_found_by_one_identifier(
    database: Database, blobs: FileBlobStore, site: Site, target: TargetUser
) -> None:
    activity = await created(database, blobs, site.client, task(target_user=target))
    assert activity.assigned_user_id == site.user_id("colleague")
    assert activity.substatus is Substatus.ASSIGNED


async def test_target_user_is_found_by_id(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    target = TargetUser(id=site.user_id("colleague"))
    activity = await created(database, blobs, site.actor("supervisor"), task(target_user=target))
    assert activity.assigned_user_id == site.user_id("colleague")
    assert activity.created_by_id == site.user_id("supervisor")


async def test_target_user_ambiguous_when_several_identifiers_are_given(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    target = TargetUser(login_id="colleague", external_id="EXT-7")
    error = await refused(database, blobs, site.client, task(target_user=target))
    assert error.code == "400-2026"


async def test_target_custom_attributes_matching_several_users_are_ambiguous(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    target = TargetUser(custom_attributes={"team": "blue"})
    error = await refused(database, blobs, site.client, task(target_user=target))
    assert error.code == "400-2026"


async def test_client_application_must_name_target_user(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(database, blobs, site.client, task())
    assert error.code == "400-2027"


@pytest.mark.parametrize(
    "target",
    [
        TargetUser(login_id="nobody"),
        TargetUser(id=99999),
        TargetUser(external_id="EXT-0"),
        TargetUser(custom_attributes={"employee_no": "0"}),
        TargetUser(login_id="retired"),
    ],
)
async def test_target_user_must_exist_and_be_active(
    database: Database, blobs: FileBlobStore, site: Site, target: TargetUser
) -> None:
    error = await refused(database, blobs, site.client, task(target_user=target))
    assert error.code == "400-2028"


async def test_target_user_needs_a_user_license(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(target_user=TargetUser(login_id="no_licence"))
    error = await refused(database, blobs, site.client, command)
    assert (error.code, error.params) == ("403-2002", {"user": "no_licence"})


async def test_assigning_to_another_user_needs_transfer_permission(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(target_user=TargetUser(login_id="colleague"))
    error = await refused(database, blobs, site.actor("agent"), command)
    assert (error.code, error.params) == ("403-2003", {"user": "colleague"})


async def test_naming_oneself_as_target_needs_no_transfer_permission(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(target_user=TargetUser(login_id="agent"))
    activity = await created(database, blobs, site.actor("agent"), command)
    assert activity.assigned_user_id == site.user_id("agent")


async def test_transfer_permission_covers_only_users_of_shared_departments(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = task(target_user=TargetUser(login_id="seller"))
    error = await refused(database, blobs, site.actor("supervisor"), command)
    assert error.code == "403-2003"


# --- case and attachments ---


async def test_named_case_must_exist(database: Database, blobs: FileBlobStore, site: Site) -> None:
    error = await refused(database, blobs, site.actor("agent"), task(case_id=99999))
    assert (error.code, error.params) == ("400-2007", {"case_id": "99999"})


async def test_named_case_is_used(database: Database, blobs: FileBlobStore, site: Site) -> None:
    assert site.basic.service.id is not None
    async with database.uow() as uow:
        case = await uow.cases.add(Case(site.john, site.basic.service.id, "Earlier"))
        await uow.commit()
    before = await counts(database)
    activity = await created(database, blobs, site.actor("agent"), task(case_id=case.id))
    assert activity.case_id == case.id
    assert (await counts(database))["cases"] == before["cases"]


async def upload(database: Database, blobs: FileBlobStore, actor: Actor) -> str:
    async with database.uow() as uow:
        stored = await upload_attachment(uow, blobs, actor, "notes.txt", "text/plain", b"notes")
        await uow.commit()
    assert stored.alt_id is not None
    return stored.alt_id


async def test_attachments_are_claimed_by_alt_id(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    agent = site.actor("agent")
    alt_id = await upload(database, blobs, agent)
    activity = await created(database, blobs, agent, task(attachments=[AttachmentRef(alt_id)]))
    assert [(a.alt_id, a.activity_id) for a in activity.attachments] == [(alt_id, activity.id)]


async def test_attachment_uploaded_by_another_actor_is_refused(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    alt_id = await upload(database, blobs, site.actor("colleague"))
    command = task(attachments=[AttachmentRef(alt_id)])
    error = await refused(database, blobs, site.actor("agent"), command)
    assert error.code == "400-2033"
