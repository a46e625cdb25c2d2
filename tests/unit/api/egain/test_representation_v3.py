"""The eGain Case Manager v3 activity representation (api-notes §1.6), from in-memory objects.

The first expected dict is eGain's published sample (activity 1205 of case 1095, customer 1000
John Tierney), written out by hand; the others are written by hand from the schema list.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from defusedxml.ElementTree import fromstring

from emaildesk.api.egain import xml_names
from emaildesk.api.egain.representation_v3 import (
    ATTRIBUTES,
    HIDDEN_FROM_CUSTOMERS,
    activities_v3_document,
    activity_v3,
    render_v3_xml,
)
from emaildesk.domain.activities import Activity, ActivityType, EmailPayload, Mode, Note, Substatus
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.attachments import Attachment
from emaildesk.domain.customers import Contact, ContactPoint, ContactPointKind, Customer
from emaildesk.domain.directory import Department, EmailAlias, IssueType, Queue
from emaildesk.domain.users import User
from emaildesk.services.activity_queries import ActivityView

SENT = datetime(2015, 12, 26, 19, 0, tzinfo=UTC)
CREATED = datetime(2015, 12, 26, 19, 5, tzinfo=UTC)
MODIFIED = datetime(2015, 12, 28, 13, 38, 50, tzinfo=UTC)
CUSTOMER_ACTOR = Actor.for_customer(1000)
USER_ACTOR = Actor(ActorType.USER, 7, "agent1", department_ids=frozenset({999}))
CLIENT_ACTOR = Actor.for_client(3, "crm", frozenset({"app.core.casemgr.read"}))


def sample_activity(**overrides: Any) -> Activity:
    """The activity of eGain's getActivityByIds sample: inbound, secure, open, read."""
    fields: dict[str, Any] = {
        "type": ActivityType.EMAIL,
        "subtype": "general",
        "mode": Mode.INBOUND,
        "department_id": 999,
        "case_id": 1095,
        "substatus": Substatus.ASSIGNED,
        "subject": "Issue with mobile",
        "customer_id": 1000,
        "secure": True,
        "read": True,
        "created_at": CREATED,
        "last_modified_at": MODIFIED,
        "id": 1205,
    }
    fields.update(overrides)
    return Activity(**fields)


def view_of(activity: Activity, actor: Actor) -> ActivityView:
    point = ContactPoint(ContactPointKind.EMAIL, "jt@customer.com", id=31)
    return ActivityView(
        actor=actor,
        activities=[activity],
        departments={999: Department("Service", id=999), 998: Department("Sales", id=998)},
        customers={1000: Customer(contacts=[Contact("John", "Tierney", [point])], id=1000)},
        users={7: User("agent1", 999, id=7)},
        issue_types={12: IssueType("Billing", id=12)},
        queues={4: Queue("Service queue", 999, id=4)},
        aliases={3: EmailAlias("support@business.com", 999, id=3)},
    )


CONTACTS = {
    "contact": [
        {"firstName": "John", "lastName": "Tierney", "email": [{"emailAddress": "jt@customer.com"}]}
    ]
}


def test_default_shape_for_a_customer_is_egains_sample() -> None:
    activity = sample_activity()
    result = activity_v3(view_of(activity, CUSTOMER_ACTOR), activity)
    assert result == {
        "link": [{"rel": "self", "href": "/core/casemgr/v3/activity/1205?customer=1000"}],
        "case": {
            "link": [{"rel": "self", "href": "/core/casemgr/v3/case/1095?customer=1000"}],
            "id": 1095,
        },
        "mode": {"value": "inbound", "displayValue": "Inbound"},
        "type": {
            "value": "email",
            "displayValue": "Email",
            "subtype": {"value": "general", "displayValue": "General"},
        },
        "secure": True,
        "status": {"value": "open", "displayValue": "Open"},
        "read": True,
        "subject": "Issue with mobile",
        "customer": {"id": 1000, "contacts": CONTACTS},
        "attachments": {
            "count": 0,
            "link": {
                "rel": "attachment",
                "href": "/core/casemgr/v3/activity/1205/attachment?customer=1000",
            },
        },
        "id": "1205",
    }


def test_customer_links_name_the_activitys_customer_seen_through_a_grant() -> None:
    activity = sample_activity(customer_id=2000)
    result = activity_v3(view_of(activity, CUSTOMER_ACTOR), activity)
    assert result["link"] == [
        {"rel": "self", "href": "/core/casemgr/v3/activity/1205?customer=2000"}
    ]


