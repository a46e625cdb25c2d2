"""Create an inbound email activity: the one ingest use case behind the eGain v12 API, SMTP,
LMTP and IMAP (DESIGN.md "Mail": one rule, one place).

The rules are those of eGain v12 "Create incoming email activity" (specs/egain-v12-incoming-
email.txt): single valid sender and receiver, the receiver an active alias of the activity's
department, at least one of subject/attachments/content, subject ≤ 255, addresses ≤ 255 and
valid, secure only with secure messaging enabled, an existing case when one is named, custom
attributes as configured, blocked attachment types and size limits from the partition settings,
and the customer found by the sender's address (departmentalization aware) or created.

Attachment bytes are written to the blob store (fsynced) before the rows that point at them are
flushed; the caller commits, and only then acknowledges (201, SMTP 250).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from emaildesk.domain import errors
from emaildesk.domain.activities import (
    Activity,
    ActivityType,
    Case,
    EmailPayload,
    Mode,
    Substatus,
    check_subject,
)
from emaildesk.domain.actors import Actor
from emaildesk.domain.addresses import MAX_ADDRESS_LENGTH, is_valid_email_address
from emaildesk.domain.attachments import Attachment
from emaildesk.domain.custom_attributes import AttributeEntity, validate_custom_attributes
from emaildesk.domain.customers import ContactPointKind
from emaildesk.domain.directory import Department, EmailAlias, PartitionSettings
from emaildesk.domain.events import ACTIVITY_CREATED, CASE_CREATED, Event
from emaildesk.services.customer_lookup import NewCustomerDetails, find_or_create_customer
from emaildesk.services.ports import BlobStore, UnitOfWork

EMAIL_TYPE = "email"
GENERAL_SUBTYPE = "general"  # eGain v12: type.subtype.value must be "general"
SYSTEM_ACTOR = "system"


@dataclass
class NewAttachment:
    file_name: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


@dataclass
class IncomingEmail:
    """An inbound email as any front door describes it, before validation."""

    from_address: str
    receiver: str
    department_name: str | None = None  # v12 names it; mail transports derive it from the alias
    type_value: str = EMAIL_TYPE
    subtype_value: str = GENERAL_SUBTYPE
    case_id: int | None = None
    secure: bool = False
    subject: str | None = None
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    reply_to: str | None = None
    sent_date: datetime | None = None
    text: str | None = None
    html: str | None = None
    attachments: list[NewAttachment] = field(default_factory=list)
    custom_attributes: dict[str, str] = field(default_factory=dict)
    customer: NewCustomerDetails | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    language: str = "en-US"
    # Mail transports only: how the message was threaded, and whether it was sent automatically
    # (RFC 3834): stored with the email so agents see why, and so it is never auto-answered.
    thread_reason: str | None = None
    auto_submitted: bool = False


def check_single_address(value: str | None, attribute: str, required: bool = True) -> str | None:
    """eGain: "must be a single email address" in the valid format, ≤ 255 characters."""
    if value is None or not value.strip():
        if required:
            raise errors.REQUIRED_ATTRIBUTE(attribute=attribute)
        return None
    value = value.strip()
    if "," in value or ";" in value:
        raise errors.SINGLE_ADDRESS_REQUIRED(attribute=attribute)
    if len(value) > MAX_ADDRESS_LENGTH:
        raise errors.TOO_LONG(attribute=attribute, limit=MAX_ADDRESS_LENGTH)
    if not is_valid_email_address(value):
        raise errors.INVALID_EMAIL_ADDRESS(attribute=attribute)
    return value


def check_address_list(values: list[str], attribute: str) -> list[str]:
    """eGain v12 to/cc: every address valid and ≤ 255 characters."""
    checked = []
    for value in values:
        value = value.strip()
        if len(value) > MAX_ADDRESS_LENGTH:
            raise errors.TOO_LONG(attribute=attribute, limit=MAX_ADDRESS_LENGTH)
        if not is_valid_email_address(value):
            raise errors.INVALID_EMAIL_ADDRESS(attribute=attribute)
        checked.append(value)
    return checked


def check_attachments(settings: PartitionSettings, attachments: list[NewAttachment]) -> None:
    for attachment in attachments:
        settings.require_file_allowed(attachment.file_name)
        if attachment.inline and not attachment.content_id:
            raise errors.REQUIRED_ATTRIBUTE(attribute="attachments.attachment.contentId")


async def _department_and_alias(
    uow: UnitOfWork, command: IncomingEmail, receiver: str
) -> tuple[Department, EmailAlias]:
    alias = await uow.directory.alias_by_address(receiver)
    if command.department_name is not None:
        department = await uow.directory.department_by_name(command.department_name)
        if department is None:
            raise errors.DEPARTMENT_NOT_FOUND(department=command.department_name)
    else:
        department = await uow.directory.department(alias.department_id) if alias else None
        if department is None:
            raise errors.ALIAS_NOT_ACTIVE(address=receiver, department="")
    if alias is None:
        raise errors.ALIAS_NOT_ACTIVE(address=receiver, department=department.name)
    alias.require_active_in(department)
    return department, alias


async def store_attachments(
    blobs: BlobStore, attachments: list[NewAttachment], owner: Actor | None
) -> list[Attachment]:
    """Write the bytes (fsynced) and build their rows; rows are flushed with the activity."""
    stored = []
    for new in attachments:
        sha = await blobs.put(new.data)
        stored.append(
            Attachment(
                file_name=new.file_name,
                content_type=new.content_type,
                size=len(new.data),
                sha256=sha,
                inline=new.inline,
                content_id=new.content_id,
                owner_type=owner.type.value if owner else SYSTEM_ACTOR,
                owner_id=owner.id if owner else None,
            )
        )
    return stored


async def create_incoming_email(
    uow: UnitOfWork, blobs: BlobStore, command: IncomingEmail, actor: Actor | None
) -> Activity:
    """Validate, find or create the customer and case, store the activity and its event."""
    if command.type_value != EMAIL_TYPE:
        raise errors.INVALID_ENUM_VALUE(attribute="type.value", values=EMAIL_TYPE)
    if command.subtype_value != GENERAL_SUBTYPE:
        raise errors.INVALID_ENUM_VALUE(attribute="type.subtype.value", values=GENERAL_SUBTYPE)
    sender = check_single_address(command.from_address, "payload.email.emailAddresses.from")
    receiver = check_single_address(command.receiver, "payload.email.emailAddresses.receiver")
    assert sender is not None and receiver is not None
    reply_to = check_single_address(
        command.reply_to, "payload.email.emailAddresses.replyTo", required=False
    )
    to = check_address_list(command.to, "payload.email.emailAddresses.to")
    cc = check_address_list(command.cc, "payload.email.emailAddresses.cc")
    subject = check_subject(command.subject)
    if not (subject or command.attachments or command.text or command.html):
        raise errors.ONE_OF_REQUIRED(attributes="subject, attachments, payload.email.contents")

    settings = await uow.directory.settings()
    if command.secure:
        settings.require_secure_allowed()
    check_attachments(settings, command.attachments)
    body_bytes = len((command.text or "").encode()) + len((command.html or "").encode())
    total_bytes = body_bytes + sum(len(a.data) for a in command.attachments)
    settings.require_email_size(total_bytes, body_bytes)

    department, alias = await _department_and_alias(uow, command, receiver)
    assert department.id is not None
    definitions = await uow.directory.attribute_definitions(AttributeEntity.ACTIVITY)
    custom = validate_custom_attributes(command.custom_attributes, definitions)

    case: Case | None = None
    if command.case_id is not None:
        case = await uow.cases.get(command.case_id)
        if case is None:
            raise errors.CASE_NOT_FOUND(case_id=command.case_id)

    found = await find_or_create_customer(
        uow, settings, ContactPointKind.EMAIL, sender, department.id, command.customer
    )
    customer = found.customer
    if case is None:
        case = Case(customer_id=customer.id, department_id=department.id, subject=subject)
        await uow.cases.add(case)
        assert case.id is not None
        await uow.events.append(Event(CASE_CREATED, "case", case.id, department_id=department.id))

    stored = await store_attachments(blobs, command.attachments, actor)
    actor_type = actor.type.value if actor else SYSTEM_ACTOR
    activity = Activity(
        type=ActivityType.EMAIL,
        subtype=GENERAL_SUBTYPE,
        mode=Mode.INBOUND,
        department_id=department.id,
        case_id=case.id,
        substatus=Substatus.READY_FOR_INBOUND_WORKFLOW,
        subject=subject,
        language=command.language,
        customer_id=customer.id,
        contact_id=found.point.contact_id if found.point else None,
        contact_point_id=found.point.id if found.point else None,
        secure=command.secure,
        custom_attributes=custom,
        email=EmailPayload(
            from_address=sender,
            from_name=command.from_name,
            to=to,
            cc=cc,
            reply_to=reply_to,
            receiver_alias_id=alias.id,
            sent_date=command.sent_date,
            text=command.text,
            html=command.html,
            message_id=command.message_id,
            in_reply_to=command.in_reply_to,
            references=list(command.references),
            thread_reason=command.thread_reason,
            auto_submitted=command.auto_submitted,
        ),
        attachments=stored,
        created_by_type=actor_type,
        created_by_id=actor.id if actor else None,
        last_modified_by_type=actor_type,
        last_modified_by_id=actor.id if actor else None,
    )
    await uow.activities.add(activity)
    assert activity.id is not None
    await uow.events.append(
        Event(
            ACTIVITY_CREATED,
            "activity",
            activity.id,
            payload={
                "case_id": case.id,
                "type": activity.type.value,
                "mode": activity.mode.value,
                "customer_id": customer.id,
                "alias_id": alias.id,
            },
            department_id=department.id,
            actor_type=actor_type,
            actor_id=actor.id if actor else None,
        )
    )
    return activity
