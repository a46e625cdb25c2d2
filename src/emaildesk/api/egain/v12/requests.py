"""eGain v12 request bodies → the use cases' commands (login credentials, `IncomingEmail`).

Only translation lives here: which element of the wire format is which field of the command,
how eGain spells booleans, dates and attachments, and which elements the v12 API itself
requires. The rules about values (addresses, aliases, cases, sizes, file types, custom
attributes, secure messaging) are the ingest use case's (`services/incoming_email.py`), shared
with SMTP and IMAP, and are not repeated here.

Required by the v12 API but optional for the use case (mail transports derive or lack them):
`department.name`, `type.value`, `type.subtype.value` and `payload.email.date`
(specs/egain-v12-incoming-email.txt, "All of the following are required").

Multipart (seed 001): the activity travels in the `data` part; attachments are the other file
parts, and an `attachments` element inside `data` is refused (ATTACHMENTS_IN_MULTIPART_DATA). An
attachment part with a `Content-ID` header (RFC 2392, angle brackets optional) is inline with
that content id; without one it is a regular attachment (api-notes §1.5 [I]).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field

from emaildesk.api.codecs.body import MediaKind, ParsedBody, UploadedPart, decode_base64
from emaildesk.api.egain.query import MAX_ID
from emaildesk.api.egain.request_model import (
    AddressList,
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
from emaildesk.services.customer_lookup import NewCustomerDetails
from emaildesk.services.incoming_email import IncomingEmail, NewAttachment

LOGIN_ROOT: Final = "login"  # api-notes §1.2: <login xmlns="…/v12/gen/platform">
ACTIVITY_ROOT: Final = "activity"  # api-notes §1.5: <activity xmlns="…/interaction/activity">
ATTACHMENTS_ELEMENT: Final = "attachments"
CONTENTS_PATH: Final = "payload.email.contents.content"
CONTENT_ATTRIBUTE: Final = "attachments.attachment.content"
CONTENT_TYPE_ATTRIBUTE: Final = "attachments.attachment.contentType"
DATE_ATTRIBUTE: Final = "payload.email.date"
TRUE, FALSE = "true", "false"  # eGain v12: isSecure / isInline "must be 'true' or 'false'"

# Customer contact points by the element that carries them (api-notes §1.5 [U]: the
# "Create Individual Customer" representation, modelled on the v3 GET shape).
PHONE_KINDS: Final = {
    "home": ContactPointKind.HOME_PHONE,
    "mobile": ContactPointKind.MOBILE_PHONE,
    "office": ContactPointKind.OFFICE_PHONE,
}
SOCIAL_KINDS: Final = (
    ("facebookId", ContactPointKind.FACEBOOK),
    ("twitterId", ContactPointKind.TWITTER),
    ("instagramId", ContactPointKind.INSTAGRAM),
)


def _strict_bool(value: Any) -> Any:
    """Only `true`/`false` (any case, string or JSON boolean): pydantic's lax bool would also
    take "yes", "on" and 1, which eGain refuses."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in (TRUE, FALSE):
        return value.strip().lower() == TRUE
    raise ValueError("expected 'true' or 'false'")


def _single_address(value: Any) -> Any:
    """A single-address field as one string for the use case to judge: a list (or `{"address":
    [...]}`) is joined, so two addresses are refused as "must be a single email address"."""
    if isinstance(value, Mapping) and "address" in value:
        value = value["address"]
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value


EgainBool = Annotated[bool, BeforeValidator(_strict_bool)]
SingleAddress = Annotated[str, BeforeValidator(_single_address)]


class LoginRequest(EgainModel):
    """api-notes §1.2: `userName` in every example, `username` in the user-login table."""

    userName: Text | None = None  # noqa: N815 - eGain name
    username: Text | None = None
    password: Text | None = None


class EmailAddresses(EgainModel):
    from_: SingleAddress | None = Field(default=None, alias="from")
    receiver: SingleAddress | None = None
    to: AddressList = Field(default_factory=list)
    cc: AddressList = Field(default_factory=list)
    replyTo: SingleAddress | None = None  # noqa: N815 - eGain name


class EmailElement(EgainModel):
    date: DateValue | None = None
    contents: Contents | None = None
    # api-notes §1.5: the v3 seeds spell it `content`; accepted here too.
    content: OneOrMany[Content] = Field(default_factory=list)
    emailAddresses: EmailAddresses | None = None  # noqa: N815 - eGain name


class Payload(EgainModel):
    email: EmailElement | None = None


class AttachmentElement(EgainModel):
    """Seed 001 "Attachment element": contentType and content required."""

    contentType: Text  # noqa: N815 - eGain name
    content: Text
    isInline: EgainBool = False  # noqa: N815 - eGain name
    contentId: Text | None = None  # noqa: N815 - eGain name
    fileName: Text | None = None  # noqa: N815 - eGain name


class Attachments(EgainModel):
    attachment: OneOrMany[AttachmentElement] = Field(default_factory=list)


class V12Customer(CustomerModel):
    # Seed 001: "This API does not allow specifying department.name in the customer element."
    department: Named | None = None


class ActivityRequest(EgainModel):
    """The body of `POST /ws/v12/interaction/activity` (seed 001, api-notes §1.5)."""

    department: Named | None = None
    type: TypeValue | None = None
    case: IdRef | None = None
    isSecure: EgainBool = False  # noqa: N815 - eGain name
    subject: Text | None = None
    payload: Payload | None = None
    attachments: Attachments | None = None
    customAttributes: CustomAttributes | None = None  # noqa: N815 - eGain name
    customer: V12Customer | None = None


@dataclass(frozen=True)
class Credentials:
    login_id: str
    password: str


