"""The eGain Interaction API v12 activity representation (api-notes §1.6), as the JSON dict that
mirrors its XML (§1.5: XML attributes become plain fields, repeated elements a list under the
element's name, ids and priority strings).

Shape of one activity, every attribute (`$attribute=all`)::

    id, link {rel self, href …/interaction/activity/{id}},
    case {id, link {rel case, href …/interaction/case/{id}}}, department {id, name},
    mode {value, displayValue}, type {value, displayValue, subtype {value, displayValue}},
    status {…}, subStatus {…}, priority "1".."7", subject, isSecure,
    created {date}, lastModified {date}, dueDate,
    customer {id, contacts {contact [{firstName, lastName, email [{emailAddress}]}]}},
    payload {email {date {date}, contents {content [{type text|html, value}]},
             emailAddresses {from, receiver, to {address […]}, cc {…}, bcc {…}, replyTo},
             messageId}}   (a task: payload {task {contents …}}),
    attachments {count, attachment [{id, fileName, contentType, size, isInline, contentId,
                 link {rel attachment, href …/interaction/activity/{id}/attachment/{aid}}}]},
    customAttributes {customAttribute [{attribName, attribValues {attribValue [{value}]}}]},
    language {value}, lastDepartment {id, name}, issueType {id, name}, queue {id, name},
    userLastWorked {id, name}, assignedTo {id, name}, contactPointData,
    notes {count, note [{id, text, created {date}, user {id, name}}]}

A customer caller never gets `HIDDEN_FROM_CUSTOMERS` (internal notes, queue, last department,
agents, custom attributes) nor Bcc recipients, whatever `$attribute` asks [I].

`$attribute` [I]: eGain answers a default subset without it and everything with `all`; public
clients ask for `payload,contactPointData,created,userLastWorked` explicitly, so those are not in
the default. Our default subset is `DEFAULT_ATTRIBUTES`: what identifies and routes an activity
and what an edit needs for optimistic locking (`lastModified`). A comma-separated list of
top-level names selects exactly those; `id` and `link` are always present.

Choices where eGain published nothing [I]: flags are JSON booleans and counts/sizes numbers (the
XML shows them as text either way); `displayValue`s are English msgids passed through the
caller's `translate` (the route binds it to the negotiated locale). HTML keeps its `cid:`
references unless `embed_inline` is asked for (`embedInlineAttachment=yes`, single email only),
which embeds inline images as `data:` URLs from `blobs_data` (attachment bytes by sha256).

XML: root `activities` in the activity namespace, with the namespaces of eGain's samples
(`XML_ELEMENT_NAMESPACES`): the case link in the case namespace (ns2), `name` in the platform
namespace (ns3), `value`/`displayValue` and content `type` in the common namespace (ns4) except
directly under `type`, `attachment` and `customer` in theirs. Readers match on local names
(api-notes §4), so these only keep our documents looking like eGain's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from emaildesk.api.codecs.xml import render_xml
from emaildesk.api.egain import inline_images, xml_names
from emaildesk.domain import errors
from emaildesk.domain.activities import (
    Activity,
    ActivityType,
    EmailPayload,
    Mode,
    Note,
    Status,
    Substatus,
)
from emaildesk.domain.attachments import Attachment
from emaildesk.domain.clock import format_iso
from emaildesk.domain.customers import Customer
from emaildesk.domain.users import User
from emaildesk.services.activity_queries import ActivityView

Translate = Callable[[str], str]
Json = dict[str, Any]

V12_BASE_PATH = "/system/ws/v12"
ALL = "all"  # `$attribute=all`: every attribute (api-notes §1.6)
ALWAYS = frozenset({"id", "link"})

DEFAULT_ATTRIBUTES = frozenset(
    [
        "id",
        "link",
        "case",
        "department",
        "mode",
        "type",
        "status",
        "subStatus",
        "priority",
        "subject",
        "isSecure",
        "lastModified",
        "dueDate",
        "customer",
        "attachments",
    ]
)
ATTRIBUTES = DEFAULT_ATTRIBUTES | frozenset(
    [
        "created",
        "payload",
        "customAttributes",
        "language",
        "lastDepartment",
        "issueType",
        "queue",
        "userLastWorked",
        "assignedTo",
        "contactPointData",
        "notes",
    ]
)
# What a customer never sees, whatever `$attribute` asks: the contact center's internals.
HIDDEN_FROM_CUSTOMERS = frozenset(
    ["notes", "queue", "lastDepartment", "userLastWorked", "assignedTo", "customAttributes"]
)

# English display values; they are msgids for the caller's translator.
MODE_LABELS = {Mode.INBOUND: "Inbound", Mode.OUTBOUND: "Outbound"}
TYPE_LABELS = {ActivityType.EMAIL: "Email", ActivityType.TASK: "Task"}
STATUS_LABELS = {Status.OPEN: "Open", Status.COMPLETED: "Completed"}
SUBSTATUS_LABELS = {
    Substatus.READY_FOR_INBOUND_WORKFLOW: "Ready for inbound workflow",
    Substatus.IN_WORKFLOW: "In workflow",
    Substatus.UNASSIGNED: "Unassigned",
    Substatus.ASSIGNED: "Assigned",
    Substatus.READY_FOR_OUTBOUND_WORKFLOW: "Ready for outbound workflow",
    Substatus.SENDING: "Sending",
    Substatus.SENT: "Sent",
    Substatus.SEND_FAILED: "Send failed",
    Substatus.COMPLETED: "Completed",
}

XML_ROOT = "activities"
XML_ELEMENT_NAMESPACES: Mapping[str, str] = {
    # api-notes §1.6: <case id><ns2:link/></case> (case), <department><ns3:name/> (platform),
    # <mode><ns4:value/><ns4:displayValue/> (common) but <type><value/><displayValue/> plain.
    "case/link": xml_names.CASE,
    "name": xml_names.PLATFORM,
    "value": xml_names.COMMON,
    "displayValue": xml_names.COMMON,
    "type/value": xml_names.ACTIVITY,
    "type/displayValue": xml_names.ACTIVITY,
    # api-notes §1.5: <content><ns3:type/><ns3:value/></content> (common).
    "content/type": xml_names.COMMON,
    "attachment": xml_names.ATTACHMENT,
    "customer": xml_names.CUSTOMER,
}


def _same(text: str) -> str:
    return text


# --- `$attribute` --------------------------------------------------------------------------


def parse_attribute_parameter(raw: str | None, known: frozenset[str]) -> set[str] | None:
    """`$attribute` → None (default subset), {"all"}, or the named top-level attributes.

    A name outside `known` is refused with 400-102, listing what is supported."""
    if raw is None or not raw.strip():
        return None
    names = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = names - known - {ALL}
    if unknown:
        raise errors.UNSUPPORTED_QUERY_VALUE(
            parameter="$attribute", values=", ".join([ALL, *sorted(known)])
        )
    return names


def selected_attributes(
    attributes: set[str] | None, default: frozenset[str], known: frozenset[str]
) -> frozenset[str]:
    """The top-level attributes to render for a parsed `$attribute`."""
    if attributes is None:
        return default
    if ALL in attributes:
        return known
    return (frozenset(attributes) & known) | ALWAYS


def pick(full: Json, names: Iterable[str]) -> Json:
    """The entries of `full` named in `names`, in `full`'s order; absent values stay absent."""
    wanted = set(names)
    return {key: value for key, value in full.items() if key in wanted}


