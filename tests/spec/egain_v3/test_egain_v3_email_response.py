"""Conformance: `POST /core/casemgr/v3/activity/{ids}/email/general` (specs/egain-v3-email-
response.txt), over a real socket on both databases. One test per rule, named after it; every
refusal checks status, eGain code and that nothing durable changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from egain_v3_support import (
    LEO,
    MARIA,
    RETIRED_ALIAS,
    SALES,
    SAM,
    Refusals,
    Tokens,
    activity_url,
    customer_id,
    email_url,
    incoming_email,
    location_id,
    set_partition,
)

from emaildesk.db.database import Database
from emaildesk.domain.activities import Activity, ActivityType, Case, EmailPayload, Mode
from emaildesk.domain.customers import ContactPointKind, CustomerGrant, new_individual_customer
from emaildesk.domain.directory import IssueType, MessageCenter

ACTIVITY_NS = "http://bindings.egain.com/ws/model/v12/gen/interaction/activity"


def seed_sample(**changes: Any) -> dict[str, Any]:
    """The seed's request sample, as reconstructed in api-notes §1.5."""
    body: dict[str, Any] = {
        "type": {"value": "email", "subtype": {"value": "general"}},
        "subject": "Issue with mobile phone",
        "payload": {"email": {"content": {"type": "text", "value": "Still broken."}}},
    }
    body.update(changes)
    return body


def with_email(**email: Any) -> dict[str, Any]:
    body = seed_sample()
    body["payload"]["email"].update(email)
    return body


@pytest.fixture
async def maria_email(demo_database: Database, blob_dir: Path) -> int:
    """Maria's inbound email to support@ (Service): the activity she responds to."""
    return await incoming_email(demo_database, blob_dir, MARIA)


@pytest.fixture
async def leo_email(demo_database: Database, blob_dir: Path) -> int:
    return await incoming_email(demo_database, blob_dir, LEO, subject="Where is my order")


async def read_back(
    client: httpx.AsyncClient, headers: dict[str, str], activity_id: int
) -> dict[str, Any]:
    response = await client.get(
        activity_url(activity_id), params={"$attribute": "all"}, headers=headers
    )
    assert response.status_code == 200, response.text
    activity: dict[str, Any] = response.json()["activity"][0]
    return activity


