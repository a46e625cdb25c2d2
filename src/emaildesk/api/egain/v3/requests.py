"""The v3 create bodies as pydantic models, and their translation into use-case commands.

Shapes (specs/egain-v3-email-response.txt, egain-v3-task-activity.txt; the collapsed samples as
reconstructed in api-notes §1.5). The shared models of `request_model` do the loose reading
eGain clients need (string booleans and ids, one-or-many lists, XML attributes as fields);
this module adds the v3 elements and reads them into `EmailResponse` and `NewTask`:

- content: v3 writes `payload.<email|task>.content` (one `{type, value}` or a list), v12
  `payload.email.contents.content`; both are accepted (api-notes §4), together too, and each
  content type may still appear once (`text_and_html`);
- attachments: `attachments.attachment[]` of `{altId, inline, contentId}` (`isInline`, v12's
  spelling, is accepted as well); the files themselves were uploaded before (`altId`);
- ids in the body (`case.id`, `messageCenter.id`, `issueType.id`, `status.assigned.user.id`)
  are positive integers, as strings or numbers; anything else is 400-152 naming the attribute;
- the task's `customer` is the "Create Individual Customer" representation ([U], api-notes
  §1.5), read as `contacts.contact[]` (at most one: an individual customer has one contact)
  with `firstName`, `lastName`, `email[].emailAddress`, `phone[] {phoneNumber, type}` where
  type is `home`, `mobile` or `office`, `social[] {facebookId | twitterId | instagramId}` and
  `customAttributes` (custom contact attributes, `custom.<name>` in the query parameters);
- `dueDate` is the eGain date string (`2015-12-26T19:00:00.000Z`, api-notes §1.7), or the
  `{"date": …}` form of v12.

No rule about values lives here (lengths, formats, existence, "at least one of"): those are
the use cases'; this module only says which attribute a value came from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from pydantic import Field

from emaildesk.api.codecs.body import ParsedBody
from emaildesk.api.egain.query import MAX_ID
from emaildesk.api.egain.request_model import (
    Bool,
    ContactModel,
    Content,
    Contents,
    CustomAttributes,
    CustomerModel,
    DateValue,
    EgainModel,
    IdRef,
    Named,
    OneOrMany,
    Text,
    TypeValue,
    custom_attribute_values,
    text_and_html,
    validate_body,
)
from emaildesk.domain import errors
from emaildesk.domain.clock import parse_iso
from emaildesk.domain.customers import ContactPointKind
from emaildesk.services.attachment_uploads import AttachmentRef
from emaildesk.services.customer_lookup import NewCustomerDetails
from emaildesk.services.email_response import EmailResponse
from emaildesk.services.task_activity import NewTask, TargetUser

CUSTOMER_CONTACT: Final = "customer.contacts.contact"
_MAX_ID_DIGITS: Final = len(str(MAX_ID))
# The phone `type` values of the customer representation, by contact point kind [I].
PHONE_KINDS: Final = {
    "home": ContactPointKind.HOME_PHONE,
    "mobile": ContactPointKind.MOBILE_PHONE,
    "office": ContactPointKind.OFFICE_PHONE,
}


# --- shared elements --------------------------------------------------------------------------


class AttachmentRefModel(EgainModel):
    altId: Text | None = None  # noqa: N815 - eGain name
    inline: Bool | None = None
    isInline: Bool | None = None  # noqa: N815 - eGain v12 spelling, accepted too
    contentId: Text | None = None  # noqa: N815 - eGain name


class AttachmentRefs(EgainModel):
    attachment: OneOrMany[AttachmentRefModel] = Field(default_factory=list)


class ContentHolder(EgainModel):
    """`payload.email` / `payload.task`: v3 `content`, v12 `contents.content`."""

    content: OneOrMany[Content] = Field(default_factory=list)
    contents: Contents | None = None


# --- email response (seed 000) ----------------------------------------------------------------


class EmailAddressesV3(EgainModel):
    from_: Text | None = Field(default=None, alias="from")
    receiver: Text | None = None
    replyTo: Text | None = None  # noqa: N815 - eGain name


class EmailV3(ContentHolder):
    emailAddresses: EmailAddressesV3 | None = None  # noqa: N815 - eGain name
    messageCenter: IdRef | None = None  # noqa: N815 - eGain name


class EmailPayloadV3(EgainModel):
    email: EmailV3 | None = None


class EmailResponseBody(EgainModel):
    """`POST /core/casemgr/v3/activity/{ids}/email/general`."""

    type: TypeValue | None = None
    subject: Text | None = None
    payload: EmailPayloadV3 | None = None
    issueType: IdRef | None = None  # noqa: N815 - eGain name
    attachments: AttachmentRefs | None = None
    customAttributes: CustomAttributes | None = None  # noqa: N815 - eGain name


# --- task (seed 004) --------------------------------------------------------------------------


class AssignedUserModel(EgainModel):
    id: Text | None = None
    loginId: Text | None = None  # noqa: N815 - eGain name
    externalId: Text | None = None  # noqa: N815 - eGain name
    customAttributes: CustomAttributes | None = None  # noqa: N815 - eGain name


class AssignedModel(EgainModel):
    user: AssignedUserModel | None = None


class StatusModel(EgainModel):
    assigned: AssignedModel | None = None


class TaskPayloadV3(EgainModel):
    task: ContentHolder | None = None


class TaskBody(EgainModel):
    """`POST /core/casemgr/v3/activity/task`."""

    department: Named | None = None
    type: TypeValue | None = None
    subject: Text | None = None
    payload: TaskPayloadV3 | None = None
    customer: CustomerModel | None = None
    status: StatusModel | None = None
    case: IdRef | None = None
    priority: Text | None = None
    dueDate: Text | DateValue | None = None  # noqa: N815 - eGain name
    attachments: AttachmentRefs | None = None
    customAttributes: CustomAttributes | None = None  # noqa: N815 - eGain name


# --- translation ------------------------------------------------------------------------------


def body_id(value: str | None, attribute: str) -> int | None:
    """An id element: None when absent or blank, else a positive integer (400-152)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    valid = text.isascii() and text.isdigit() and len(text) <= _MAX_ID_DIGITS
    if not valid or not 0 < int(text) <= MAX_ID:
        raise errors.INVALID_ATTRIBUTE(attribute=attribute)
    return int(text)


