"""Create a task activity: eGain v3 "Create task activity" (specs/egain-v3-task-activity.txt,
`POST /core/casemgr/v3/activity/task`).

Rules, checked before anything is written:
- actors: users and client applications (a customer gets 403-112); a user needs `Create` on
  `Activity`, a user licence, membership (home or foreign) of the activity's department, and, to
  assign the task to someone else, transfer permission on that user;
- body: `department.name` (existing), type "task", a subtype configured in the partition settings,
  subject or `payload.task.content`, subject ≤ 255, priority "1".."7", a future due date, custom
  attributes as configured, attachments by `altId` (uploads of the same actor);
- customer: `searchContactOnAttribute` names the contact attribute to look the customer up on
  (one of the documented kinds or `custom.<configured contact attribute>`), and its value must be in
  the customer representation; the lookup is in the activity's department when customers are
  departmentalized. Not found: `createCustomer=yes` creates an individual customer (one contact
  point per kind, created in the activity's department or shared, per departmentalization), else
  an error. `activityContact` links the task to that contact point; without it the task is linked
  to the customer and contact only;
- target user: at most one of id, loginId, externalId, customAttributes; a client application
  must name one; the target must exist, be active and hold a user licence; none named and the
  actor a user: the task is the actor's.

Decisions where the spec is silent: the searched (and the `activityContact`) attribute must appear
once in the representation, since two values could find two customers; a found customer without a
contact point of the `activityContact` kind is refused with 400-102 listing the kinds it has (the
spec ignores the representation of a found customer, so nothing is added to it); custom attributes
that match several users do not identify a target (400-2026). Tasks are stored with mode inbound
(work coming to the contact center), assigned at once (substatus assigned).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from emaildesk.domain import errors
from emaildesk.domain.activities import (
    Activity,
    ActivityType,
    Case,
    Mode,
    TaskPayload,
    check_due_date,
    check_priority,
    check_subject,
)
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.custom_attributes import (
    AttributeEntity,
    CustomAttributeDefinition,
    validate_custom_attributes,
)
from emaildesk.domain.customers import ContactPoint, ContactPointKind, Customer, normalize_point
from emaildesk.domain.directory import Department
from emaildesk.domain.events import ACTIVITY_CREATED, CASE_CREATED, Event
from emaildesk.domain.users import Action, Resource, User
from emaildesk.services.attachment_uploads import (
    AttachmentRef,
    claim_uploads,
    require_blobs_present,
)
from emaildesk.services.customer_lookup import (
    FoundCustomer,
    NewCustomerDetails,
    find_customer,
    find_or_create_customer,
)
from emaildesk.services.ports import BlobStore, UnitOfWork

TASK_TYPE = "task"  # eGain v3 task: type.value must be "task"
SEARCH_PARAMETER = "searchContactOnAttribute"
CONTACT_PARAMETER = "activityContact"
CUSTOM_PREFIX = "custom."  # `custom.<attribute_name>`: a custom contact attribute
CUSTOMER_ELEMENT = "customer.contacts.contact"
SEARCH_KINDS = tuple(k for k in ContactPointKind if k is not ContactPointKind.CUSTOM)
# eGain v3 task: the activityContact enum (mobile.phone is searchable but not listed here).
ACTIVITY_CONTACT_KINDS = (
    ContactPointKind.EMAIL,
    ContactPointKind.HOME_PHONE,
    ContactPointKind.OFFICE_PHONE,
    ContactPointKind.FACEBOOK,
    ContactPointKind.TWITTER,
    ContactPointKind.INSTAGRAM,
)


@dataclass(frozen=True)
class ContactAttribute:
    """A contact attribute as the query parameters name it: a kind, and a name for custom ones."""

    kind: ContactPointKind
    name: str | None = None

    @property
    def label(self) -> str:
        return f"{CUSTOM_PREFIX}{self.name}" if self.name else self.kind.value


@dataclass
class TargetUser:
    """`status.assigned.user`: at most one of these may be given."""

    id: int | None = None
    login_id: str | None = None
    external_id: str | None = None
    custom_attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class NewTask:
    """The request as the v3 route reads it: query parameters and body."""

    department_name: str | None = None
    type_value: str | None = None
    subtype_value: str | None = None
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    search_contact_on_attribute: str | None = None
    create_customer: bool = False  # query `createCustomer=yes` (the route refuses other values)
    activity_contact: str | None = None
    customer: NewCustomerDetails = field(default_factory=NewCustomerDetails)
    target_user: TargetUser = field(default_factory=TargetUser)
    case_id: int | None = None
    priority: str | int | None = None
    due_date: datetime | None = None
    custom_attributes: dict[str, str] = field(default_factory=dict)
    attachments: list[AttachmentRef] = field(default_factory=list)


def _check_body(command: NewTask) -> str:
    """The checks that need nothing but the request; returns the subject."""
    if not command.type_value:
        raise errors.REQUIRED_ATTRIBUTE(attribute="type.value")
    if command.type_value != TASK_TYPE:
        raise errors.INVALID_ENUM_VALUE(attribute="type.value", values=TASK_TYPE)
    if not command.subtype_value:
        raise errors.REQUIRED_ATTRIBUTE(attribute="type.subtype.value")
    subject = check_subject(command.subject)
    if not (subject or command.text or command.html):
        raise errors.ONE_OF_REQUIRED(attributes="subject, payload.task.content")
    if not (command.department_name or "").strip():
        raise errors.REQUIRED_ATTRIBUTE(attribute="department.name")
    return subject


async def _department(uow: UnitOfWork, actor: Actor, name: str) -> Department:
    department = await uow.directory.department_by_name(name)
    if department is None:
        raise errors.DEPARTMENT_NOT_FOUND(department=name)
    assert department.id is not None
    actor.require_department(department.id, department.name)
    return department


def _search_attribute(
    value: str | None, contact_definitions: dict[str, CustomAttributeDefinition]
) -> ContactAttribute:
    text = (value or "").strip()
    if not text:
        raise errors.MISSING_QUERY_PARAMETER(parameters=SEARCH_PARAMETER)
    if text.startswith(CUSTOM_PREFIX) and len(text) > len(CUSTOM_PREFIX):
        name = text[len(CUSTOM_PREFIX) :]
        if name not in contact_definitions:
            raise errors.UNKNOWN_CUSTOM_ATTRIBUTE(name=name)
        return ContactAttribute(ContactPointKind.CUSTOM, name)
    for kind in SEARCH_KINDS:
        if kind.value == text:
            return ContactAttribute(kind)
    raise errors.UNSUPPORTED_QUERY_VALUE(
        parameter=SEARCH_PARAMETER,
        values=", ".join([*(k.value for k in SEARCH_KINDS), f"{CUSTOM_PREFIX}<attribute_name>"]),
    )


def _activity_contact(value: str | None) -> ContactAttribute | None:
    text = (value or "").strip()
    if not text:
        return None
    for kind in ACTIVITY_CONTACT_KINDS:
        if kind.value == text:
            return ContactAttribute(kind)
    raise errors.UNSUPPORTED_QUERY_VALUE(
        parameter=CONTACT_PARAMETER, values=", ".join(k.value for k in ACTIVITY_CONTACT_KINDS)
    )


def _value_in(details: NewCustomerDetails, attribute: ContactAttribute) -> str:
    """eGain v3: the attribute a query parameter names must be in the customer representation."""
    values = [
        value.strip()
        for kind, value, name in details.points
        if kind is attribute.kind and (attribute.name is None or name == attribute.name)
    ]
    values = [v for v in values if v]
    if not values:
        raise errors.REQUIRED_ATTRIBUTE(attribute=f"{CUSTOMER_ELEMENT}.{attribute.label}")
    if len(values) > 1:
        raise errors.ONE_CONTACT_POINT_PER_KIND(kind=attribute.label)
    return values[0]


async def _users_with_attributes(uow: UnitOfWork, attributes: dict[str, str]) -> list[User]:
    """Users holding every one of these custom attribute values."""
    matches: dict[int, User] | None = None
    for name, value in attributes.items():
        found = {u.id: u for u in await uow.directory.users_by_attribute(name, value) if u.id}
        matches = found if matches is None else {i: matches[i] for i in matches if i in found}
    return list((matches or {}).values())


async def _target_user_id(uow: UnitOfWork, actor: Actor, target: TargetUser) -> int:
    """The user the task is assigned to (eGain v3 "Target User")."""
    named = [
        target.id is not None,
        bool(target.login_id),
        bool(target.external_id),
        bool(target.custom_attributes),
    ]
    if sum(named) > 1:
        raise errors.TARGET_USER_AMBIGUOUS()
    if not any(named):
        if actor.is_client:
            raise errors.TARGET_USER_REQUIRED()
        return actor.id  # "the server assigns the activity to the logged in user"
    user: User | None
    if target.id is not None:
        user = await uow.directory.user(target.id)
    elif target.login_id:
        user = await uow.directory.user_by_login(target.login_id)
    elif target.external_id:
        user = await uow.directory.user_by_external_id(target.external_id)
    else:
        users = await _users_with_attributes(uow, target.custom_attributes)
        if len(users) > 1:
            raise errors.TARGET_USER_AMBIGUOUS()
        user = users[0] if users else None
    if user is None or not user.active:
        raise errors.TARGET_USER_NOT_FOUND()
    if not user.has_user_license():
        raise errors.LICENSE_REQUIRED(user=user.login_id)
    actor.require_transfer_to(user)
    assert user.id is not None
    return user.id


def _check_new_customer_attributes(
    details: NewCustomerDetails, contact_definitions: dict[str, CustomAttributeDefinition]
) -> None:
    """Custom contact attributes of a customer to create must be configured and valid."""
    validate_custom_attributes(
        {
            name or "": value
            for kind, value, name in details.points
            if kind is ContactPointKind.CUSTOM
        },
        contact_definitions,
    )


def _point_of(customer: Customer, attribute: ContactAttribute, value: str) -> ContactPoint:
    """The customer's point of this kind: the one with the representation's value if the
    customer has it, else the first of the kind."""
    candidates = [p for c in customer.contacts for p in c.points if p.kind is attribute.kind]
    wanted = normalize_point(attribute.kind, value)
    for point in candidates:
        if point.normalized == wanted:
            return point
    if candidates:
        return candidates[0]
    kinds = dict.fromkeys(
        p.kind.value
        for c in customer.contacts
        for p in c.points
        if p.kind in ACTIVITY_CONTACT_KINDS
    )
    raise errors.UNSUPPORTED_QUERY_VALUE(parameter=CONTACT_PARAMETER, values=", ".join(kinds))


async def create_task(
    uow: UnitOfWork, blobs: BlobStore, actor: Actor, command: NewTask
) -> Activity:
    """Check every rule, then store the customer (if created), the case (if new), the assigned
    task and their events."""
    actor.require_type(ActorType.USER, ActorType.CLIENT_APPLICATION)
    actor.require_permission(Action.CREATE, Resource.ACTIVITY)
    actor.require_license()
    subject = _check_body(command)
    priority = check_priority(command.priority)
    due_date = check_due_date(command.due_date)
    department = await _department(uow, actor, command.department_name or "")
    assert department.id is not None
    settings = await uow.directory.settings()
    if command.subtype_value not in settings.task_subtypes:
        raise errors.INVALID_ENUM_VALUE(
            attribute="type.subtype.value", values=", ".join(settings.task_subtypes)
        )
    activity_definitions = await uow.directory.attribute_definitions(AttributeEntity.ACTIVITY)
    custom = validate_custom_attributes(command.custom_attributes, activity_definitions)

    contact_definitions = await uow.directory.attribute_definitions(AttributeEntity.CONTACT)
    search = _search_attribute(command.search_contact_on_attribute, contact_definitions)
    link = _activity_contact(command.activity_contact)
    search_value = _value_in(command.customer, search)
    link_value = _value_in(command.customer, link) if link else None

    assignee_id = await _target_user_id(uow, actor, command.target_user)
    case: Case | None = None
    if command.case_id is not None:
        case = await uow.cases.get(command.case_id)
        if case is None:
            raise errors.CASE_NOT_FOUND(case_id=command.case_id)

    found: FoundCustomer | None = await find_customer(
        uow, settings, search.kind, search_value, department.id, search.name
    )
    if found is None and not command.create_customer:
        raise errors.CUSTOMER_NOT_FOUND(attribute=search.label)
    if found is None:
        _check_new_customer_attributes(command.customer, contact_definitions)
    elif link is not None and link_value is not None:
        _point_of(found.customer, link, link_value)  # refuse now, before anything is written
    attachments = await claim_uploads(uow, actor, command.attachments)
    await require_blobs_present(blobs, attachments)

    if found is None:
        found = await find_or_create_customer(
            uow,
            settings,
            search.kind,
            search_value,
            department.id,
            command.customer,
            search.name,
        )
    customer = found.customer
    point = _point_of(customer, link, link_value) if link and link_value else None
    anchor = point or found.point  # without activityContact: the customer and contact only
    contact = customer.primary_contact
    contact_id = anchor.contact_id if anchor else (contact.id if contact else None)
    if case is None:
        case = Case(customer_id=customer.id, department_id=department.id, subject=subject)
        await uow.cases.add(case)
        assert case.id is not None
        await uow.events.append(
            Event(
                CASE_CREATED,
                "case",
                case.id,
                department_id=department.id,
                actor_type=actor.type.value,
                actor_id=actor.id,
            )
        )
    activity = Activity(
        type=ActivityType.TASK,
        subtype=command.subtype_value or "",
        mode=Mode.INBOUND,
        department_id=department.id,
        case_id=case.id,
        priority=priority,
        due_date=due_date,
        subject=subject,
        customer_id=customer.id,
        contact_id=contact_id,
        contact_point_id=point.id if point else None,
        custom_attributes=custom,
        task=TaskPayload(text=command.text, html=command.html),
        attachments=attachments,
        created_by_type=actor.type.value,
        created_by_id=actor.id,
        last_modified_by_type=actor.type.value,
        last_modified_by_id=actor.id,
    )
    activity.assign_to(assignee_id)
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
                "assigned_user_id": assignee_id,
            },
            department_id=department.id,
            actor_type=actor.type.value,
            actor_id=actor.id,
        )
    )
    return activity
