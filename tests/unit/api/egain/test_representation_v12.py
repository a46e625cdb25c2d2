"""The eGain v12 activity representation (api-notes §1.6), built from in-memory domain objects.

Expected dicts are written out by hand from the spec's samples (the activity 1011 of case 1001
in department 999 "Service"), never produced by the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring

from emaildesk.api.codecs.xml import parse_xml
from emaildesk.api.egain import xml_names
from emaildesk.api.egain.representation_v12 import (
    ATTRIBUTES,
    activities_v12_document,
    activity_v12,
    parse_attribute_parameter,
    render_v12_xml,
)
from emaildesk.domain.activities import (
    Activity,
    ActivityType,
    EmailPayload,
    Mode,
    Note,
    Substatus,
    TaskPayload,
)
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.attachments import Attachment
from emaildesk.domain.customers import Contact, ContactPoint, ContactPointKind, Customer
from emaildesk.domain.directory import Department, EmailAlias, IssueType, Queue
from emaildesk.domain.errors import DomainError
from emaildesk.domain.users import User
from emaildesk.services.activity_queries import ActivityView

SENT = datetime(2015, 12, 26, 19, 0, tzinfo=UTC)
CREATED = datetime(2015, 12, 26, 19, 5, 1, 250000, tzinfo=UTC)
MODIFIED = datetime(2015, 12, 28, 13, 38, 50, tzinfo=UTC)
DUE = datetime(2020, 11, 30, 18, 30, tzinfo=UTC)
PNG_SHA = "c" * 64
USER_ACTOR = Actor(ActorType.USER, 7, "agent1", department_ids=frozenset({999}))


def inbound_email(**overrides: Any) -> Activity:
    photo = Attachment("photo.png", "image/png", 6, PNG_SHA, inline=True, content_id="img1", id=55)
    manual = Attachment("manual.pdf", "application/pdf", 2048, "d" * 64, id=56)
    fields: dict[str, Any] = {
        "type": ActivityType.EMAIL,
        "subtype": "general",
        "mode": Mode.INBOUND,
        "department_id": 999,
        "case_id": 1001,
        "substatus": Substatus.ASSIGNED,
        "priority": 3,
        "due_date": DUE,
        "subject": "Issue with mobile phone",
        "language": "en-US",
        "customer_id": 1000,
        "contact_point_id": 31,
        "last_department_id": 998,
        "queue_id": 4,
        "assigned_user_id": 7,
        "user_last_worked_id": 7,
        "issue_type_id": 12,
        "secure": True,
        "custom_attributes": {"order_number": "A-17", "customer_rating": "5"},
        "email": EmailPayload(
            from_address="jhenry@customer.com",
            to=["support@business.com"],
            cc=["boss@customer.com"],
            bcc=["audit@business.com"],
            reply_to="jh@customer.com",
            receiver_alias_id=3,
            sent_date=SENT,
            text="This is the issue",
            html='<p>See <img src="cid:img1"></p>',
            message_id="<m1@customer.com>",
        ),
        "attachments": [photo, manual],
        "notes": [Note("Called back", "user", 7, created_at=MODIFIED, id=81)],
        "created_at": CREATED,
        "created_by_type": "system",
        "last_modified_at": MODIFIED,
        "last_modified_by_type": "user",
        "last_modified_by_id": 7,
        "id": 1011,
    }
    fields.update(overrides)
    return Activity(**fields)


def customer() -> Customer:
    point = ContactPoint(ContactPointKind.EMAIL, "jhenry@customer.com", id=31)
    return Customer(contacts=[Contact("John", "Tierney", [point], id=21)], id=1000)


def view_of(*activities: Activity, actor: Actor = USER_ACTOR) -> ActivityView:
    return ActivityView(
        actor=actor,
        activities=list(activities),
        departments={999: Department("Service", id=999), 998: Department("Sales", id=998)},
        customers={1000: customer()},
        users={7: User("agent1", 999, first_name="Ann", id=7)},
        issue_types={12: IssueType("Billing", id=12)},
        queues={4: Queue("Service queue", 999, id=4)},
        aliases={3: EmailAlias("support@business.com", 999, id=3)},
    )


SELF = {"rel": "self", "href": "/system/ws/v12/interaction/activity/1011"}
CASE = {
    "id": "1001",
    "link": {"rel": "case", "href": "/system/ws/v12/interaction/case/1001"},
}
CUSTOMER = {
    "id": "1000",
    "contacts": {
        "contact": [
            {
                "firstName": "John",
                "lastName": "Tierney",
                "email": [{"emailAddress": "jhenry@customer.com"}],
            }
        ]
    },
}
ATTACHMENTS = {
    "count": 2,
    "attachment": [
        {
            "id": "55",
            "fileName": "photo.png",
            "contentType": "image/png",
            "size": 6,
            "isInline": True,
            "contentId": "img1",
            "link": {
                "rel": "attachment",
                "href": "/system/ws/v12/interaction/activity/1011/attachment/55",
            },
        },
        {
            "id": "56",
            "fileName": "manual.pdf",
            "contentType": "application/pdf",
            "size": 2048,
            "isInline": False,
            "link": {
                "rel": "attachment",
                "href": "/system/ws/v12/interaction/activity/1011/attachment/56",
            },
        },
    ],
}
DEFAULT_SHAPE = {
    "id": "1011",
    "link": SELF,
    "case": CASE,
    "department": {"id": "999", "name": "Service"},
    "mode": {"value": "inbound", "displayValue": "Inbound"},
    "type": {
        "value": "email",
        "displayValue": "Email",
        "subtype": {"value": "general", "displayValue": "General"},
    },
    "status": {"value": "open", "displayValue": "Open"},
    "subStatus": {"value": "assigned", "displayValue": "Assigned"},
    "priority": "3",
    "subject": "Issue with mobile phone",
    "isSecure": True,
    "lastModified": {"date": "2015-12-28T13:38:50.000Z"},
    "dueDate": "2020-11-30T18:30:00.000Z",
    "customer": CUSTOMER,
    "attachments": ATTACHMENTS,
}
ONLY_IN_ALL = {
    "created": {"date": "2015-12-26T19:05:01.250Z"},
    "payload": {
        "email": {
            "date": {"date": "2015-12-26T19:00:00.000Z"},
            "contents": {
                "content": [
                    {"type": "text", "value": "This is the issue"},
                    {"type": "html", "value": '<p>See <img src="cid:img1"></p>'},
                ]
            },
            "emailAddresses": {
                "from": "jhenry@customer.com",
                "receiver": "support@business.com",
                "to": {"address": ["support@business.com"]},
                "cc": {"address": ["boss@customer.com"]},
                "bcc": {"address": ["audit@business.com"]},
                "replyTo": "jh@customer.com",
            },
            "messageId": "<m1@customer.com>",
        }
    },
    "customAttributes": {
        "customAttribute": [
            {"attribName": "customer_rating", "attribValues": {"attribValue": [{"value": "5"}]}},
            {"attribName": "order_number", "attribValues": {"attribValue": [{"value": "A-17"}]}},
        ]
    },
    "language": {"value": "en-US"},
    "lastDepartment": {"id": "998", "name": "Sales"},
    "issueType": {"id": "12", "name": "Billing"},
    "queue": {"id": "4", "name": "Service queue"},
    "userLastWorked": {"id": "7", "name": "agent1"},
    "assignedTo": {"id": "7", "name": "agent1"},
    "contactPointData": "jhenry@customer.com",
    "notes": {
        "count": 1,
        "note": [
            {
                "id": "81",
                "text": "Called back",
                "created": {"date": "2015-12-28T13:38:50.000Z"},
                "user": {"id": "7", "name": "agent1"},
            }
        ],
    },
}


def test_default_subset_without_attribute_parameter() -> None:
    activity = inbound_email()
    assert activity_v12(view_of(activity), activity, attributes=None) == DEFAULT_SHAPE


def test_attribute_all_gives_every_attribute() -> None:
    activity = inbound_email()
    result = activity_v12(view_of(activity), activity, attributes={"all"})
    assert result == {**DEFAULT_SHAPE, **ONLY_IN_ALL}
    assert set(result) == ATTRIBUTES


def test_attribute_list_selects_the_named_attributes_plus_id_and_link() -> None:
    activity = inbound_email()
    result = activity_v12(view_of(activity), activity, attributes={"subject", "userLastWorked"})
    assert result == {
        "id": "1011",
        "link": SELF,
        "subject": "Issue with mobile phone",
        "userLastWorked": {"id": "7", "name": "agent1"},
    }


def test_attribute_parameter_parsing() -> None:
    assert parse_attribute_parameter(None, ATTRIBUTES) is None
    assert parse_attribute_parameter("  ", ATTRIBUTES) is None
    assert parse_attribute_parameter("all", ATTRIBUTES) == {"all"}
    assert parse_attribute_parameter("payload, created,", ATTRIBUTES) == {"payload", "created"}


def test_unknown_attribute_name_is_refused_with_400_102() -> None:
    with pytest.raises(DomainError) as caught:
        parse_attribute_parameter("subject,password", ATTRIBUTES)
    assert caught.value.code == "400-102"
    assert caught.value.params["parameter"] == "$attribute"
    assert "payload" in caught.value.params["values"]


def test_embed_inline_attachment_puts_the_image_bytes_in_the_html() -> None:
    activity = inbound_email()
    result = activity_v12(
        view_of(activity),
        activity,
        attributes={"payload"},
        embed_inline=True,
        blobs_data={PNG_SHA: b"\x89PNG\r\n"},
    )
    contents = result["payload"]["email"]["contents"]["content"]
    assert contents[1] == {
        "type": "html",
        "value": '<p>See <img src="data:image/png;base64,iVBORw0K"></p>',
    }


def test_without_embedding_the_html_keeps_its_cid_references() -> None:
    activity = inbound_email()
    result = activity_v12(
        view_of(activity), activity, attributes={"payload"}, blobs_data={PNG_SHA: b"png"}
    )
    html = result["payload"]["email"]["contents"]["content"][1]["value"]
    assert html == '<p>See <img src="cid:img1"></p>'


def test_links_follow_the_base_path_the_request_came_through() -> None:
    activity = inbound_email(attachments=[], case_id=5)
    result = activity_v12(view_of(activity), activity, base_path="/ws/v12", attributes={"case"})
    assert result["link"] == {"rel": "self", "href": "/ws/v12/interaction/activity/1011"}
    assert result["case"] == {
        "id": "5",
        "link": {"rel": "case", "href": "/ws/v12/interaction/case/5"},
    }


def test_activity_without_attachments_counts_zero() -> None:
    activity = inbound_email(attachments=[])
    assert activity_v12(view_of(activity), activity)["attachments"] == {"count": 0}


def test_references_not_loaded_show_by_id_only() -> None:
    activity = inbound_email()
    bare = ActivityView(actor=USER_ACTOR, activities=[activity])
    result = activity_v12(bare, activity, attributes={"all"})
    assert result["department"] == {"id": "999"}
    assert result["customer"] == {"id": "1000"}
    assert result["queue"] == {"id": "4"}
    assert result["userLastWorked"] == {"id": "7"}
    assert "receiver" not in result["payload"]["email"]["emailAddresses"]


def test_outbound_email_contact_point_data_is_the_first_recipient_without_a_point() -> None:
    email = EmailPayload(from_address="support@business.com", to=["jhenry@customer.com"])
    activity = inbound_email(
        mode=Mode.OUTBOUND, substatus=Substatus.SENT, contact_point_id=None, email=email
    )
    result = activity_v12(view_of(activity), activity, attributes={"all"})
    assert result["contactPointData"] == "jhenry@customer.com"
    assert result["status"] == {"value": "completed", "displayValue": "Completed"}
    assert result["mode"] == {"value": "outbound", "displayValue": "Outbound"}


def test_task_payload_carries_its_contents() -> None:
    activity = inbound_email(
        type=ActivityType.TASK,
        subtype="follow_up",
        email=None,
        task=TaskPayload(text="Call the customer"),
        attachments=[],
    )
    result = activity_v12(view_of(activity), activity, attributes={"type", "payload"})
    assert result["type"] == {
        "value": "task",
        "displayValue": "Task",
        "subtype": {"value": "follow_up", "displayValue": "Follow up"},
    }
    assert result["payload"] == {
        "task": {"contents": {"content": [{"type": "text", "value": "Call the customer"}]}}
    }


def test_display_values_go_through_the_translator() -> None:
    activity = inbound_email()
    german = {"Inbound": "Eingehend", "Email": "E-Mail", "Open": "Offen"}
    result = activity_v12(
        view_of(activity),
        activity,
        attributes={"mode", "type", "status"},
        translate=lambda text: german.get(text, text),
    )
    assert result["mode"] == {"value": "inbound", "displayValue": "Eingehend"}
    assert result["type"]["displayValue"] == "E-Mail"
    assert result["status"] == {"value": "open", "displayValue": "Offen"}


def test_document_lists_the_activities_of_the_view_in_order() -> None:
    first = inbound_email(id=1012, attachments=[])
    second = inbound_email(id=1011, attachments=[])
    document = activities_v12_document(view_of(first, second), attributes={"subject"})
    assert [a["id"] for a in document["activity"]] == ["1012", "1011"]
    assert document["activity"][0]["link"] == {
        "rel": "self",
        "href": "/system/ws/v12/interaction/activity/1012",
    }


# --- XML ---------------------------------------------------------------------------------


def q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


A, P, C = xml_names.ACTIVITY, xml_names.PLATFORM, xml_names.COMMON


def test_xml_has_the_activities_root_and_egain_namespaces() -> None:
    activity = inbound_email()
    document = activities_v12_document(view_of(activity), attributes={"all"})
    xml = render_v12_xml(document)
    root = fromstring(xml)
    assert root.tag == q(A, "activities")
    (element,) = root.findall(q(A, "activity"))
    assert element.get("id") == "1011"
    self_link = element.find(q(A, "link"))
    assert self_link is not None and self_link.attrib == SELF
    case = element.find(q(A, "case"))
    assert case is not None and case.get("id") == "1001"
    case_link = case.find(q(xml_names.CASE, "link"))
    assert case_link is not None and case_link.get("rel") == "case"
    assert element.findtext(f"{q(A, 'department')}/{q(P, 'name')}") == "Service"
    assert element.findtext(f"{q(A, 'mode')}/{q(C, 'value')}") == "inbound"
    assert element.findtext(f"{q(A, 'mode')}/{q(C, 'displayValue')}") == "Inbound"
    assert element.findtext(f"{q(A, 'type')}/{q(A, 'value')}") == "email"
    assert element.findtext(q(A, "isSecure")) == "true"
    created = element.find(q(A, "created"))
    assert created is not None and created.get("date") == "2015-12-26T19:05:01.250Z"
    attachment = element.find(f"{q(A, 'attachments')}/{q(xml_names.ATTACHMENT, 'attachment')}")
    assert attachment is not None and attachment.get("id") == "55"
    assert element.find(q(xml_names.CUSTOMER, "customer")) is not None


def test_xml_declares_prefixes_in_the_order_of_egains_sample() -> None:
    """api-notes §1.6: ns2 = case, ns3 = platform, ns4 = common."""
    activity = inbound_email()
    xml = render_v12_xml(activities_v12_document(view_of(activity)))
    head = xml.split(b">", 2)[1]
    assert f'xmlns="{A}"'.encode() in head
    assert f'xmlns:ns2="{xml_names.CASE}"'.encode() in head
    assert f'xmlns:ns3="{P}"'.encode() in head
    assert f'xmlns:ns4="{C}"'.encode() in head
    assert b"<ns3:name>Service</ns3:name>" in xml


def test_xml_parses_back_to_the_json_shape_with_text_values() -> None:
    activity = inbound_email(attachments=[inbound_email().attachments[0]])
    document = activities_v12_document(
        view_of(activity), attributes={"department", "isSecure", "attachments", "payload"}
    )
    root, parsed = parse_xml(render_v12_xml(document))
    assert root == "activities"
    (entry,) = parsed["activity"]
    assert entry["id"] == "1011"
    assert entry["department"] == {"id": "999", "name": "Service"}
    assert entry["isSecure"] == "true"
    assert entry["attachments"] == {
        "count": "1",
        "attachment": [
            {
                "id": "55",
                "fileName": "photo.png",
                "contentType": "image/png",
                "size": "6",
                "isInline": "true",
                "contentId": "img1",
                "link": [
                    {
                        "rel": "attachment",
                        "href": "/system/ws/v12/interaction/activity/1011/attachment/55",
                    }
                ],
            }
        ],
    }
    email = entry["payload"]["email"]
    assert email["contents"]["content"][1] == {
        "type": "html",
        "value": '<p>See <img src="cid:img1"></p>',
    }
    assert email["emailAddresses"]["to"] == {"address": ["support@business.com"]}


def test_customer_caller_never_sees_contact_center_internals() -> None:
    activity = inbound_email()
    view = view_of(activity, actor=Actor.for_customer(1000))
    result = activity_v12(view, activity, attributes={"all"})
    assert set(result) == ATTRIBUTES - {
        "notes",
        "queue",
        "lastDepartment",
        "userLastWorked",
        "assignedTo",
        "customAttributes",
    }
    assert result["payload"]["email"]["emailAddresses"] == {
        "from": "jhenry@customer.com",
        "receiver": "support@business.com",
        "to": {"address": ["support@business.com"]},
        "cc": {"address": ["boss@customer.com"]},
        "replyTo": "jh@customer.com",
    }