def login_credentials(body: ParsedBody) -> Credentials:
    """The user name and password of a login body (JSON, or XML with root `login`)."""
    _require_root(body, LOGIN_ROOT)
    model = validate_body(LoginRequest, body.data)
    login_id = model.userName if model.userName is not None else model.username
    if not login_id:
        raise errors.REQUIRED_ATTRIBUTE(attribute="userName")
    if not model.password:
        raise errors.REQUIRED_ATTRIBUTE(attribute="password")
    return Credentials(login_id, model.password)


def incoming_email_from(body: ParsedBody) -> IncomingEmail:
    """The `IncomingEmail` command a create-activity body describes."""
    _require_root(body, ACTIVITY_ROOT)
    multipart = body.kind is MediaKind.MULTIPART
    if multipart and ATTACHMENTS_ELEMENT in body.data:
        raise errors.ATTACHMENTS_IN_MULTIPART_DATA()
    model = validate_body(ActivityRequest, body.data)
    department_name = model.department.name if model.department else None
    if not department_name:
        raise errors.REQUIRED_ATTRIBUTE(attribute="department.name")
    type_value = model.type.value if model.type else None
    if not type_value:
        raise errors.REQUIRED_ATTRIBUTE(attribute="type.value")
    subtype = model.type.subtype if model.type else None
    if subtype is None or not subtype.value:
        raise errors.REQUIRED_ATTRIBUTE(attribute="type.subtype.value")
    email = model.payload.email if model.payload and model.payload.email else EmailElement()
    addresses = email.emailAddresses or EmailAddresses()
    contents = (email.contents.content if email.contents else []) + email.content
    text, html = text_and_html(contents, CONTENTS_PATH)
    attachments = (
        [_part_attachment(part) for part in body.parts]
        if multipart
        else [_body_attachment(item) for item in (model.attachments or Attachments()).attachment]
    )
    return IncomingEmail(
        from_address=addresses.from_ or "",
        receiver=addresses.receiver or "",
        department_name=department_name,
        type_value=type_value,
        subtype_value=subtype.value,
        case_id=_case_id(model.case),
        secure=model.isSecure,
        subject=model.subject,
        to=addresses.to,
        cc=addresses.cc,
        reply_to=addresses.replyTo,
        sent_date=_sent_date(email.date),
        text=text,
        html=html,
        attachments=attachments,
        custom_attributes=custom_attribute_values(model.customAttributes, "customAttributes"),
        customer=_customer_details(model.customer),
    )


def _require_root(body: ParsedBody, expected: str) -> None:
    """An XML body must be the documented element; JSON has no root to check."""
    if body.root is not None and body.root != expected:
        raise errors.INVALID_ATTRIBUTE(attribute=body.root)


def _case_id(case: IdRef | None) -> int | None:
    if case is None or case.id is None:
        return None
    text = case.id.strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        raise errors.INVALID_ATTRIBUTE(attribute="case.id")
    return int(text)


def _sent_date(date: DateValue | None) -> datetime:
    """Seed 001 lists `payload.email.date` as required; api-notes §1.7: ISO-8601 UTC with `Z`."""
    if date is None or not date.date:
        raise errors.REQUIRED_ATTRIBUTE(attribute=DATE_ATTRIBUTE)
    parsed = parse_iso(date.date.strip())
    if parsed is None:
        raise errors.INVALID_DATE(attribute=DATE_ATTRIBUTE)
    return parsed


def _body_attachment(item: AttachmentElement) -> NewAttachment:
    if not item.contentType.strip():
        raise errors.REQUIRED_ATTRIBUTE(attribute=CONTENT_TYPE_ATTRIBUTE)
    if not item.content.strip():
        raise errors.REQUIRED_ATTRIBUTE(attribute=CONTENT_ATTRIBUTE)
    return NewAttachment(
        file_name=item.fileName or "",
        content_type=item.contentType.strip(),
        data=decode_base64(item.content, CONTENT_ATTRIBUTE),
        inline=item.isInline,
        content_id=item.contentId or None,
    )


def _part_attachment(part: UploadedPart) -> NewAttachment:
    return NewAttachment(
        file_name=part.file_name,
        content_type=part.content_type,
        data=part.data,
        inline=part.content_id is not None,
        content_id=part.content_id,
    )


def _customer_details(customer: V12Customer | None) -> NewCustomerDetails | None:
    """Seed 001 `customer`: used only to create a customer the sender's address does not find."""
    if customer is None:
        return None
    if customer.department is not None:
        raise errors.INVALID_ATTRIBUTE(attribute="customer.department.name")
    contacts = customer.contacts.contact if customer.contacts else []
    if not contacts:
        return None
    if len(contacts) > 1:
        # An individual customer has exactly one contact (domain/customers.py).
        raise errors.INVALID_ATTRIBUTE(attribute="customer.contacts.contact")
    contact = contacts[0]
    points: list[tuple[ContactPointKind, str, str | None]] = [
        (ContactPointKind.EMAIL, item.emailAddress, None)
        for item in contact.email
        if item.emailAddress
    ]
    for phone in contact.phone:
        if not phone.phoneNumber:
            raise errors.REQUIRED_ATTRIBUTE(attribute="customer.contacts.contact.phone.phoneNumber")
        kind = PHONE_KINDS.get((phone.type or "").strip().lower())
        if kind is None:
            raise errors.INVALID_ENUM_VALUE(
                attribute="customer.contacts.contact.phone.type", values=", ".join(PHONE_KINDS)
            )
        points.append((kind, phone.phoneNumber, None))
    for social in contact.social:
        for attribute, kind in SOCIAL_KINDS:
            value = getattr(social, attribute)
            if value:
                points.append((kind, value, None))
    return NewCustomerDetails(contact.firstName or "", contact.lastName or "", points)
