"""A customer answers an activity by email: eGain v3 "Create an email response"
(specs/egain-v3-email-response.txt, `POST /core/casemgr/v3/activity/{ids}/email/general`).

Rules, in the order they are checked (cheap request checks first, then permission, then the
directory; nothing is written until every check has passed):
- only customers (403-112); one activity at a time (the path takes a list, the API answers one:
  more than one distinct id is 400-10424 with the limit 1);
- type email / subtype general; at least one of subject, attachments, content; subject ≤ 255;
  `from`, `receiver`, `replyTo` single valid addresses; `issueType.id` only with a message center;
- acting for another customer (`customer` query parameter) needs a grant from that customer
  (api-notes §1.7; a 400, as the spec says), and then `from` must not be given;
- the activity must exist and be visible to the customer acted for, else 404-101: the same answer
  for "missing" and "someone else's", so ids of other customers cannot be probed;
- receiver: an active alias; message center: an active one; with customer departmentalization
  both must be in the customer's department; the issue type must belong to the message center;
- custom attributes as configured; email and body size from the partition settings.

Department of the new activity (spec "Note on department of the activity"): the message center's
when one is named, else the receiver alias's, else the responded activity's. When both a message
center and a receiver are named, the message center decides and the receiver must be an active
alias of that department: the same invariant the v12 ingest keeps (an email's receiver is an alias
of its department), and the same error.

The new activity: inbound email in the responded activity's case, for the customer acted for,
`sentOnBehalf` when that is not the logged-in customer, always secure (api-notes §1.7: activities
customers create are secure), threaded to the responded email (In-Reply-To / References, RFC 5322
§3.6.4). A completed activity can still be answered: the answer is a new activity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emaildesk.domain import errors
from emaildesk.domain.activities import (
    Activity,
    ActivityType,
    EmailPayload,
    Mode,
    Substatus,
    check_subject,
)
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.clock import utcnow
from emaildesk.domain.custom_attributes import AttributeEntity, validate_custom_attributes
from emaildesk.domain.customers import Contact, ContactPoint, ContactPointKind, Customer
from emaildesk.domain.directory import EmailAlias, MessageCenter, PartitionSettings
from emaildesk.domain.events import ACTIVITY_CREATED, Event
from emaildesk.services.activity_queries import customer_may_see
from emaildesk.services.attachment_uploads import (
    AttachmentRef,
    attachments_size,
    claim_uploads,
    require_blobs_present,
)
from emaildesk.services.incoming_email import EMAIL_TYPE, GENERAL_SUBTYPE, check_single_address
from emaildesk.services.ports import BlobStore, UnitOfWork

MAX_IDS = 1  # eGain v3: "customers can respond to one activity at a time"
FROM = "payload.email.emailAddresses.from"
RECEIVER = "payload.email.emailAddresses.receiver"
REPLY_TO = "payload.email.emailAddresses.replyTo"
MESSAGE_CENTER = "payload.email.messageCenter.id"


@dataclass
class EmailResponse:
    """The request as the v3 route reads it: path ids, `customer` query parameter, body."""

    ids: list[int]
    customer_id: int | None = None  # query parameter `customer`: act for this customer
    type_value: str | None = None
    subtype_value: str | None = None
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    from_address: str | None = None
    receiver: str | None = None
    reply_to: str | None = None
    message_center_id: int | None = None
    issue_type_id: int | None = None
    custom_attributes: dict[str, str] = field(default_factory=dict)
    attachments: list[AttachmentRef] = field(default_factory=list)


def _single_id(ids: list[int]) -> int:
    distinct = list(dict.fromkeys(ids))  # "1001,1001" names one activity
    if not distinct:
        raise errors.INVALID_PATH_PARAMETER(value="")
    if len(distinct) > MAX_IDS:
        raise errors.LIMIT_EXCEEDED(limit="ids", value=MAX_IDS)
    return distinct[0]


def _check_request(command: EmailResponse, for_other: bool) -> None:
    """The body checks that need nothing but the body."""
    if not command.type_value:
        raise errors.REQUIRED_ATTRIBUTE(attribute="type.value")
    if command.type_value != EMAIL_TYPE:
        raise errors.INVALID_ENUM_VALUE(attribute="type.value", values=EMAIL_TYPE)
    if not command.subtype_value:
        raise errors.REQUIRED_ATTRIBUTE(attribute="type.subtype.value")
    if command.subtype_value != GENERAL_SUBTYPE:
        raise errors.INVALID_ENUM_VALUE(attribute="type.subtype.value", values=GENERAL_SUBTYPE)
    if not (command.subject or command.attachments or command.text or command.html):
        raise errors.ONE_OF_REQUIRED(attributes="subject, attachments, payload.email.content")
    if for_other and command.from_address is not None and command.from_address.strip():
        raise errors.FROM_WITH_CUSTOMER()
    if command.issue_type_id is not None and command.message_center_id is None:
        raise errors.ISSUE_TYPE_NEEDS_MESSAGE_CENTER()


def _outside_department(
    settings: PartitionSettings, customer: Customer, department_id: int
) -> bool:
    """With departmentalization on, a departmental customer works in its own department only
    (a shared customer, created while it was off, has none to keep to)."""
    return (
        settings.customer_departmentalization
        and customer.department_id is not None
        and department_id != customer.department_id
    )


async def _message_center(
    uow: UnitOfWork, settings: PartitionSettings, customer: Customer, command: EmailResponse
) -> MessageCenter | None:
    if command.message_center_id is None:
        return None
    center = await uow.directory.message_center(command.message_center_id)
    if center is None or not center.active:
        raise errors.MESSAGE_CENTER_NOT_ACTIVE(message_center=command.message_center_id)
    if _outside_department(settings, customer, center.department_id):
        raise errors.DEPARTMENT_MISMATCH(attribute=MESSAGE_CENTER)
    if command.issue_type_id is not None:
        center.require_issue_type(command.issue_type_id)
        issue_type = await uow.directory.issue_type(command.issue_type_id)
        if issue_type is None or not issue_type.active:
            raise errors.ISSUE_TYPE_NOT_IN_MESSAGE_CENTER(
                issue_type=command.issue_type_id, message_center=center.id
            )
    return center


async def _receiver_alias(
    uow: UnitOfWork,
    settings: PartitionSettings,
    customer: Customer,
    receiver: str | None,
    center: MessageCenter | None,
) -> EmailAlias | None:
    if receiver is None:
        return None
    alias = await uow.directory.alias_by_address(receiver)
    if alias is None or not alias.active:
        home = await uow.directory.department(alias.department_id) if alias else None
        raise errors.ALIAS_NOT_ACTIVE(address=receiver, department=home.name if home else "")
    if _outside_department(settings, customer, alias.department_id):
        raise errors.DEPARTMENT_MISMATCH(attribute=RECEIVER)
    if center is not None:
        department = await uow.directory.department(center.department_id)
        assert department is not None  # a message center's department is a foreign key
        alias.require_active_in(department)
    return alias


def _point_for_reply(customer: Customer, responded: Activity) -> ContactPoint:
    """No `from`: the address the responded activity was linked to when it is the customer's
    email, else the customer's first email address."""
    emails = [p for c in customer.contacts for p in c.points if p.kind is ContactPointKind.EMAIL]
    for point in emails:
        if point.id == responded.contact_point_id:
            return point
    if not emails:
        assert customer.id is not None
        raise errors.CUSTOMER_HAS_NO_EMAIL(customer_id=customer.id)
    return emails[0]