# --- parts shared with v3 ----------------------------------------------------------------


def value_pair(value: str, label: str, translate: Translate) -> Json:
    return {"value": value, "displayValue": translate(label)}


def subtype_label(subtype: str) -> str:
    """`general` → `General`, `follow_up` → `Follow up` (task subtypes are site-defined)."""
    return subtype.replace("_", " ").capitalize()


def type_of(activity: Activity, translate: Translate) -> Json:
    return {
        **value_pair(activity.type.value, TYPE_LABELS[activity.type], translate),
        "subtype": value_pair(activity.subtype, subtype_label(activity.subtype), translate),
    }


def contacts_of(customer: Customer) -> Json:
    """`{"contact": [{firstName, lastName, email: [{emailAddress}]}]}` (api-notes §1.5/§1.6)."""
    contacts = []
    for contact in customer.contacts:
        entry: Json = {"firstName": contact.first_name, "lastName": contact.last_name}
        addresses = contact.email_addresses()
        if addresses:
            entry["email"] = [{"emailAddress": a} for a in addresses]
        contacts.append(entry)
    return {"contact": contacts}


def contacts_of_or_empty(customer: Customer | None) -> Json:
    """`{"contacts": …}` for a loaded customer; nothing when only its id is known."""
    return {"contacts": contacts_of(customer)} if customer is not None else {}


