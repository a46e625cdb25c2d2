"""The eGain Case Manager v3 activity representation (`GET /core/casemgr/v3/activity/{ids}`).

The default shape is the one eGain publishes (api-notes §1.6): `link` and `case.link` are lists
of `{rel, href}`, ids of referenced records are JSON numbers (`"case": {"id": 1095}`), flags
are JSON booleans (`secure`, `read`); when the caller is a customer every link carries
`?customer=<the activity's customer>`, so that it also works for activities seen through a grant.
The fields follow the schema list of seeds 000/004 (link, case, department, mode, type, secure,
sentOnBehalf, status, priority "1".."7", created, lastModified, dueDate, subject, language,
userLastWorked, customer, queue, attachments, notes, contactPointData, lastDepartment,
issueType, contentPurged, payload, customAttributes, channel, id), with these readings [I]:

- the activity's own `id` is a string, as the schema types it; `created`, `lastModified` and
  `dueDate` are plain date strings, as the schema types them, and the user-info objects the
  schema lists beside them are `createdBy` and `lastModifiedBy`;
- `attachments` is `{count, link {rel attachment, href …/activity/{id}/attachment}}` as in
  the sample, plus, when there are any, `attachment: [{id, fileName, contentType, size, inline,
  contentId, link}]` (`inline`, not v12's `isInline`, api-notes §4). The bytes of one attachment
  are at `/core/casemgr/v3/activity/{id}/attachment/{attachmentId}` (the item's link);
- `payload.email.content` is the list of `{type, value}` (seed 000 names it `content`);
- `contentPurged` is false (we never purge content); `classifications` and
  `virtualAssistant` are omitted (nothing in our model feeds them);
- a customer never sees the contact center's internals, whatever `$attribute` asks: internal
  notes, queue, last department, users (createdBy, lastModifiedBy, userLastWorked), custom
  attributes, and Bcc recipients (`HIDDEN_FROM_CUSTOMERS`).

`$attribute` works as in v12: without it the default subset (exactly the fields of eGain's
sample, plus `id`), `all` for everything, or a comma-separated list of top-level names.

XML [U]: eGain publishes no v3 XML sample; we render root `activities` with `activity`
children in the v12 activity namespace, without per-element namespaces; `id`, `rel` and `href`
are attributes, dates (plain strings in v3) are elements.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from emaildesk.api.codecs.xml import DEFAULT_ATTRIBUTE_KEYS, render_xml
from emaildesk.api.egain import xml_names
from emaildesk.api.egain.representation_v12 import (
    MODE_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    Json,
    Translate,
    address_list,
    contact_point_data,
    contacts_of,
    contents_of,
    custom_attributes_of,
    html_for,
    pick,
    selected_attributes,
    type_of,
    value_pair,
    without_none,
)
from emaildesk.domain.activities import Activity, EmailPayload, Note
from emaildesk.domain.attachments import Attachment
from emaildesk.domain.clock import format_iso
from emaildesk.services.activity_queries import USER_AUTHOR, ActivityView

V3_BASE_PATH = "/core/casemgr/v3"

DEFAULT_ATTRIBUTES = frozenset(
    [
        "id",
        "link",
        "case",
        "mode",
        "type",
        "secure",
        "status",
        "read",
        "subject",
        "customer",
        "attachments",
    ]
)
ATTRIBUTES = DEFAULT_ATTRIBUTES | frozenset(
    [
        "department",
        "sentOnBehalf",
        "priority",
        "created",
        "createdBy",
        "lastModified",
        "lastModifiedBy",
        "dueDate",
        "language",
        "userLastWorked",
        "queue",
        "notes",
        "contactPointData",
        "lastDepartment",
        "issueType",
        "contentPurged",
        "payload",
        "customAttributes",
        "channel",
    ]
)
HIDDEN_FROM_CUSTOMERS = frozenset(
    [
        "createdBy",
        "lastModifiedBy",
        "userLastWorked",
        "queue",
        "notes",
        "lastDepartment",
        "customAttributes",
    ]
)
XML_ROOT = "activities"
# v3 dates are plain strings (`"created": "…"`), so `date` is an element, never an attribute.
XML_ATTRIBUTE_KEYS = DEFAULT_ATTRIBUTE_KEYS - {"date"}


def _same(text: str) -> str:
    return text


class _Links:
    """Builds v3 URLs; a customer caller's links name the activity's customer."""

    def __init__(self, view: ActivityView, activity: Activity, base_path: str) -> None:
        self.base_path = base_path
        self.activity_id = activity.id
        customer = activity.customer_id if view.actor.is_customer else None
        self.query = f"?customer={customer}" if customer is not None else ""

    def activity(self) -> str:
        return f"{self.base_path}/activity/{self.activity_id}{self.query}"

    def case(self, case_id: int) -> str:
        return f"{self.base_path}/case/{case_id}{self.query}"

    def attachments(self) -> str:
        return f"{self.base_path}/activity/{self.activity_id}/attachment{self.query}"

    def attachment(self, attachment: Attachment) -> str:
        return (
            f"{self.base_path}/activity/{self.activity_id}/attachment/{attachment.id}{self.query}"
        )


def _named(entity_id: int | None, name: str | None) -> Json | None:
    return without_none({"id": entity_id, "name": name}) if entity_id is not None else None


def _user(view: ActivityView, user_id: int | None) -> Json | None:
    user = view.user(user_id)
    return _named(user_id, user.login_id if user else None)


def _by_user(view: ActivityView, actor_type: str, actor_id: int | None) -> Json | None:
    return _user(view, actor_id) if actor_type == USER_AUTHOR else None


def _iso(moment: datetime | None) -> str | None:
    return format_iso(moment) if moment is not None else None


def _email(
    view: ActivityView,
    activity: Activity,
    email: EmailPayload,
    embed_inline: bool,
    blobs_data: Mapping[str, bytes] | None,
) -> Json:
    alias = view.alias(email.receiver_alias_id)
    content = contents_of(email.text, html_for(activity, email.html, embed_inline, blobs_data))
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
    center = email.message_center_id
    return without_none(
        {
            "date": _iso(email.sent_date),
            "content": content or None,
            "emailAddresses": addresses or None,
            "messageCenter": {"id": center} if center is not None else None,
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
        content = contents_of(activity.task.text, activity.task.html)
        return {"task": {"content": content} if content else {}}
    return None


def _attachments(activity: Activity, links: _Links) -> Json:
    listed = [
        without_none(
            {
                "id": a.id,
                "fileName": a.file_name,
                "contentType": a.content_type,
                "size": a.size,
                "inline": a.inline,
                "contentId": a.content_id,
                "link": {"rel": "attachment", "href": links.attachment(a)},
            }
        )
        for a in activity.attachments
    ]
    result: Json = {
        "count": len(listed),
        "link": {"rel": "attachment", "href": links.attachments()},
    }
    if listed:
        result["attachment"] = listed
    return result


def _note(view: ActivityView, note: Note) -> Json:
    return without_none(
        {
            "id": note.id,
            "text": note.text,
            "created": _iso(note.created_at),
            "createdBy": _by_user(view, note.author_type, note.author_id),
        }
    )


def _full_v3(
    view: ActivityView,
    activity: Activity,
    base_path: str,
    embed_inline: bool,
    blobs_data: Mapping[str, bytes] | None,
    translate: Translate,
) -> Json:
    links = _Links(view, activity, base_path)
    department = view.department(activity.department_id)
    last_department = view.department(activity.last_department_id)
    customer = view.customer(activity.customer_id)
    issue_type = view.issue_type(activity.issue_type_id)
    queue = view.queue(activity.queue_id)
    case = None
    if activity.case_id is not None:
        case = {
            "link": [{"rel": "self", "href": links.case(activity.case_id)}],
            "id": activity.case_id,
        }
    customer_json: Json | None = None
    if activity.customer_id is not None:
        customer_json = {"id": activity.customer_id}
        if customer is not None:
            customer_json["contacts"] = contacts_of(customer)
    return without_none(
        {
            "link": [{"rel": "self", "href": links.activity()}],
            "case": case,
            "department": _named(activity.department_id, department.name if department else None),
            "mode": value_pair(activity.mode.value, MODE_LABELS[activity.mode], translate),
            "type": type_of(activity, translate),
            "secure": activity.secure,
            "sentOnBehalf": activity.sent_on_behalf,
            "status": value_pair(activity.status.value, STATUS_LABELS[activity.status], translate),
            "read": activity.read,
            "priority": str(activity.priority),
            "created": _iso(activity.created_at),
            "createdBy": _by_user(view, activity.created_by_type, activity.created_by_id),
            "lastModified": _iso(activity.last_modified_at),
            "lastModifiedBy": _by_user(
                view, activity.last_modified_by_type, activity.last_modified_by_id
            ),
            "dueDate": _iso(activity.due_date),
            "subject": activity.subject,
            "language": {"value": activity.language},
            "userLastWorked": _user(view, activity.user_last_worked_id),
            "customer": customer_json,
            "queue": _named(activity.queue_id, queue.name if queue else None),
            "attachments": _attachments(activity, links),
            "notes": {
                "count": len(activity.notes),
                **({"note": [_note(view, n) for n in activity.notes]} if activity.notes else {}),
            },
            "contactPointData": contact_point_data(view, activity),
            "lastDepartment": _named(
                activity.last_department_id, last_department.name if last_department else None
            ),
            "issueType": _named(activity.issue_type_id, issue_type.name if issue_type else None),
            "contentPurged": False,
            "payload": _payload(view, activity, embed_inline, blobs_data),
            "customAttributes": custom_attributes_of(activity.custom_attributes),
            "channel": value_pair(activity.type.value, TYPE_LABELS[activity.type], translate),
            "id": str(activity.id),
        }
    )


def activity_v3(
    view: ActivityView,
    activity: Activity,
    *,
    base_path: str = V3_BASE_PATH,
    attributes: set[str] | None = None,
    embed_inline: bool = False,
    blobs_data: Mapping[str, bytes] | None = None,
    translate: Translate | None = None,
) -> Json:
    """One activity of `view` in the v3 shape, limited to the `$attribute` selection and, for a
    customer caller, to what a customer may see."""
    full = _full_v3(view, activity, base_path, embed_inline, blobs_data, translate or _same)
    names = selected_attributes(attributes, DEFAULT_ATTRIBUTES, ATTRIBUTES)
    if view.actor.is_customer:
        names -= HIDDEN_FROM_CUSTOMERS
    return pick(full, names)


def activities_v3_document(
    view: ActivityView,
    *,
    base_path: str = V3_BASE_PATH,
    attributes: set[str] | None = None,
    embed_inline: bool = False,
    blobs_data: Mapping[str, bytes] | None = None,
    translate: Translate | None = None,
) -> Json:
    """`{"activity": [...]}`: the body of `GET /core/casemgr/v3/activity/{ids}`."""
    return {
        "activity": [
            activity_v3(
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


def render_v3_xml(document: Mapping[str, Any]) -> bytes:
    """The XML form of `activities_v3_document` (root and namespace are our choice, see above)."""
    return render_xml(
        XML_ROOT, document, namespace=xml_names.ACTIVITY, attribute_keys=XML_ATTRIBUTE_KEYS
    )