async def _known_sender(
    uow: UnitOfWork, settings: PartitionSettings, customer: Customer, sender: str
) -> ContactPoint | None:
    """The stored point of a given `from`, which must be the customer's own; None when the
    address is new (looked up in the customer's department when departmentalized)."""
    point = await uow.customers.find_point(
        ContactPointKind.EMAIL,
        sender,
        department_id=customer.department_id,
        departmentalized=settings.customer_departmentalization,
    )
    if point is not None and point.customer_id != customer.id:
        raise errors.ADDRESS_OF_ANOTHER_CONTACT(attribute=FROM)
    return point


async def _add_sender_point(uow: UnitOfWork, customer: Customer, sender: str) -> ContactPoint:
    """eGain v3: an address not yet in the application becomes a new contact point of the
    logged-in customer's contact."""
    contact = customer.primary_contact
    if contact is None:
        contact = Contact(customer_id=customer.id)
        customer.contacts.append(contact)
    point = ContactPoint(
        ContactPointKind.EMAIL,
        sender,
        customer_id=customer.id,
        department_id=customer.department_id,
    )
    contact.points.append(point)
    return await uow.customers.add_point(point)


async def create_email_response(
    uow: UnitOfWork, blobs: BlobStore, actor: Actor, command: EmailResponse
) -> Activity:
    """Check every rule, then store the new inbound email and its ActivityCreated event."""
    actor.require_type(ActorType.CUSTOMER)
    responded_id = _single_id(command.ids)
    for_other = command.customer_id is not None and command.customer_id != actor.id
    _check_request(command, for_other)
    subject = check_subject(command.subject)
    sender = check_single_address(command.from_address, FROM, required=False)
    receiver = check_single_address(command.receiver, RECEIVER, required=False)
    reply_to = check_single_address(command.reply_to, REPLY_TO, required=False)

    customer_id = command.customer_id if for_other and command.customer_id is not None else actor.id
    if for_other and await uow.customers.grant(actor.id, customer_id) is None:
        raise errors.NO_GRANT(customer_id=customer_id)
    responded = await uow.activities.get(responded_id)
    customer = await uow.customers.get(customer_id)
    # The visibility rule of the read use case (api-notes §1.6), for the one customer acted for:
    # another customer's, a task, an outbound email not yet sent all read as "not found".
    acted_for = frozenset({customer_id})
    if responded is None or customer is None or not customer_may_see(responded, acted_for):
        raise errors.IDS_NOT_FOUND(ids=responded_id)

    settings = await uow.directory.settings()
    center = await _message_center(uow, settings, customer, command)
    alias = await _receiver_alias(uow, settings, customer, receiver, center)
    if center is not None:
        department_id = center.department_id
    elif alias is not None:
        department_id = alias.department_id
    else:
        department_id = responded.department_id
    point = (
        await _known_sender(uow, settings, customer, sender)
        if sender
        else _point_for_reply(customer, responded)
    )
    definitions = await uow.directory.attribute_definitions(AttributeEntity.ACTIVITY)
    custom = validate_custom_attributes(command.custom_attributes, definitions)
    attachments = await claim_uploads(uow, actor, command.attachments)
    await require_blobs_present(blobs, attachments)
    body_bytes = len((command.text or "").encode()) + len((command.html or "").encode())
    settings.require_email_size(body_bytes + attachments_size(attachments), body_bytes)

    if point is None:
        assert sender is not None
        point = await _add_sender_point(uow, customer, sender)
    answered = responded.email
    if alias is None and center is None and answered is not None:
        receiver_alias_id = answered.receiver_alias_id  # answered where the case was written to
    else:
        receiver_alias_id = alias.id if alias else None
    thread = list(answered.references) if answered else []
    if answered is not None and answered.message_id:
        thread.append(answered.message_id)
    activity = Activity(
        type=ActivityType.EMAIL,
        subtype=GENERAL_SUBTYPE,
        mode=Mode.INBOUND,
        department_id=department_id,
        case_id=responded.case_id,
        substatus=Substatus.READY_FOR_INBOUND_WORKFLOW,
        subject=subject,
        language=responded.language,
        customer_id=customer.id,
        contact_id=point.contact_id,
        contact_point_id=point.id,
        issue_type_id=command.issue_type_id,
        secure=True,  # api-notes §1.7: activities created by customers are always secure
        sent_on_behalf=for_other,
        custom_attributes=custom,
        email=EmailPayload(
            from_address=sender or point.value,
            reply_to=reply_to,
            receiver_alias_id=receiver_alias_id,
            message_center_id=center.id if center else None,
            sent_date=utcnow(),
            text=command.text,
            html=command.html,
            in_reply_to=answered.message_id if answered else None,
            references=thread,
        ),
        attachments=attachments,
        created_by_type=actor.type.value,
        created_by_id=actor.id,
        last_modified_by_type=actor.type.value,
        last_modified_by_id=actor.id,
    )
    await uow.activities.add(activity)
    assert activity.id is not None
    await uow.events.append(
        Event(
            ACTIVITY_CREATED,
            "activity",
            activity.id,
            payload={
                "case_id": activity.case_id,
                "type": activity.type.value,
                "mode": activity.mode.value,
                "customer_id": customer.id,
                "in_response_to": responded_id,
                "alias_id": receiver_alias_id,
                "message_center_id": center.id if center else None,
                "sent_on_behalf": for_other,
            },
            department_id=department_id,
            actor_type=actor.type.value,
            actor_id=actor.id,
        )
    )
    return activity