def test_user_and_client_links_carry_no_customer_parameter() -> None:
    activity = sample_activity()
    for actor in (USER_ACTOR, CLIENT_ACTOR):
        result = activity_v3(view_of(activity, actor), activity)
        assert result["link"] == [{"rel": "self", "href": "/core/casemgr/v3/activity/1205"}]
        assert result["case"]["link"] == [{"rel": "self", "href": "/core/casemgr/v3/case/1095"}]


def full_activity() -> Activity:
    return sample_activity(
        priority=2,
        due_date=datetime(2020, 11, 30, 18, 30, tzinfo=UTC),
        language="fr-FR",
        contact_point_id=31,
        last_department_id=998,
        queue_id=4,
        user_last_worked_id=7,
        issue_type_id=12,
        sent_on_behalf=True,
        custom_attributes={"customer_rating": "5"},
        email=EmailPayload(
            from_address="jt@customer.com",
            to=["support@business.com"],
            bcc=["audit@business.com"],
            receiver_alias_id=3,
            message_center_id=8,
            sent_date=SENT,
            text="My phone is broken",
            message_id="<m2@customer.com>",
        ),
        attachments=[
            Attachment("bill.pdf", "application/pdf", 1234, "e" * 64, id=77),
            Attachment(
                "logo.gif", "image/gif", 99, "f" * 64, inline=True, content_id="logo", id=78
            ),
        ],
        notes=[Note("Asked for the invoice", "user", 7, created_at=MODIFIED, id=81)],
        created_by_type="user",
        created_by_id=7,
        last_modified_by_type="user",
        last_modified_by_id=7,
    )


def test_all_attributes_cover_the_schema_list() -> None:
    activity = full_activity()
    result = activity_v3(view_of(activity, USER_ACTOR), activity, attributes={"all"})
    assert result == {
        "link": [{"rel": "self", "href": "/core/casemgr/v3/activity/1205"}],
        "case": {"link": [{"rel": "self", "href": "/core/casemgr/v3/case/1095"}], "id": 1095},
        "department": {"id": 999, "name": "Service"},
        "mode": {"value": "inbound", "displayValue": "Inbound"},
        "type": {
            "value": "email",
            "displayValue": "Email",
            "subtype": {"value": "general", "displayValue": "General"},
        },
        "secure": True,
        "sentOnBehalf": True,
        "status": {"value": "open", "displayValue": "Open"},
        "read": True,
        "priority": "2",
        "created": "2015-12-26T19:05:00.000Z",
        "createdBy": {"id": 7, "name": "agent1"},
        "lastModified": "2015-12-28T13:38:50.000Z",
        "lastModifiedBy": {"id": 7, "name": "agent1"},
        "dueDate": "2020-11-30T18:30:00.000Z",
        "subject": "Issue with mobile",
        "language": {"value": "fr-FR"},
        "userLastWorked": {"id": 7, "name": "agent1"},
        "customer": {"id": 1000, "contacts": CONTACTS},
        "queue": {"id": 4, "name": "Service queue"},
        "attachments": {
            "count": 2,
            "link": {"rel": "attachment", "href": "/core/casemgr/v3/activity/1205/attachment"},
            "attachment": [
                {
                    "id": 77,
                    "fileName": "bill.pdf",
                    "contentType": "application/pdf",
                    "size": 1234,
                    "inline": False,
                    "link": {
                        "rel": "attachment",
                        "href": "/core/casemgr/v3/activity/1205/attachment/77",
                    },
                },
                {
                    "id": 78,
                    "fileName": "logo.gif",
                    "contentType": "image/gif",
                    "size": 99,
                    "inline": True,
                    "contentId": "logo",
                    "link": {
                        "rel": "attachment",
                        "href": "/core/casemgr/v3/activity/1205/attachment/78",
                    },
                },
            ],
        },
        "notes": {
            "count": 1,
            "note": [
                {
                    "id": 81,
                    "text": "Asked for the invoice",
                    "created": "2015-12-28T13:38:50.000Z",
                    "createdBy": {"id": 7, "name": "agent1"},
                }
            ],
        },
        "contactPointData": "jt@customer.com",
        "lastDepartment": {"id": 998, "name": "Sales"},
        "issueType": {"id": 12, "name": "Billing"},
        "contentPurged": False,
        "payload": {
            "email": {
                "date": "2015-12-26T19:00:00.000Z",
                "content": [{"type": "text", "value": "My phone is broken"}],
                "emailAddresses": {
                    "from": "jt@customer.com",
                    "receiver": "support@business.com",
                    "to": {"address": ["support@business.com"]},
                    "bcc": {"address": ["audit@business.com"]},
                },
                "messageCenter": {"id": 8},
                "messageId": "<m2@customer.com>",
            }
        },
        "customAttributes": {
            "customAttribute": [
                {"attribName": "customer_rating", "attribValues": {"attribValue": [{"value": "5"}]}}
            ]
        },
        "channel": {"value": "email", "displayValue": "Email"},
        "id": "1205",
    }
    assert set(result) == ATTRIBUTES