async def test_spec_sample_request_creates_the_response(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    response = await client.post(email_url(maria_email), headers=maria, json=seed_sample())
    new_id = location_id(response)
    assert response.content == b""
    original = await read_back(client, maria, maria_email)
    created = await read_back(client, maria, new_id)
    assert created["type"]["value"] == "email"
    assert created["type"]["subtype"]["value"] == "general"
    assert created["mode"]["value"] == "inbound"
    assert created["subject"] == "Issue with mobile phone"
    assert created["case"]["id"] == original["case"]["id"]
    assert created["secure"] is True
    assert created["sentOnBehalf"] is False
    assert created["payload"]["email"]["content"] == [{"type": "text", "value": "Still broken."}]
    assert created["payload"]["email"]["emailAddresses"]["from"] == MARIA


async def test_xml_body_creates_the_response(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<activity xmlns="{ACTIVITY_NS}" xmlns:ns3="http://bindings.egain.com/ws/model/v12/gen/common">
  <type><value>email</value><subtype><ns3:value>general</ns3:value></subtype></type>
  <subject>Sent as XML</subject>
  <payload><email>
    <content><ns3:type>text</ns3:type><ns3:value>plain</ns3:value></content>
    <content><ns3:type>html</ns3:type><ns3:value><![CDATA[<p>rich</p>]]></ns3:value></content>
  </email></payload>
</activity>"""
    response = await client.post(
        email_url(maria_email),
        content=xml.encode(),
        headers={**maria, "Content-Type": "application/xml"},
    )
    created = await read_back(client, maria, location_id(response))
    assert created["subject"] == "Sent as XML"
    assert created["payload"]["email"]["content"] == [
        {"type": "text", "value": "plain"},
        {"type": "html", "value": "<p>rich</p>"},
    ]


@pytest.mark.parametrize("document", ["json", "xml"])
async def test_text_plain_body_carries_json_or_xml(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int, document: str
) -> None:
    content = (
        json.dumps(seed_sample(subject="As text/plain"))
        if document == "json"
        else "<activity><type><value>email</value><subtype><value>general</value></subtype>"
        "</type><subject>As text/plain</subject></activity>"
    )
    response = await client.post(
        email_url(maria_email),
        content=content.encode(),
        headers={**maria, "Content-Type": "text/plain; charset=utf-8"},
    )
    assert (await read_back(client, maria, location_id(response)))["subject"] == "As text/plain"


@pytest.mark.parametrize("data_type", [None, "application/json"])
async def test_form_urlencoded_carries_the_document_in_data(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int, data_type: str | None
) -> None:
    form = {"data": json.dumps(seed_sample(subject="As a form"))}
    if data_type:
        form["data-type"] = data_type
    response = await client.post(email_url(maria_email), data=form, headers=maria)
    assert (await read_back(client, maria, location_id(response)))["subject"] == "As a form"


async def test_form_urlencoded_refuses_other_fields(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    form = {"data": json.dumps(seed_sample()), "subject": "stray"}
    body = await refused("POST", email_url(maria_email), 400, "400-152", data=form, headers=maria)
    assert "'subject'" in body["developerMessage"]


async def test_multipart_carries_data_and_data_type_parts(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    xml = (
        "<activity><type><value>email</value><subtype><value>general</value></subtype></type>"
        "<subject>As multipart</subject></activity>"
    )
    response = await client.post(
        email_url(maria_email),
        files={"data": (None, xml), "data-type": (None, "application/xml")},
        headers=maria,
    )
    assert (await read_back(client, maria, location_id(response)))["subject"] == "As multipart"


async def test_multipart_file_parts_are_refused_attachments_come_by_alt_id(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    files = {
        "data": (None, json.dumps(seed_sample())),
        "data-type": (None, "application/json"),
        "photo": ("photo.png", b"\x89PNG...", "image/png"),
    }
    body = await refused("POST", email_url(maria_email), 400, "400-152", files=files, headers=maria)
    assert "'photo'" in body["developerMessage"]


async def test_unsupported_content_type_is_refused(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    await refused(
        "POST",
        email_url(maria_email),
        415,
        "415-100",
        content=b"{}",
        headers={**maria, "Content-Type": "application/yaml"},
    )


async def test_malformed_json_is_refused(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    await refused(
        "POST",
        email_url(maria_email),
        400,
        "400-2000",
        content=b'{"type": ',
        headers={**maria, "Content-Type": "application/json"},
    )


async def test_the_request_body_is_mandatory(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    await refused(
        "POST",
        email_url(maria_email),
        400,
        "400-2001",
        content=b"",
        headers={**maria, "Content-Type": "application/json"},
    )


async def test_only_customers_may_create_an_email_response(
    refused: Refusals, tokens: Tokens, maria_email: int
) -> None:
    for headers in (await tokens.user("agent1"), await tokens.integrator()):
        body = await refused(
            "POST", email_url(maria_email), 403, "403-112", headers=headers, json={}
        )
        assert "are not allowed to access this URL" in body["developerMessage"]


async def test_customer_token_needs_the_manage_scope(
    refused: Refusals, tokens: Tokens, maria_email: int
) -> None:
    read_only = await tokens.customer(MARIA, scope="core.casemgr.read")
    body = await refused(
        "POST",
        email_url(maria_email),
        403,
        "403-197",
        headers=read_only,
        json=seed_sample(),
    )
    assert "core.casemgr.manage" in body["developerMessage"]


async def test_unsupported_query_parameter_is_named(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    body = await refused(
        "POST",
        f"{email_url(maria_email)}?customer=&foo=1",
        400,
        "400-101",
        headers=maria,
        json=seed_sample(),
    )
    assert body["developerMessage"] == "Unsupported query parameter(s) supplied: 'foo'."


async def test_type_value_must_be_email(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    body = seed_sample(type={"value": "task", "subtype": {"value": "general"}})
    await refused("POST", email_url(maria_email), 400, "400-196", headers=maria, json=body)


async def test_type_subtype_value_must_be_general(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    body = seed_sample(type={"value": "email", "subtype": {"value": "compose"}})
    await refused("POST", email_url(maria_email), 400, "400-196", headers=maria, json=body)


async def test_type_value_is_required(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    body = seed_sample()
    del body["type"]
    result = await refused(
        "POST", email_url(maria_email), 400, "400-2001", headers=maria, json=body
    )
    assert "type.value" in result["developerMessage"]


async def test_at_least_one_of_subject_attachments_or_content(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    body = {"type": {"value": "email", "subtype": {"value": "general"}}}
    await refused("POST", email_url(maria_email), 400, "400-2002", headers=maria, json=body)


async def test_subject_alone_is_enough(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    body = {"type": {"value": "email", "subtype": {"value": "general"}}, "subject": "Only this"}
    response = await client.post(email_url(maria_email), headers=maria, json=body)
    location_id(response)


async def test_subject_is_at_most_255_characters(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    await refused(
        "POST",
        email_url(maria_email),
        400,
        "400-2003",
        headers=maria,
        json=seed_sample(subject="x" * 256),
    )


async def test_v12_contents_spelling_is_accepted(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    body = seed_sample()
    body["payload"]["email"] = {"contents": {"content": [{"type": "html", "value": "<b>hi</b>"}]}}
    response = await client.post(email_url(maria_email), headers=maria, json=body)
    created = await read_back(client, maria, location_id(response))
    assert created["payload"]["email"]["content"] == [{"type": "html", "value": "<b>hi</b>"}]


async def test_content_type_text_or_html_only(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    body = with_email(content={"type": "rtf", "value": "{\\rtf1}"})
    await refused("POST", email_url(maria_email), 400, "400-196", headers=maria, json=body)


async def test_customers_respond_to_one_activity_at_a_time(
    refused: Refusals,
    maria: dict[str, str],
    maria_email: int,
    demo_database: Database,
    blob_dir: Path,
) -> None:
    second = await incoming_email(demo_database, blob_dir, MARIA, subject="Second")
    body = await refused(
        "POST",
        email_url(f"{maria_email},{second}"),
        400,
        "400-10424",
        headers=maria,
        json=seed_sample(),
    )
    assert "'ids'" in body["developerMessage"]


async def test_ids_are_at_most_1500_characters(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    ids = ",".join([str(maria_email)] * 1000)  # one distinct id, spelled longer than 1500
    assert len(ids) > 1500
    body = await refused(
        "POST", email_url(ids), 400, "400-10424", headers=maria, json=seed_sample()
    )
    assert "'1500'" in body["developerMessage"]


async def test_ids_of_1500_characters_are_accepted(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    padded = str(maria_email).rjust(1500, "0")  # leading zeros: the same id, 1500 characters
    response = await client.post(email_url(padded), headers=maria, json=seed_sample())
    location_id(response)


async def test_an_id_must_be_a_positive_integer(refused: Refusals, maria: dict[str, str]) -> None:
    await refused("POST", email_url("abc"), 400, "400-108", headers=maria, json=seed_sample())


async def test_unknown_activity_is_not_found(refused: Refusals, maria: dict[str, str]) -> None:
    body = await refused(
        "POST", email_url(999999), 404, "404-101", headers=maria, json=seed_sample()
    )
    assert "999999" in body["developerMessage"]


async def test_another_customers_activity_is_not_found(
    refused: Refusals, sam: dict[str, str], maria_email: int
) -> None:
    await refused("POST", email_url(maria_email), 404, "404-101", headers=sam, json=seed_sample())


async def test_customer_may_act_for_a_customer_who_granted_it(
    client: httpx.AsyncClient,
    maria: dict[str, str],
    leo: dict[str, str],
    leo_email: int,
    demo_database: Database,
) -> None:
    leo_id = await customer_id(demo_database, LEO)
    response = await client.post(
        f"{email_url(leo_email)}?customer={leo_id}", headers=maria, json=seed_sample()
    )
    created = await read_back(client, leo, location_id(response))
    assert created["sentOnBehalf"] is True
    assert created["customer"]["id"] == leo_id
    assert created["payload"]["email"]["emailAddresses"]["from"] == LEO


async def test_customer_without_a_grant_is_refused(
    refused: Refusals, sam: dict[str, str], maria_email: int, demo_database: Database
) -> None:
    maria_id = await customer_id(demo_database, MARIA)
    await refused(
        "POST",
        f"{email_url(maria_email)}?customer={maria_id}",
        400,
        "400-2017",
        headers=sam,
        json=seed_sample(),
    )


async def test_empty_customer_parameter_means_the_logged_in_customer(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    response = await client.post(
        f"{email_url(maria_email)}?customer=", headers=maria, json=seed_sample()
    )
    assert (await read_back(client, maria, location_id(response)))["sentOnBehalf"] is False


async def test_customer_parameter_must_be_a_positive_integer(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    await refused(
        "POST",
        f"{email_url(maria_email)}?customer=leo",
        400,
        "400-105",
        headers=maria,
        json=seed_sample(),
    )


async def test_from_is_forbidden_together_with_customer(
    refused: Refusals, maria: dict[str, str], leo_email: int, demo_database: Database
) -> None:
    leo_id = await customer_id(demo_database, LEO)
    await refused(
        "POST",
        f"{email_url(leo_email)}?customer={leo_id}",
        400,
        "400-2015",
        headers=maria,
        json=with_email(emailAddresses={"from": MARIA}),
    )


async def test_from_of_another_contact_is_refused(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    await refused(
        "POST",
        email_url(maria_email),
        400,
        "400-2016",
        headers=maria,
        json=with_email(emailAddresses={"from": SAM}),
    )


async def test_new_from_address_becomes_a_contact_point_of_the_customer(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int, demo_database: Database
) -> None:
    new_address = "maria.work@example.net"
    response = await client.post(
        email_url(maria_email),
        headers=maria,
        json=with_email(emailAddresses={"from": new_address}),
    )
    created = await read_back(client, maria, location_id(response))
    assert created["payload"]["email"]["emailAddresses"]["from"] == new_address
    async with demo_database.uow() as uow:
        point = await uow.customers.find_point(ContactPointKind.EMAIL, new_address)
    assert point is not None
    assert point.customer_id == await customer_id(demo_database, MARIA)


@pytest.mark.parametrize(
    ("addresses", "code"),
    [
        ({"from": "maria.lopez@example.net, leo.lopez@example.net"}, "400-2005"),
        ({"from": "not an address"}, "400-2004"),
        ({"receiver": "support@example.com; sales@example.com"}, "400-2005"),
        ({"replyTo": "nobody@"}, "400-2004"),
    ],
)
async def test_addresses_must_be_single_valid_email_addresses(
    refused: Refusals,
    maria: dict[str, str],
    maria_email: int,
    addresses: dict[str, str],
    code: str,
) -> None:
    await refused(
        "POST",
        email_url(maria_email),
        400,
        code,
        headers=maria,
        json=with_email(emailAddresses=addresses),
    )


async def test_reply_to_is_kept(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    body = with_email(emailAddresses={"replyTo": "maria.home@example.net"})
    response = await client.post(email_url(maria_email), headers=maria, json=body)
    created = await read_back(client, maria, location_id(response))
    assert created["payload"]["email"]["emailAddresses"]["replyTo"] == "maria.home@example.net"


async def test_receiver_must_be_an_active_alias(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    for receiver in (RETIRED_ALIAS, "nobody@example.com"):
        await refused(
            "POST",
            email_url(maria_email),
            400,
            "400-2006",
            headers=maria,
            json=with_email(emailAddresses={"receiver": receiver}),
        )


async def test_department_of_the_activity_is_the_responded_activitys_by_default(
    client: httpx.AsyncClient, maria: dict[str, str], demo_database: Database, blob_dir: Path
) -> None:
    sales_email = await incoming_email(demo_database, blob_dir, MARIA, receiver=SALES)
    response = await client.post(email_url(sales_email), headers=maria, json=seed_sample())
    created = await read_back(client, maria, location_id(response))
    assert created["department"]["name"] == "Sales"
    assert created["payload"]["email"]["emailAddresses"]["receiver"] == SALES


async def test_department_of_the_activity_follows_the_receiver(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    body = with_email(emailAddresses={"receiver": SALES})
    response = await client.post(email_url(maria_email), headers=maria, json=body)
    created = await read_back(client, maria, location_id(response))
    assert created["department"]["name"] == "Sales"


async def test_department_of_the_activity_follows_the_message_center(
    client: httpx.AsyncClient,
    maria: dict[str, str],
    demo_database: Database,
    blob_dir: Path,
) -> None:
    sales_email = await incoming_email(demo_database, blob_dir, MARIA, receiver=SALES)
    async with demo_database.uow() as uow:
        center = await uow.directory.message_center_by_name("Customer portal")  # Service
    assert center is not None
    body = with_email(messageCenter={"id": str(center.id)})
    response = await client.post(email_url(sales_email), headers=maria, json=body)
    created = await read_back(client, maria, location_id(response))
    assert created["department"]["name"] == "Service"
    assert created["payload"]["email"]["messageCenter"]["id"] == center.id


async def test_receiver_must_be_in_the_message_centers_department(
    refused: Refusals, maria: dict[str, str], maria_email: int, demo_database: Database
) -> None:
    async with demo_database.uow() as uow:
        center = await uow.directory.message_center_by_name("Customer portal")  # Service
    assert center is not None
    body = with_email(messageCenter={"id": center.id}, emailAddresses={"receiver": SALES})
    await refused("POST", email_url(maria_email), 400, "400-2006", headers=maria, json=body)


async def test_message_center_must_be_active(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    body = with_email(messageCenter={"id": "424242"})
    await refused("POST", email_url(maria_email), 400, "400-2011", headers=maria, json=body)


async def test_issue_type_only_together_with_a_message_center(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    body = seed_sample(issueType={"id": "1"})
    await refused("POST", email_url(maria_email), 400, "400-2009", headers=maria, json=body)


async def test_issue_type_must_be_associated_with_the_message_center(
    refused: Refusals, maria: dict[str, str], maria_email: int, demo_database: Database
) -> None:
    async with demo_database.uow() as uow:
        center = await uow.directory.message_center_by_name("Customer portal")
        loose = await uow.directory.add(IssueType("Not in any message center"))
        await uow.commit()
    assert center is not None
    body = with_email(messageCenter={"id": center.id})
    body["issueType"] = {"id": loose.id}
    await refused("POST", email_url(maria_email), 400, "400-2010", headers=maria, json=body)


async def test_issue_type_of_the_message_center_is_kept(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int, demo_database: Database
) -> None:
    async with demo_database.uow() as uow:
        center = await uow.directory.message_center_by_name("Customer portal")
        billing = await uow.directory.issue_type_by_name("Billing question")
    assert center is not None and billing is not None
    body = with_email(messageCenter={"id": center.id})
    body["issueType"] = {"id": str(billing.id)}
    response = await client.post(email_url(maria_email), headers=maria, json=body)
    created = await read_back(client, maria, location_id(response))
    assert created["issueType"] == {"id": billing.id, "name": "Billing question"}


async def test_body_ids_must_be_positive_integers(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    body = with_email(messageCenter={"id": "portal"})
    result = await refused("POST", email_url(maria_email), 400, "400-152", headers=maria, json=body)
    assert "payload.email.messageCenter.id" in result["developerMessage"]


def custom(name: str, value: str) -> dict[str, Any]:
    return {
        "customAttribute": [
            {"attribName": name, "attribValues": {"attribValue": [{"value": value}]}}
        ]
    }


@pytest.mark.parametrize(
    ("attributes", "code"),
    [
        (custom("favourite_colour", "blue"), "400-2012"),
        (custom("customer_rating", "9"), "400-2013"),
        (custom("order_number", "A+1"), "400-2014"),
    ],
)
async def test_custom_attributes_must_match_the_configuration(
    refused: Refusals,
    maria: dict[str, str],
    maria_email: int,
    attributes: dict[str, Any],
    code: str,
) -> None:
    body = seed_sample(customAttributes=attributes)
    await refused("POST", email_url(maria_email), 400, code, headers=maria, json=body)


async def test_custom_attributes_are_stored(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int, demo_database: Database
) -> None:
    body = seed_sample(customAttributes=custom("customer_rating", "4"))
    response = await client.post(email_url(maria_email), headers=maria, json=body)
    async with demo_database.uow() as uow:
        stored = await uow.activities.get(location_id(response))
    assert stored is not None
    assert stored.custom_attributes == {"customer_rating": "4"}


async def test_content_size_is_limited_by_maximum_body_size(
    refused: Refusals, maria: dict[str, str], maria_email: int, demo_database: Database
) -> None:
    await set_partition(demo_database, max_body_size_kb=1)
    body = with_email(content={"type": "text", "value": "x" * 1025})
    await refused("POST", email_url(maria_email), 400, "400-2021", headers=maria, json=body)


async def upload(client: httpx.AsyncClient, headers: dict[str, str], name: str, data: bytes) -> str:
    response = await client.post(
        "/core/casemgr/v3/activity/attachment",
        files={"attachment": (name, data, "application/octet-stream")},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    alt_id: str = response.json()["altId"]
    return alt_id


async def test_email_size_with_attachments_is_limited_by_maximum_email_size(
    refused: Refusals,
    client: httpx.AsyncClient,
    maria: dict[str, str],
    maria_email: int,
    demo_database: Database,
) -> None:
    await set_partition(demo_database, max_email_size_mb=1)
    half = b"x" * (600 * 1024)  # each file passes alone; together they pass 1 MB
    refs = [{"altId": await upload(client, maria, f"part{i}.bin", half)} for i in range(2)]
    body = seed_sample(attachments={"attachment": refs})
    await refused("POST", email_url(maria_email), 400, "400-2020", headers=maria, json=body)


async def test_attachments_are_referenced_by_alt_id(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    alt_id = await upload(client, maria, "receipt.pdf", b"%PDF-1.7 receipt")
    body = seed_sample(attachments={"attachment": [{"altId": alt_id}]})
    response = await client.post(email_url(maria_email), headers=maria, json=body)
    created = await read_back(client, maria, location_id(response))
    assert created["attachments"]["count"] == 1
    assert created["attachments"]["attachment"][0]["fileName"] == "receipt.pdf"
    assert created["attachments"]["attachment"][0]["inline"] is False


async def test_inline_attachment_keeps_its_content_id(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    alt_id = await upload(client, maria, "photo.png", b"\x89PNG fake")
    body = with_email(content={"type": "html", "value": '<img src="cid:photo1">'})
    body["attachments"] = {
        "attachment": [{"altId": alt_id, "inline": "true", "contentId": "photo1"}]
    }
    response = await client.post(email_url(maria_email), headers=maria, json=body)
    created = await read_back(client, maria, location_id(response))
    item = created["attachments"]["attachment"][0]
    assert (item["inline"], item["contentId"]) == (True, "photo1")


async def test_inline_attachment_requires_a_content_id(
    refused: Refusals, client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    alt_id = await upload(client, maria, "photo.png", b"\x89PNG fake")
    body = seed_sample(attachments={"attachment": [{"altId": alt_id, "inline": True}]})
    result = await refused(
        "POST", email_url(maria_email), 400, "400-2001", headers=maria, json=body
    )
    assert "contentId" in result["developerMessage"]


async def test_attachment_alt_id_is_required(
    refused: Refusals, maria: dict[str, str], maria_email: int
) -> None:
    body = seed_sample(attachments={"attachment": [{"inline": "false"}]})
    await refused("POST", email_url(maria_email), 400, "400-2001", headers=maria, json=body)


async def test_only_the_uploader_can_use_an_upload(
    refused: Refusals,
    client: httpx.AsyncClient,
    maria: dict[str, str],
    sam: dict[str, str],
    maria_email: int,
) -> None:
    alt_id = await upload(client, sam, "sams.txt", b"sam's file")
    body = seed_sample(attachments={"attachment": [{"altId": alt_id}]})
    await refused("POST", email_url(maria_email), 400, "400-2033", headers=maria, json=body)


async def test_an_upload_is_used_once(
    refused: Refusals, client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    alt_id = await upload(client, maria, "once.txt", b"once")
    body = seed_sample(attachments={"attachment": [{"altId": alt_id}]})
    location_id(await client.post(email_url(maria_email), headers=maria, json=body))
    await refused("POST", email_url(maria_email), 400, "400-2033", headers=maria, json=body)


async def test_a_customer_without_email_address_cannot_be_answered_for(
    refused: Refusals, maria: dict[str, str], demo_database: Database
) -> None:
    maria_id = await customer_id(demo_database, MARIA)
    async with demo_database.uow() as uow:
        mute = new_individual_customer(
            None, "Mute", "Lopez", [(ContactPointKind.MOBILE_PHONE, "+1 555 0111", None)]
        )
        await uow.customers.add_customer(mute)
        assert mute.id is not None
        await uow.customers.add(CustomerGrant(maria_id, mute.id))
        service = await uow.directory.department_by_name("Service")
        assert service is not None and service.id is not None
        case = await uow.cases.add(Case(mute.id, service.id, "Call me"))
        activity = Activity(
            ActivityType.EMAIL,
            "general",
            Mode.INBOUND,
            service.id,
            case_id=case.id,
            subject="Call me",
            customer_id=mute.id,
            email=EmailPayload(from_address=""),
        )
        await uow.activities.add(activity)
        await uow.commit()
    body = await refused(
        "POST",
        f"{email_url(activity.id or 0)}?customer={mute.id}",
        400,
        "400-2029",
        headers=maria,
        json=seed_sample(),
    )
    assert f"'{mute.id}'" in body["developerMessage"]


DORA = "dora.diaz@example.org"


@pytest.fixture
async def departmentalized(demo_database: Database, blob_dir: Path) -> int:
    """Customer departmentalization on, and Dora, a Service customer, with her email to
    support@ (the activity she answers)."""
    await set_partition(demo_database, customer_departmentalization=True)
    return await incoming_email(demo_database, blob_dir, DORA)


async def test_receiver_must_be_in_the_customers_department_when_departmentalized(
    refused: Refusals, tokens: Tokens, departmentalized: int
) -> None:
    dora = await tokens.customer(DORA)
    body = with_email(emailAddresses={"receiver": SALES})
    result = await refused(
        "POST", email_url(departmentalized), 400, "400-2031", headers=dora, json=body
    )
    assert "payload.email.emailAddresses.receiver" in result["developerMessage"]


async def test_message_center_must_be_in_the_customers_department_when_departmentalized(
    refused: Refusals, tokens: Tokens, departmentalized: int, demo_database: Database
) -> None:
    async with demo_database.uow() as uow:
        sales = await uow.directory.department_by_name("Sales")
        assert sales is not None and sales.id is not None
        center = await uow.directory.add(MessageCenter("Sales desk", sales.id))
        await uow.commit()
    dora = await tokens.customer(DORA)
    body = with_email(messageCenter={"id": center.id})
    await refused("POST", email_url(departmentalized), 400, "400-2031", headers=dora, json=body)


async def test_from_is_looked_up_in_the_customers_department_when_departmentalized(
    client: httpx.AsyncClient,
    tokens: Tokens,
    departmentalized: int,
    demo_database: Database,
    blob_dir: Path,
) -> None:
    other = "front.desk@example.org"
    await incoming_email(demo_database, blob_dir, other, receiver=SALES)  # a Sales customer
    dora = await tokens.customer(DORA)
    body = with_email(emailAddresses={"from": other})
    response = await client.post(email_url(departmentalized), headers=dora, json=body)
    location_id(response)  # not "another contact's address": that one is in another department
    dora_id = await customer_id(demo_database, DORA)
    async with demo_database.uow() as uow:
        stored = await uow.customers.get(dora_id)
    assert stored is not None
    assert other in stored.email_addresses()
