"""The shared ingest use case, against the eGain v12 incoming-email rules, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from emaildesk.db import tables as t
from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.domain.activities import Mode, Substatus
from emaildesk.domain.errors import DomainError
from emaildesk.services.customer_lookup import NewCustomerDetails
from emaildesk.services.incoming_email import IncomingEmail, NewAttachment, create_incoming_email
from support.seed import seed_basic_site


def email(**overrides: object) -> IncomingEmail:
    base: dict[str, object] = {
        "from_address": "jhenry@customer.com",
        "receiver": "support@example.com",
        "department_name": "Service",
        "subject": "Issue with mobile phone",
        "text": "This is the issue",
    }
    base.update(overrides)
    return IncomingEmail(**base)  # type: ignore[arg-type]


async def ingest(database: Database, blobs: FileBlobStore, command: IncomingEmail) -> int:
    async with database.uow() as uow:
        activity = await create_incoming_email(uow, blobs, command, None)
        await uow.commit()
        assert activity.id is not None
        return activity.id


async def count(database: Database, table: t.Table) -> int:
    async with database.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


@pytest.fixture
async def site(database: Database) -> None:
    async with database.uow() as uow:
        await seed_basic_site(uow)
        await uow.commit()


@pytest.mark.usefixtures("site")
async def test_creates_activity_case_and_customer(database: Database, blobs: FileBlobStore) -> None:
    activity_id = await ingest(
        database, blobs, email(sent_date=datetime(2015, 12, 26, 19, tzinfo=UTC))
    )
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None and activity.email is not None
        assert activity.mode is Mode.INBOUND
        assert activity.substatus is Substatus.READY_FOR_INBOUND_WORKFLOW
        assert activity.email.from_address == "jhenry@customer.com"
        assert activity.email.sent_date == datetime(2015, 12, 26, 19, tzinfo=UTC)
        assert activity.case_id is not None and activity.customer_id is not None
        customer = await uow.customers.get(activity.customer_id)
        assert customer is not None and customer.email_addresses() == ["jhenry@customer.com"]
        events = [e.kind for e in await uow.events.since(0)]
    assert events == ["CustomerCreated", "CaseCreated", "ActivityCreated"]


@pytest.mark.usefixtures("site")
async def test_second_email_from_same_sender_reuses_the_customer(
    database: Database, blobs: FileBlobStore
) -> None:
    await ingest(database, blobs, email())
    await ingest(database, blobs, email(from_address="JHenry@Customer.com"))
    assert await count(database, t.customers) == 1
    assert await count(database, t.cases) == 2  # no case named: a new case each time


@pytest.mark.usefixtures("site")
async def test_named_case_must_exist(database: Database, blobs: FileBlobStore) -> None:
    first = await ingest(database, blobs, email())
    async with database.uow() as uow:
        activity = await uow.activities.get(first)
        assert activity is not None
        case_id = activity.case_id
    await ingest(database, blobs, email(case_id=case_id))
    assert await count(database, t.cases) == 1
    with pytest.raises(DomainError) as caught:
        await ingest(database, blobs, email(case_id=99999))
    assert caught.value.code == "400-2007"


@pytest.mark.usefixtures("site")
@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"from_address": "a@b.com, c@d.com"}, "400-2005"),
        ({"from_address": "not-an-address"}, "400-2004"),
        ({"from_address": ""}, "400-2001"),
        ({"receiver": "nobody@example.com"}, "400-2006"),
        ({"receiver": "old@example.com"}, "400-2006"),  # inactive alias
        ({"receiver": "sales@example.com"}, "400-2006"),  # alias of another department
        ({"department_name": "Nowhere"}, "400-2023"),
        ({"subject": "x" * 256}, "400-2003"),
        ({"subject": None, "text": None}, "400-2002"),
        ({"to": ["fine@example.com", "bad address@x.com"]}, "400-2004"),
        ({"cc": ["a" * 250 + "@x.com"]}, "400-2003"),
        ({"reply_to": "x@y"}, "400-2004"),
        ({"type_value": "task"}, "400-196"),
        ({"subtype_value": "compose"}, "400-196"),
        ({"custom_attributes": {"nope": "1"}}, "400-2012"),
        ({"custom_attributes": {"customer_rating": "9"}}, "400-2013"),
        ({"custom_attributes": {"order_number": "A+1"}}, "400-2014"),
        (
            {"attachments": [NewAttachment("run.EXE", "application/octet-stream", b"MZ")]},
            "400-2022",
        ),
    ],
)
async def test_invalid_input_is_refused_and_changes_nothing(
    database: Database, blobs: FileBlobStore, overrides: dict[str, object], code: str
) -> None:
    with pytest.raises(DomainError) as caught:
        await ingest(database, blobs, email(**overrides))
    assert caught.value.code == code
    assert await count(database, t.activities) == 0
    assert await count(database, t.customers) == 0


async def test_secure_email_needs_secure_messaging(
    database: Database, blobs: FileBlobStore
) -> None:
    async with database.uow() as uow:
        await seed_basic_site(uow, secure=False)
        await uow.commit()
    with pytest.raises(DomainError) as caught:
        await ingest(database, blobs, email(secure=True))
    assert caught.value.code == "400-2008"


@pytest.mark.usefixtures("site")
async def test_subject_alone_or_attachment_alone_is_enough(
    database: Database, blobs: FileBlobStore
) -> None:
    await ingest(database, blobs, email(text=None))
    only_file = NewAttachment("a.txt", "text/plain", b"hello")
    await ingest(database, blobs, email(text=None, subject=None, attachments=[only_file]))
    assert await count(database, t.activities) == 2


@pytest.mark.usefixtures("site")
async def test_attachments_are_stored_byte_exact(database: Database, blobs: FileBlobStore) -> None:
    data = bytes(range(256)) * 100
    image = NewAttachment("logo.png", "image/png", data, inline=True, content_id="logo@x")
    activity_id = await ingest(
        database, blobs, email(html='<img src="cid:logo@x">', attachments=[image])
    )
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        [stored] = activity.attachments
    assert (stored.file_name, stored.inline, stored.content_id, stored.size) == (
        "logo.png",
        True,
        "logo@x",
        len(data),
    )
    assert await blobs.get(stored.sha256) == data


async def test_departmentalized_lookup_and_creation(
    database: Database, blobs: FileBlobStore
) -> None:
    """Departmentalization on: one address in two departments is two customers."""
    async with database.uow() as uow:
        site = await seed_basic_site(uow, departmentalized=True)
        await uow.commit()
    await ingest(database, blobs, email())
    await ingest(database, blobs, email(receiver="sales@example.com", department_name="Sales"))
    await ingest(database, blobs, email())
    assert await count(database, t.customers) == 2
    async with database.engine.connect() as connection:
        departments = sorted(
            (await connection.execute(select(t.customers.c.department_id))).scalars()
        )
    assert departments == sorted([site.service.id, site.sales.id])


@pytest.mark.usefixtures("site")
async def test_new_customer_takes_the_details_given(
    database: Database, blobs: FileBlobStore
) -> None:
    details = NewCustomerDetails(first_name="John", last_name="Henry")
    activity_id = await ingest(database, blobs, email(customer=details))
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None and activity.customer_id is not None
        customer = await uow.customers.get(activity.customer_id)
    assert customer is not None and customer.primary_contact is not None
    assert (customer.primary_contact.first_name, customer.primary_contact.last_name) == (
        "John",
        "Henry",
    )