def custom_attributes_of(values: Mapping[str, str]) -> Json | None:
    """eGain's custom attribute list, by name (api-notes §1.5)."""
    if not values:
        return None
    return {
        "customAttribute": [
            {"attribName": name, "attribValues": {"attribValue": [{"value": values[name]}]}}
            for name in sorted(values)
        ]
    }


def contents_of(text: str | None, html: str | None) -> list[Json]:
    """`[{type: text, value}, {type: html, value}]`, each only when present."""
    parts = [("text", text), ("html", html)]
    return [{"type": kind, "value": value} for kind, value in parts if value]


def html_for(
    activity: Activity,
    html: str | None,
    embed_inline: bool,
    blobs_data: Mapping[str, bytes] | None,
) -> str | None:
    """The HTML body as shown: with inline images embedded when asked (and bytes are at hand)."""
    if not html or not embed_inline or blobs_data is None:
        return html
    return inline_images.embed_inline(
        html, activity.attachments, lambda a: blobs_data.get(a.sha256)
    )


def address_list(addresses: list[str]) -> Json | None:
    return {"address": list(addresses)} if addresses else None


def contact_point_data(view: ActivityView, activity: Activity) -> str | None:
    """The customer's address or number the activity came through; for an email without a
    recorded contact point, the customer-side address (sender in, first recipient out)."""
    point = view.contact_point(activity)
    if point is not None:
        return point.value
    email = activity.email
    if email is None:
        return None
    if activity.mode is Mode.INBOUND:
        return email.from_address or None
    return email.to[0] if email.to else None


def without_none(entries: Json) -> Json:
    return {key: value for key, value in entries.items() if value is not None}


# --- v12 ------------------------------------------------------------------------------------


def _named(entity_id: int | None, name: str | None) -> Json | None:
    if entity_id is None:
        return None
    return without_none({"id": str(entity_id), "name": name})


def _user(view: ActivityView, user_id: int | None) -> Json | None:
    user: User | None = view.user(user_id)
    return _named(user_id, user.login_id if user else None)


def _date(moment: datetime | None) -> Json | None:
    return {"date": format_iso(moment)} if moment is not None else None


def _email(
    view: ActivityView,
    activity: Activity,
    email: EmailPayload,
    embed_inline: bool,
    blobs_data: Mapping[str, bytes] | None,
) -> Json:
    alias = view.alias(email.receiver_alias_id)
    html = html_for(activity, email.html, embed_inline, blobs_data)
    contents = contents_of(email.text, html)
    addresses = without_none(
        {
            "from": email.from_address or None,
            "receiver": alias.address if alias else None,
            "to": address_list(email.to),
            "cc": address_list(email.cc),
            "bcc": None if view.actor.is_customer else address_list(email.bcc),
            "replyTo": email.reply_to,
        }
    )
    return without_none(
        {
            "date": _date(email.sent_date),
            "contents": {"content": contents} if contents else None,
            "emailAddresses": addresses or None,
            "messageId": email.message_id,
        }
    )


def _payload(
    view: ActivityView,
    activity: Activity,
    embed_inline: bool,
    blobs_data: Mapping[str, bytes] | None,
) -> Json | None:
    if activity.email is not None:
        return {"email": _email(view, activity, activity.email, embed_inline, blobs_data)}
    if activity.task is not None:
        contents = contents_of(activity.task.text, activity.task.html)
        return {"task": {"contents": {"content": contents}} if contents else {}}
    return None


def attachment_link_v12(base_path: str, activity_id: int, attachment: Attachment) -> str:
    return f"{base_path}/interaction/activity/{activity_id}/attachment/{attachment.id}"


def _attachments(base_path: str, activity: Activity) -> Json:
    assert activity.id is not None
    listed = [
        without_none(
            {
                "id": str(a.id),
                "fileName": a.file_name,
                "contentType": a.content_type,
                "size": a.size,
                "isInline": a.inline,
                "contentId": a.content_id,
                "link": {
                    "rel": "attachment",
                    "href": attachment_link_v12(base_path, activity.id, a),
                },
            }
        )
        for a in activity.attachments
    ]
    return {"count": len(listed), "attachment": listed} if listed else {"count": 0}


def _note(view: ActivityView, note: Note) -> Json:
    user = _user(view, note.author_id) if note.author_type == "user" else None
    return without_none(
        {
            "id": str(note.id) if note.id is not None else None,
            "text": note.text,
            "created": _date(note.created_at),
            "user": user,
        }
    )