def _contents(holder: ContentHolder | None, path: str) -> tuple[str | None, str | None]:
    if holder is None:
        return None, None
    listed = [*holder.content, *(holder.contents.content if holder.contents else [])]
    return text_and_html(listed, path)


def _attachment_refs(model: AttachmentRefs | None) -> list[AttachmentRef]:
    return [
        AttachmentRef(
            alt_id=item.altId or "",
            inline=bool(item.inline or item.isInline),
            content_id=item.contentId,
        )
        for item in (model.attachment if model else [])
    ]


def email_response_command(
    body: ParsedBody, ids: list[int], customer_id: int | None
) -> EmailResponse:
    """The email response use case's command from the path ids, `customer` and the body."""
    model = validate_body(EmailResponseBody, body.data)
    email = model.payload.email if model.payload else None
    text, html = _contents(email, "payload.email.content")
    addresses = email.emailAddresses if email else None
    center = email.messageCenter if email else None
    return EmailResponse(
        ids=ids,
        customer_id=customer_id,
        type_value=model.type.value if model.type else None,
        subtype_value=model.type.subtype.value if model.type and model.type.subtype else None,
        subject=model.subject,
        text=text,
        html=html,
        from_address=addresses.from_ if addresses else None,
        receiver=addresses.receiver if addresses else None,
        reply_to=addresses.replyTo if addresses else None,
        message_center_id=body_id(center.id if center else None, "payload.email.messageCenter.id"),
        issue_type_id=body_id(model.issueType.id if model.issueType else None, "issueType.id"),
        custom_attributes=custom_attribute_values(model.customAttributes, "customAttributes"),
        attachments=_attachment_refs(model.attachments),
    )


