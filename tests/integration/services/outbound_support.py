"""Outbound email activities built directly through the repositories (the agent Send API that
creates them comes later), shared by the outbound service tests and the send job tests."""

from __future__ import annotations

from dataclasses import dataclass, field

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
from emaildesk.domain.attachments import Attachment
from emaildesk.services.mail_config import MailConfig
from emaildesk.services.outbound_email import queue_outbound
from emaildesk.services.ports import UnitOfWork
from support.seed import BasicSite, seed_basic_site

CONFIG = MailConfig(secret=b"s" * 32, domain="desk.example.com")
CUSTOMER_MESSAGE_ID = "cust-2@customer.example"
ROOT_MESSAGE_ID = "cust-1@customer.example"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # every byte value, CR and LF included
PDF = b"%PDF-1.4\n" + bytes(range(255, -1, -1)) * 3


@dataclass
class FileSpec:
    file_name: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


@dataclass
class OutboundSpec:
    """What an agent would have written; every field has a test-friendly default."""

    subject: str = "Your order"
    to: list[str] = field(default_factory=lambda: ["jane@customer.example"])
    cc: list[str] = field(default_factory=lambda: ["boss@customer.example"])
    bcc: list[str] = field(default_factory=lambda: ["audit@desk.example.com"])
    text: str | None = "Hello Jane,\nyour order ships today.\n"
    html: str | None = '<p>Hello Jane, your order <img src="cid:logo@desk"> ships today.</p>'
    files: list[FileSpec] = field(
        default_factory=lambda: [
            FileSpec("logo.png", "image/png", PNG, inline=True, content_id="logo@desk"),
            FileSpec("invoice.pdf", "application/pdf", PDF),
        ]
    )
    substatus: Substatus = Substatus.READY_FOR_OUTBOUND_WORKFLOW
    with_alias: bool = True
    answer_inbound: bool = True  # put an inbound email (with References) in the case first


async def seed_site(database: Database) -> BasicSite:
    async with database.uow() as uow:
        site = await seed_basic_site(uow)
        await uow.commit()
    return site


async def add_inbound(uow: UnitOfWork, site: BasicSite, case_id: int) -> Activity:
    assert site.service.id is not None
    inbound = Activity(
        type=ActivityType.EMAIL,
        subtype="general",
        mode=Mode.INBOUND,
        department_id=site.service.id,
        case_id=case_id,
        subject="Where is my order?",
        email=EmailPayload(
            from_address="jane@customer.example",
            to=["support@example.com"],
            receiver_alias_id=site.support_alias.id,
            text="Where is it?",
            message_id=CUSTOMER_MESSAGE_ID,
            in_reply_to=ROOT_MESSAGE_ID,
            references=[ROOT_MESSAGE_ID],
        ),
    )
    return await uow.activities.add(inbound)


async def add_outbound(
    database: Database, blobs: FileBlobStore, site: BasicSite, spec: OutboundSpec | None = None
) -> int:
    """An outbound email activity in a new case (answering an inbound one); its id."""
    spec = spec or OutboundSpec()
    assert site.service.id is not None
    async with database.uow() as uow:
        case = await uow.cases.add(Case(customer_id=None, department_id=site.service.id))
        assert case.id is not None
        if spec.answer_inbound:
            await add_inbound(uow, site, case.id)
        attachments = [
            Attachment(
                file_name=f.file_name,
                content_type=f.content_type,
                size=len(f.data),
                sha256=await blobs.put(f.data),
                inline=f.inline,
                content_id=f.content_id,
            )
            for f in spec.files
        ]
        activity = Activity(
            type=ActivityType.EMAIL,
            subtype="general",
            mode=Mode.OUTBOUND,
            department_id=site.service.id,
            case_id=case.id,
            substatus=spec.substatus,
            subject=spec.subject,
            email=EmailPayload(
                from_name="Agent Smith",
                to=list(spec.to),
                cc=list(spec.cc),
                bcc=list(spec.bcc),
                receiver_alias_id=site.support_alias.id if spec.with_alias else None,
                text=spec.text,
                html=spec.html,
            ),
            attachments=attachments,
        )
        await uow.activities.add(activity)
        await uow.commit()
    assert activity.id is not None
    return activity.id


async def queue(database: Database, activity_id: int, config: MailConfig = CONFIG) -> int:
    """queue_outbound in its own committed unit of work; the job id."""
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        job = await queue_outbound(uow, activity, config)
        await uow.commit()
    assert job.id is not None
    return job.id


async def load_activity(database: Database, activity_id: int) -> Activity:
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
    assert activity is not None and activity.email is not None
    return activity