def test_customer_never_sees_contact_center_internals_even_with_all() -> None:
    activity = full_activity()
    result = activity_v3(view_of(activity, CUSTOMER_ACTOR), activity, attributes={"all"})
    assert set(result) == ATTRIBUTES - HIDDEN_FROM_CUSTOMERS
    for internal in ("notes", "queue", "userLastWorked", "createdBy", "customAttributes"):
        assert internal not in result
    assert "bcc" not in result["payload"]["email"]["emailAddresses"]
    assert result["attachments"]["attachment"][0]["link"] == {
        "rel": "attachment",
        "href": "/core/casemgr/v3/activity/1205/attachment/77?customer=1000",
    }


def test_customer_asking_for_a_hidden_attribute_by_name_does_not_get_it() -> None:
    activity = full_activity()
    result = activity_v3(view_of(activity, CUSTOMER_ACTOR), activity, attributes={"notes"})
    assert result == {
        "link": [{"rel": "self", "href": "/core/casemgr/v3/activity/1205?customer=1000"}],
        "id": "1205",
    }


def test_created_by_a_customer_has_no_user_info() -> None:
    activity = sample_activity(created_by_type="customer", created_by_id=1000)
    result = activity_v3(view_of(activity, USER_ACTOR), activity, attributes={"createdBy"})
    assert "createdBy" not in result


def test_embed_inline_in_v3_payload() -> None:
    email = EmailPayload(from_address="jt@customer.com", html='<img src="cid:logo">')
    logo = Attachment("logo.gif", "image/gif", 3, "f" * 64, inline=True, content_id="logo", id=78)
    activity = sample_activity(email=email, attachments=[logo])
    result = activity_v3(
        view_of(activity, USER_ACTOR),
        activity,
        attributes={"payload"},
        embed_inline=True,
        blobs_data={"f" * 64: b"GIF"},
    )
    assert result["payload"]["email"]["content"] == [
        {"type": "html", "value": '<img src="data:image/gif;base64,R0lG">'}
    ]


def test_document_wraps_activities() -> None:
    activity = sample_activity()
    document = activities_v3_document(view_of(activity, USER_ACTOR), attributes={"subject"})
    assert document == {
        "activity": [
            {
                "link": [{"rel": "self", "href": "/core/casemgr/v3/activity/1205"}],
                "subject": "Issue with mobile",
                "id": "1205",
            }
        ]
    }


def test_xml_keeps_dates_as_elements_and_ids_as_attributes() -> None:
    activity = full_activity()
    document = activities_v3_document(view_of(activity, USER_ACTOR), attributes={"all"})
    root = fromstring(render_v3_xml(document))
    a = xml_names.ACTIVITY

    def q(name: str) -> str:
        return f"{{{a}}}{name}"

    assert root.tag == q("activities")
    (element,) = root.findall(q("activity"))
    assert element.get("id") == "1205"
    case = element.find(q("case"))
    assert case is not None and case.get("id") == "1095"
    assert element.findtext(q("created")) == "2015-12-26T19:05:00.000Z"
    assert element.findtext(f"{q('payload')}/{q('email')}/{q('date')}") == (
        "2015-12-26T19:00:00.000Z"
    )
    assert element.findtext(q("secure")) == "true"
    assert element.findtext(q("contentPurged")) == "false"
    links = element.findall(q("link"))
    assert [link.attrib for link in links] == [
        {"rel": "self", "href": "/core/casemgr/v3/activity/1205"}
    ]
    assert len(element.findall(f"{q('attachments')}/{q('attachment')}")) == 2