def _points(contact: ContactModel) -> list[tuple[ContactPointKind, str, str | None]]:
    points: list[tuple[ContactPointKind, str, str | None]] = []
    points += [
        (ContactPointKind.EMAIL, e.emailAddress, None) for e in contact.email if e.emailAddress
    ]
    for phone in contact.phone:
        if not phone.phoneNumber:
            continue
        kind = PHONE_KINDS.get((phone.type or "").strip().lower())
        if kind is None:
            raise errors.INVALID_ENUM_VALUE(
                attribute=f"{CUSTOMER_CONTACT}.phone.type", values=", ".join(PHONE_KINDS)
            )
        points.append((kind, phone.phoneNumber, None))
    for social in contact.social:
        for kind, value in (
            (ContactPointKind.FACEBOOK, social.facebookId),
            (ContactPointKind.TWITTER, social.twitterId),
            (ContactPointKind.INSTAGRAM, social.instagramId),
        ):
            if value:
                points.append((kind, value, None))
    custom = custom_attribute_values(
        contact.customAttributes, f"{CUSTOMER_CONTACT}.customAttributes"
    )
    points += [(ContactPointKind.CUSTOM, value, name) for name, value in custom.items()]
    return points


def customer_details(model: CustomerModel | None) -> NewCustomerDetails:
    """The customer representation as the task use case reads it (one individual contact)."""
    contacts = model.contacts.contact if model and model.contacts else []
    if not contacts:
        return NewCustomerDetails()
    if len(contacts) > 1:
        raise errors.INVALID_ATTRIBUTE(attribute=CUSTOMER_CONTACT)
    contact = contacts[0]
    return NewCustomerDetails(contact.firstName or "", contact.lastName or "", _points(contact))


def _target_user(model: StatusModel | None) -> TargetUser:
    user = model.assigned.user if model and model.assigned else None
    if user is None:
        return TargetUser()
    return TargetUser(
        id=body_id(user.id, "status.assigned.user.id"),
        login_id=(user.loginId or "").strip() or None,
        external_id=(user.externalId or "").strip() or None,
        custom_attributes=custom_attribute_values(
            user.customAttributes, "status.assigned.user.customAttributes"
        ),
    )


def _due_date(value: str | DateValue | None) -> datetime | None:
    text = value.date if isinstance(value, DateValue) else value
    if text is None or not text.strip():
        return None
    parsed = parse_iso(text.strip())
    if parsed is None:
        raise errors.INVALID_DATE(attribute="dueDate")
    return parsed


def task_command(
    body: ParsedBody,
    *,
    search_contact_on_attribute: str | None,
    create_customer: bool,
    activity_contact: str | None,
) -> NewTask:
    """The task use case's command from the query parameters and the body."""
    model = validate_body(TaskBody, body.data)
    text, html = _contents(model.payload.task if model.payload else None, "payload.task.content")
    return NewTask(
        department_name=model.department.name if model.department else None,
        type_value=model.type.value if model.type else None,
        subtype_value=model.type.subtype.value if model.type and model.type.subtype else None,
        subject=model.subject,
        text=text,
        html=html,
        search_contact_on_attribute=search_contact_on_attribute,
        create_customer=create_customer,
        activity_contact=activity_contact,
        customer=customer_details(model.customer),
        target_user=_target_user(model.status),
        case_id=body_id(model.case.id if model.case else None, "case.id"),
        priority=model.priority,
        due_date=_due_date(model.dueDate),
        custom_attributes=custom_attribute_values(model.customAttributes, "customAttributes"),
        attachments=_attachment_refs(model.attachments),
    )
