"""A customer's email response (eGain v3 `POST /activity/{ids}/email/general`), on both databases.

Every refusal is checked for its code and for having written nothing (row counts unchanged)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from emaildesk.db import tables as t
from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.domain.activities import (
    Activity,
    ActivityType,
    Case,
    EmailPayload,
    Mode,
    Substatus,
)
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.customers import (
    ContactPointKind,
    Customer,
    CustomerGrant,
    new_individual_customer,
)
from emaildesk.domain.directory import IssueType, MessageCenter
from emaildesk.domain.errors import DomainError
from emaildesk.services.attachment_uploads import AttachmentRef, upload_attachment
from emaildesk.services.email_response import EmailResponse, create_email_response
from emaildesk.services.ports import UnitOfWork
from support.seed import BasicSite, seed_basic_site

JOHN = "john@customer.com"
MARY = "mary@customer.com"
PAUL = "paul@customer.com"


@dataclass
class Site:
    basic: BasicSite
    john: int
    mary: int  # has granted john the right to act for her
    paul: int  # has granted nobody anything
    mute: int  # has no email address; has granted john
    john_email: int  # john's inbound email to support@ (Service)
    mary_email: int
    paul_email: int
    mute_email: int
    center: int  # active, Service, issue type "billing"
    sales_center: int  # active, Sales
    closed_center: int  # inactive
    billing: int
    shipping: int  # not associated with any message center
    retired_issue: int  # inactive, though associated with `center`


async def add_customer(uow: UnitOfWork, address: str | None, department_id: int | None) -> int:
    points: list[tuple[ContactPointKind, str, str | None]] = (
        [(ContactPointKind.EMAIL, address, None)] if address else []
    )
    customer = new_individual_customer(department_id, "First", "Last", points)
    await uow.customers.add_customer(customer)
    assert customer.id is not None
    return customer.id


async def add_email(
    uow: UnitOfWork,
    customer_id: int,
    department_id: int,
    *,
    mode: Mode = Mode.INBOUND,
    substatus: Substatus = Substatus.READY_FOR_INBOUND_WORKFLOW,
    type_: ActivityType = ActivityType.EMAIL,
    alias_id: int | None = None,
    message_id: str | None = None,
) -> int:
    case = await uow.cases.add(Case(customer_id, department_id, "Issue"))
    customer = await uow.customers.get(customer_id)
    assert customer is not None
    points = [p for c in customer.contacts for p in c.points]
    activity = Activity(
        type_,
        "general",
        mode,
        department_id,
        case_id=case.id,
        substatus=substatus,
        subject="Issue with mobile phone",
        customer_id=customer_id,
        contact_point_id=points[0].id if points else None,
        email=EmailPayload(
            from_address=points[0].value if points else "",
            receiver_alias_id=alias_id,
            message_id=message_id,
            references=["<first@customer.com>"] if message_id else [],
        )
        if type_ is ActivityType.EMAIL
        else None,
    )
    await uow.activities.add(activity)
    assert activity.id is not None
    return activity.id


async def build_site(database: Database, *, departmentalized: bool = False) -> Site:
    async with database.uow() as uow:
        basic = await seed_basic_site(uow, departmentalized=departmentalized)
        service, sales = basic.service.id, basic.sales.id
        assert service is not None and sales is not None
        home = service if departmentalized else None
        billing = await uow.directory.add(IssueType("billing"))
        shipping = await uow.directory.add(IssueType("shipping"))
        retired = await uow.directory.add(IssueType("retired", active=False))
        assert billing.id and shipping.id and retired.id
        center = await uow.directory.add(
            MessageCenter("Help center", service, issue_type_ids=[billing.id, retired.id])
        )
        sales_center = await uow.directory.add(MessageCenter("Sales center", sales))
        closed = await uow.directory.add(MessageCenter("Closed center", service, active=False))
        john = await add_customer(uow, JOHN, home)
        mary = await add_customer(uow, MARY, home)
        paul = await add_customer(uow, PAUL, sales if departmentalized else None)
        mute = await add_customer(uow, None, home)
        await uow.customers.add(CustomerGrant(grantee_id=john, grantor_id=mary))
        await uow.customers.add(CustomerGrant(grantee_id=john, grantor_id=mute))
        alias = basic.support_alias.id
        site = Site(
            basic,
            john,
            mary,
            paul,
            mute,
            await add_email(uow, john, service, alias_id=alias, message_id="<m1@customer.com>"),
            await add_email(uow, mary, service, alias_id=alias),
            await add_email(uow, paul, sales if departmentalized else service, alias_id=alias),
            await add_email(uow, mute, service, alias_id=alias),
            center.id or 0,
            sales_center.id or 0,
            closed.id or 0,
            billing.id,
            shipping.id,
            retired.id,
        )
        await uow.commit()
    return site


@pytest.fixture
async def site(database: Database) -> Site:
    return await build_site(database)


def response(activity_id: int, **overrides: object) -> EmailResponse:
    base: dict[str, object] = {
        "ids": [activity_id],
        "type_value": "email",
        "subtype_value": "general",
        "subject": "Re: Issue with mobile phone",
        "text": "It is still broken.",
    }
    base.update(overrides)
    return EmailResponse(**base)  # type: ignore[arg-type]


def customer(customer_id: int) -> Actor:
    return Actor.for_customer(customer_id)


async def respond(
    database: Database, blobs: FileBlobStore, actor: Actor, command: EmailResponse
) -> Activity:
    async with database.uow() as uow:
        activity = await create_email_response(uow, blobs, actor, command)
        await uow.commit()
    assert activity.id is not None
    async with database.uow() as uow:
        stored = await uow.activities.get(activity.id)
        assert stored is not None
        return stored


async def load_customer(database: Database, customer_id: int) -> Customer:
    async with database.uow() as uow:
        found = await uow.customers.get(customer_id)
    assert found is not None
    return found


COUNTED = (t.activities, t.email_payloads, t.cases, t.customers, t.contact_points, t.events)


async def counts(database: Database) -> dict[str, int]:
    async with database.engine.connect() as connection:
        found = {
            table.name: int(await connection.scalar(select(func.count()).select_from(table)) or 0)
            for table in COUNTED
        }
        attached = select(func.count()).where(t.attachments.c.activity_id.is_not(None))
        found["attached"] = int(await connection.scalar(attached) or 0)
    return found


async def refused(
    database: Database, blobs: FileBlobStore, actor: Actor, command: EmailResponse
) -> DomainError:
    """Run a request that must fail; check that it wrote nothing; return the error."""
    before = await counts(database)
    with pytest.raises(DomainError) as caught:
        await respond(database, blobs, actor, command)
    assert await counts(database) == before
    return caught.value


async def upload(database: Database, blobs: FileBlobStore, actor: Actor, data: bytes) -> str:
    async with database.uow() as uow:
        stored = await upload_attachment(uow, blobs, actor, "photo.png", "image/png", data)
        await uow.commit()
    assert stored.alt_id is not None
    return stored.alt_id


# --- the response itself ---


async def test_customer_responds_in_the_same_case_as_the_responded_activity(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    activity = await respond(database, blobs, customer(site.john), response(site.john_email))
    async with database.uow() as uow:
        responded = await uow.activities.get(site.john_email)
        events = await uow.events.since(0)
    assert responded is not None and activity.email is not None
    assert activity.id != site.john_email
    assert activity.case_id == responded.case_id
    assert (activity.type, activity.subtype, activity.mode) == (
        ActivityType.EMAIL,
        "general",
        Mode.INBOUND,
    )
    assert activity.substatus is Substatus.READY_FOR_INBOUND_WORKFLOW
    assert (activity.customer_id, activity.sent_on_behalf) == (site.john, False)
    assert activity.department_id == site.basic.service.id
    assert activity.contact_point_id == responded.contact_point_id
    assert (activity.created_by_type, activity.created_by_id) == ("customer", site.john)
    assert activity.email.from_address == JOHN
    assert activity.email.text == "It is still broken."
    assert activity.email.receiver_alias_id == site.basic.support_alias.id
    assert activity.email.in_reply_to == "<m1@customer.com>"
    assert activity.email.references == ["<first@customer.com>", "<m1@customer.com>"]
    [event] = [e for e in events if e.aggregate_id == activity.id and e.kind == "ActivityCreated"]
    assert event.payload["in_response_to"] == site.john_email
    assert (event.actor_type, event.actor_id) == ("customer", site.john)


async def test_created_customer_email_response_is_always_secure(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    async with database.uow() as uow:
        responded = await uow.activities.get(site.john_email)
    assert responded is not None and responded.secure is False
    activity = await respond(database, blobs, customer(site.john), response(site.john_email))
    assert activity.secure is True


@pytest.mark.parametrize(
    "actor", [Actor(ActorType.USER, 1, "agent1"), Actor(ActorType.CLIENT_APPLICATION, 1, "crm")]
)
async def test_only_customers_may_respond(
    database: Database, blobs: FileBlobStore, site: Site, actor: Actor
) -> None:
    error = await refused(database, blobs, actor, response(site.john_email))
    assert error.code == "403-112"


async def test_more_than_one_activity_id_exceeds_the_limit_of_one(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = response(site.john_email, ids=[site.john_email, site.mary_email])
    error = await refused(database, blobs, customer(site.john), command)
    assert (error.code, error.params) == ("400-10424", {"limit": "ids", "value": "1"})


async def test_repeated_id_names_one_activity(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = response(site.john_email, ids=[site.john_email, site.john_email])
    activity = await respond(database, blobs, customer(site.john), command)
    assert activity.customer_id == site.john


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"type_value": "task"}, "400-196"),
        ({"type_value": None}, "400-2001"),
        ({"subtype_value": "compose"}, "400-196"),
        ({"subtype_value": None}, "400-2001"),
    ],
)
async def test_type_must_be_email_and_subtype_general(
    database: Database, blobs: FileBlobStore, site: Site, overrides: dict[str, object], code: str
) -> None:
    error = await refused(
        database, blobs, customer(site.john), response(site.john_email, **overrides)
    )
    assert error.code == code


async def test_at_least_one_of_subject_attachments_or_content_is_required(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = response(site.john_email, subject=None, text=None, html="")
    error = await refused(database, blobs, customer(site.john), command)
    assert error.code == "400-2002"


async def test_subject_alone_html_alone_or_attachment_alone_is_enough(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    john = customer(site.john)
    await respond(database, blobs, john, response(site.john_email, text=None))
    await respond(
        database, blobs, john, response(site.john_email, subject=None, text=None, html="<p>x</p>")
    )
    alt_id = await upload(database, blobs, john, b"png")
    only_file = response(
        site.john_email, subject=None, text=None, attachments=[AttachmentRef(alt_id)]
    )
    activity = await respond(database, blobs, john, only_file)
    assert [a.alt_id for a in activity.attachments] == [alt_id]


async def test_subject_longer_than_255_is_refused(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(
        database, blobs, customer(site.john), response(site.john_email, subject="x" * 256)
    )
    assert error.code == "400-2003"


# --- which activities a customer may answer ---


async def test_missing_activity_is_not_found(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(database, blobs, customer(site.john), response(99999))
    assert (error.code, error.params) == ("404-101", {"ids": "99999"})


async def test_another_customers_activity_is_not_found(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(database, blobs, customer(site.john), response(site.paul_email))
    assert error.code == "404-101"


async def test_granted_customers_activity_without_customer_parameter_is_not_found(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(database, blobs, customer(site.john), response(site.mary_email))
    assert error.code == "404-101"


async def test_outbound_email_not_yet_sent_is_not_visible_to_the_customer(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    assert site.basic.service.id is not None
    async with database.uow() as uow:
        draft = await add_email(
            uow,
            site.john,
            site.basic.service.id,
            mode=Mode.OUTBOUND,
            substatus=Substatus.READY_FOR_OUTBOUND_WORKFLOW,
        )
        sent = await add_email(
            uow, site.john, site.basic.service.id, mode=Mode.OUTBOUND, substatus=Substatus.SENT
        )
        await uow.commit()
    error = await refused(database, blobs, customer(site.john), response(draft))
    assert error.code == "404-101"
    activity = await respond(database, blobs, customer(site.john), response(sent))
    assert activity.mode is Mode.INBOUND


async def test_task_activity_is_not_visible_to_the_customer(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    assert site.basic.service.id is not None
    async with database.uow() as uow:
        task = await add_email(uow, site.john, site.basic.service.id, type_=ActivityType.TASK)
        await uow.commit()
    error = await refused(database, blobs, customer(site.john), response(task))
    assert error.code == "404-101"


async def test_completed_activity_can_still_be_responded_to(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    async with database.uow() as uow:
        responded = await uow.activities.get(site.john_email)
        assert responded is not None
        responded.move_to(Substatus.COMPLETED)
        await uow.commit()
    activity = await respond(database, blobs, customer(site.john), response(site.john_email))
    assert activity.substatus is Substatus.READY_FOR_INBOUND_WORKFLOW
    async with database.uow() as uow:
        still = await uow.activities.get(site.john_email)
    assert still is not None and still.substatus is Substatus.COMPLETED


# --- acting for another customer ---


async def test_customer_acting_without_grant_gets_400(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    error = await refused(
        database, blobs, customer(site.john), response(site.paul_email, customer_id=site.paul)
    )
    assert (error.code, error.family.value) == ("400-2017", "invalid")
    unknown = await refused(
        database, blobs, customer(site.john), response(site.paul_email, customer_id=99999)
    )
    assert unknown.code == "400-2017"


async def test_grant_works_one_way_only(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    """Mary granted John; that does not let Mary act for John."""
    error = await refused(
        database, blobs, customer(site.mary), response(site.john_email, customer_id=site.john)
    )
    assert error.code == "400-2017"


async def test_customer_acting_with_grant_creates_activity_sent_on_behalf(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = response(site.mary_email, customer_id=site.mary)
    activity = await respond(database, blobs, customer(site.john), command)
    assert activity.email is not None
    assert (activity.customer_id, activity.sent_on_behalf, activity.secure) == (
        site.mary,
        True,
        True,
    )
    assert activity.email.from_address == MARY
    assert (activity.created_by_type, activity.created_by_id) == ("customer", site.john)


async def test_acting_for_a_customer_answers_only_that_customers_activities(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = response(site.john_email, customer_id=site.mary)
    error = await refused(database, blobs, customer(site.john), command)
    assert error.code == "404-101"


async def test_from_must_not_be_given_with_customer_parameter(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = response(site.mary_email, customer_id=site.mary, from_address=MARY)
    error = await refused(database, blobs, customer(site.john), command)
    assert error.code == "400-2015"


async def test_customer_parameter_naming_oneself_acts_for_self(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = response(site.john_email, customer_id=site.john, from_address=JOHN)
    activity = await respond(database, blobs, customer(site.john), command)
    assert (activity.customer_id, activity.sent_on_behalf) == (site.john, False)


async def test_granted_customer_without_email_address_is_refused(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = response(site.mute_email, customer_id=site.mute)
    error = await refused(database, blobs, customer(site.john), command)
    assert (error.code, error.params) == ("400-2029", {"customer_id": str(site.mute)})


# --- the sender ---


async def test_from_address_of_the_logged_in_customer_is_used_as_stored(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    before = await counts(database)
    activity = await respond(
        database,
        blobs,
        customer(site.john),
        response(site.john_email, from_address="JOHN@Customer.com"),
    )
    john = await load_customer(database, site.john)
    assert activity.email is not None and activity.email.from_address == "JOHN@Customer.com"
    assert activity.contact_point_id == john.contacts[0].points[0].id
    assert (await counts(database))["contact_points"] == before["contact_points"]


async def test_from_address_of_another_contact_is_refused(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = response(site.john_email, from_address=PAUL)
    error = await refused(database, blobs, customer(site.john), command)
    assert (error.code, error.params) == (
        "400-2016",
        {"attribute": "payload.email.emailAddresses.from"},
    )


async def test_new_from_address_becomes_a_contact_point_of_the_logged_in_customer(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = response(site.john_email, from_address="john.private@home.example")
    activity = await respond(database, blobs, customer(site.john), command)
    john = await load_customer(database, site.john)
    assert john.email_addresses() == [JOHN, "john.private@home.example"]
    new_point = john.contacts[0].points[1]
    assert (activity.contact_point_id, activity.contact_id) == (new_point.id, john.contacts[0].id)
    assert (new_point.customer_id, new_point.department_id) == (site.john, None)


async def test_from_lookup_is_in_the_customers_department_when_departmentalized(
    database: Database, blobs: FileBlobStore
) -> None:
    """Paul's address lives in Sales; for John (Service) it is a new address, not Paul's."""
    site = await build_site(database, departmentalized=True)
    command = response(site.john_email, from_address=PAUL)
    activity = await respond(database, blobs, customer(site.john), command)
    john = await load_customer(database, site.john)
    assert john.email_addresses() == [JOHN, PAUL]
    assert john.contacts[0].points[1].department_id == site.basic.service.id
    assert activity.customer_id == site.john


@pytest.mark.parametrize(
    ("address", "code"), [("a@b.com, c@d.com", "400-2005"), ("not-an-address", "400-2004")]
)
async def test_from_must_be_a_single_valid_address(
    database: Database, blobs: FileBlobStore, site: Site, address: str, code: str
) -> None:
    command = response(site.john_email, from_address=address)
    error = await refused(database, blobs, customer(site.john), command)
    assert error.code == code


# --- receiver, message center, issue type, department ---


@pytest.mark.parametrize("receiver", ["nobody@example.com", "old@example.com"])
async def test_receiver_must_be_an_active_alias(
    database: Database, blobs: FileBlobStore, site: Site, receiver: str
) -> None:
    command = response(site.john_email, receiver=receiver)
    error = await refused(database, blobs, customer(site.john), command)
    assert error.code == "400-2006"


async def test_receiver_decides_the_department(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = response(site.john_email, receiver="Sales@Example.com")
    activity = await respond(database, blobs, customer(site.john), command)
    assert activity.email is not None
    assert activity.department_id == site.basic.sales.id
    assert activity.email.receiver_alias_id == site.basic.sales_alias.id


async def test_receiver_must_be_in_the_customers_department_when_departmentalized(
    database: Database, blobs: FileBlobStore
) -> None:
    site = await build_site(database, departmentalized=True)
    command = response(site.john_email, receiver="sales@example.com")
    error = await refused(database, blobs, customer(site.john), command)
    assert (error.code, error.params) == (
        "400-2031",
        {"attribute": "payload.email.emailAddresses.receiver"},
    )
    same = await respond(
        database,
        blobs,
        customer(site.john),
        response(site.john_email, receiver="support@example.com"),
    )
    assert same.department_id == site.basic.service.id


@pytest.mark.parametrize("which", ["closed", "unknown"])
async def test_message_center_must_exist_and_be_active(
    database: Database, blobs: FileBlobStore, site: Site, which: str
) -> None:
    center = site.closed_center if which == "closed" else 99999
    command = response(site.john_email, message_center_id=center)
    error = await refused(database, blobs, customer(site.john), command)
    assert error.code == "400-2011"


async def test_message_center_decides_the_department_and_is_stored_with_the_issue_type(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = response(site.john_email, message_center_id=site.center, issue_type_id=site.billing)
    activity = await respond(database, blobs, customer(site.john), command)
    assert activity.email is not None
    assert activity.department_id == site.basic.service.id
    assert (activity.email.message_center_id, activity.issue_type_id) == (site.center, site.billing)
    in_sales = await respond(
        database,
        blobs,
        customer(site.john),
        response(site.john_email, message_center_id=site.sales_center),
    )
    assert in_sales.department_id == site.basic.sales.id


async def test_message_center_must_be_in_the_customers_department_when_departmentalized(
    database: Database, blobs: FileBlobStore
) -> None:
    site = await build_site(database, departmentalized=True)
    command = response(site.john_email, message_center_id=site.sales_center)
    error = await refused(database, blobs, customer(site.john), command)
    assert (error.code, error.params) == (
        "400-2031",
        {"attribute": "payload.email.messageCenter.id"},
    )


async def test_issue_type_needs_a_message_center(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    command = response(site.john_email, issue_type_id=site.billing)
    error = await refused(database, blobs, customer(site.john), command)
    assert error.code == "400-2009"


@pytest.mark.parametrize("which", ["shipping", "retired", "unknown"])
async def test_issue_type_must_be_an_active_one_of_the_message_center(
    database: Database, blobs: FileBlobStore, site: Site, which: str
) -> None:
    issue = {"shipping": site.shipping, "retired": site.retired_issue, "unknown": 99999}[which]
    command = response(site.john_email, message_center_id=site.center, issue_type_id=issue)
    error = await refused(database, blobs, customer(site.john), command)
    assert error.code == "400-2010"


async def test_receiver_with_message_center_must_be_an_alias_of_its_department(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    mismatch = response(
        site.john_email, message_center_id=site.center, receiver="sales@example.com"
    )
    error = await refused(database, blobs, customer(site.john), mismatch)
    assert (error.code, error.params) == (
        "400-2006",
        {"address": "sales@example.com", "department": "Service"},
    )
    matching = response(
        site.john_email, message_center_id=site.sales_center, receiver="sales@example.com"
    )
    activity = await respond(database, blobs, customer(site.john), matching)
    assert activity.email is not None
    assert activity.department_id == site.basic.sales.id
    assert activity.email.receiver_alias_id == site.basic.sales_alias.id


async def test_without_receiver_or_message_center_the_department_is_the_responded_activitys(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    assert site.basic.sales.id is not None
    async with database.uow() as uow:
        in_sales = await add_email(
            uow, site.john, site.basic.sales.id, alias_id=site.basic.sales_alias.id
        )
        await uow.commit()
    activity = await respond(database, blobs, customer(site.john), response(in_sales))
    assert activity.email is not None
    assert activity.department_id == site.basic.sales.id
    assert activity.email.receiver_alias_id == site.basic.sales_alias.id


# --- reply-to, custom attributes, sizes, attachments ---


@pytest.mark.parametrize(
    ("reply_to", "code"), [("x@y", "400-2004"), ("a@b.com; c@d.com", "400-2005")]
)
async def test_reply_to_must_be_a_single_valid_address(
    database: Database, blobs: FileBlobStore, site: Site, reply_to: str, code: str
) -> None:
    command = response(site.john_email, reply_to=reply_to)
    error = await refused(database, blobs, customer(site.john), command)
    assert error.code == code


async def test_reply_to_is_stored(database: Database, blobs: FileBlobStore, site: Site) -> None:
    command = response(site.john_email, reply_to="replies@customer.com")
    activity = await respond(database, blobs, customer(site.john), command)
    assert activity.email is not None and activity.email.reply_to == "replies@customer.com"


@pytest.mark.parametrize(
    ("attributes", "code"),
    [
        ({"nope": "1"}, "400-2012"),
        ({"customer_rating": "9"}, "400-2013"),
        ({"order_number": "A+1"}, "400-2014"),
    ],
)
async def test_custom_attributes_must_be_configured_and_valid(
    database: Database, blobs: FileBlobStore, site: Site, attributes: dict[str, str], code: str
) -> None:
    command = response(site.john_email, custom_attributes=attributes)
    error = await refused(database, blobs, customer(site.john), command)
    assert error.code == code


async def test_custom_attributes_are_stored(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    attributes = {"customer_rating": "5", "order_number": "A-1"}
    command = response(site.john_email, custom_attributes=attributes)
    activity = await respond(database, blobs, customer(site.john), command)
    assert activity.custom_attributes == attributes


async def test_email_larger_than_max_email_size_with_attachments_is_refused(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    async with database.uow() as uow:
        settings = await uow.directory.settings()
        settings.max_email_size_mb = 1
        await uow.commit()
    john = customer(site.john)
    half = 600 * 1024  # each upload fits; together they do not
    refs = [AttachmentRef(await upload(database, blobs, john, bytes([i]) * half)) for i in (1, 2)]
    error = await refused(database, blobs, john, response(site.john_email, attachments=refs))
    assert (error.code, error.params) == ("400-2020", {"limit": "1"})
    async with database.uow() as uow:
        rows = [await uow.attachments.by_alt_id(ref.alt_id) for ref in refs]
    assert [r.activity_id for r in rows if r is not None] == [None, None]


async def test_content_larger_than_max_body_size_is_refused(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    limit = site.basic.settings.max_body_size_kb * 1024
    john = customer(site.john)
    error = await refused(database, blobs, john, response(site.john_email, text="x" * (limit + 1)))
    assert error.code == "400-2021"
    await respond(database, blobs, john, response(site.john_email, text="x" * limit))


async def test_uploaded_attachments_are_claimed_by_the_response(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    john = customer(site.john)
    alt_id = await upload(database, blobs, john, b"\x89PNG image")
    ref = AttachmentRef(alt_id, inline=True, content_id="photo@x")
    activity = await respond(
        database,
        blobs,
        john,
        response(site.john_email, html='<img src="cid:photo@x">', attachments=[ref]),
    )
    [attachment] = activity.attachments
    assert (
        attachment.alt_id,
        attachment.activity_id,
        attachment.inline,
        attachment.content_id,
    ) == (
        alt_id,
        activity.id,
        True,
        "photo@x",
    )
    assert await blobs.get(attachment.sha256) == b"\x89PNG image"


async def test_attachment_is_claimed_once(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    john = customer(site.john)
    alt_id = await upload(database, blobs, john, b"once")
    command = response(site.john_email, attachments=[AttachmentRef(alt_id)])
    await respond(database, blobs, john, command)
    error = await refused(database, blobs, john, command)
    assert error.code == "400-2033"


async def test_uploader_acting_for_granted_customer_still_owns_the_upload(
    database: Database, blobs: FileBlobStore, site: Site
) -> None:
    john = customer(site.john)
    mine = await upload(database, blobs, john, b"johns file")
    command = response(site.mary_email, customer_id=site.mary, attachments=[AttachmentRef(mine)])
    activity = await respond(database, blobs, john, command)
    assert [a.alt_id for a in activity.attachments] == [mine]
    marys = await upload(database, blobs, customer(site.mary), b"marys file")
    command = response(site.mary_email, customer_id=site.mary, attachments=[AttachmentRef(marys)])
    error = await refused(database, blobs, john, command)
    assert error.code == "400-2033"