def _full_v12(
    view: ActivityView,
    activity: Activity,
    base_path: str,
    embed_inline: bool,
    blobs_data: Mapping[str, bytes] | None,
    translate: Translate,
) -> Json:
    assert activity.id is not None
    department = view.department(activity.department_id)
    last_department = view.department(activity.last_department_id)
    customer = view.customer(activity.customer_id)
    issue_type = view.issue_type(activity.issue_type_id)
    queue = view.queue(activity.queue_id)
    case = None
    if activity.case_id is not None:
        case = {
            "id": str(activity.case_id),
            "link": {"rel": "case", "href": f"{base_path}/interaction/case/{activity.case_id}"},
        }
    return without_none(
        {
            "id": str(activity.id),
            "link": {"rel": "self", "href": f"{base_path}/interaction/activity/{activity.id}"},
            "case": case,
            "department": _named(activity.department_id, department.name if department else None),
            "mode": value_pair(activity.mode.value, MODE_LABELS[activity.mode], translate),
            "type": type_of(activity, translate),
            "status": value_pair(activity.status.value, STATUS_LABELS[activity.status], translate),
            "subStatus": value_pair(
                activity.substatus.value, SUBSTATUS_LABELS[activity.substatus], translate
            ),
            "priority": str(activity.priority),
            "subject": activity.subject,
            "isSecure": activity.secure,
            "created": _date(activity.created_at),
            "lastModified": _date(activity.last_modified_at),
            "dueDate": format_iso(activity.due_date) if activity.due_date else None,
            "customer": (
                {"id": str(activity.customer_id), **(contacts_of_or_empty(customer))}
                if activity.customer_id is not None
                else None
            ),
            "payload": _payload(view, activity, embed_inline, blobs_data),
            "attachments": _attachments(base_path, activity),
            "customAttributes": custom_attributes_of(activity.custom_attributes),
            "language": {"value": activity.language},
            "lastDepartment": _named(
                activity.last_department_id, last_department.name if last_department else None
            ),
            "issueType": _named(activity.issue_type_id, issue_type.name if issue_type else None),
            "queue": _named(activity.queue_id, queue.name if queue else None),
            "userLastWorked": _user(view, activity.user_last_worked_id),
            "assignedTo": _user(view, activity.assigned_user_id),
            "contactPointData": contact_point_data(view, activity),
            "notes": (
                {"count": len(activity.notes), "note": [_note(view, n) for n in activity.notes]}
                if activity.notes
                else {"count": 0}
            ),
        }
    )


def activity_v12(
    view: ActivityView,
    activity: Activity,
    *,
    base_path: str = V12_BASE_PATH,
    attributes: set[str] | None = None,
    embed_inline: bool = False,
    blobs_data: Mapping[str, bytes] | None = None,
    translate: Translate | None = None,
) -> Json:
    """One activity of `view` in the v12 shape, limited to the `$attribute` selection and, for
    a customer caller (v15 customer sessions reach the same activities), to what a customer may
    see."""
    full = _full_v12(view, activity, base_path, embed_inline, blobs_data, translate or _same)
    names = selected_attributes(attributes, DEFAULT_ATTRIBUTES, ATTRIBUTES)
    if view.actor.is_customer:
        names -= HIDDEN_FROM_CUSTOMERS
    return pick(full, names)


def activities_v12_document(
    view: ActivityView,
    *,
    base_path: str = V12_BASE_PATH,
    attributes: set[str] | None = None,
    embed_inline: bool = False,
    blobs_data: Mapping[str, bytes] | None = None,
    translate: Translate | None = None,
) -> Json:
    """`{"activity": [...]}`: the body of `GET /ws/v12/interaction/activity/{IDs}`."""
    return {
        "activity": [
            activity_v12(
                view,
                activity,
                base_path=base_path,
                attributes=attributes,
                embed_inline=embed_inline,
                blobs_data=blobs_data,
                translate=translate,
            )
            for activity in view.activities
        ]
    }


def render_v12_xml(document: Mapping[str, Any]) -> bytes:
    """The XML form of `activities_v12_document` (api-notes §1.6)."""
    return render_xml(
        XML_ROOT,
        document,
        namespace=xml_names.ACTIVITY,
        element_namespaces=XML_ELEMENT_NAMESPACES,
    )
