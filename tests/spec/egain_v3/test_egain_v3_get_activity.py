"""Conformance: `GET /core/casemgr/v3/activity/{ids}` (api-notes §1.6), over a real socket on
both databases: visibility per actor, query parameters per actor, JSON and XML."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from defusedxml.ElementTree import fromstring
from egain_v3_support import (
    LEO,
    MARIA,
    SALES,
    SAM,
    TASK_URL,
    Refusals,
    Tokens,
    activity_url,
    customer_id,
    incoming_email,
    location_id,
    outbound_email,
)

from emaildesk.db.database import Database
from emaildesk.domain.activities import Substatus
from emaildesk.services.incoming_email import NewAttachment

ACTIVITY_NS = "{http://bindings.egain.com/ws/model/v12/gen/interaction/activity}"
PNG = b"\x89PNG\r\n\x1a\n fake image"


@pytest.fixture
async def maria_email(demo_database: Database, blob_dir: Path) -> int:
    return await incoming_email(demo_database, blob_dir, MARIA)


async def activities(
    client: httpx.AsyncClient, headers: dict[str, str], ids: str, **params: str
) -> list[dict[str, Any]]:
    response = await client.get(activity_url(ids), params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    listed: list[dict[str, Any]] = response.json()["activity"]
    return listed


async def test_default_representation_is_egains_sample_shape(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int, demo_database: Database
) -> None:
    [activity] = await activities(client, maria, str(maria_email))
    maria_id = await customer_id(demo_database, MARIA)
    assert set(activity) == {
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
    }
    assert activity["id"] == str(maria_email)
    assert activity["link"] == [
        {"rel": "self", "href": f"/core/casemgr/v3/activity/{maria_email}?customer={maria_id}"}
    ]
    assert activity["type"]["value"] == "email"
    assert activity["customer"]["id"] == maria_id


async def test_xml_representation_on_accept_application_xml(
    client: httpx.AsyncClient, agent1: dict[str, str], maria_email: int
) -> None:
    response = await client.get(
        activity_url(maria_email), headers={**agent1, "Accept": "application/xml"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = fromstring(response.content)
    assert root.tag == f"{ACTIVITY_NS}activities"
    activity = root.find(f"{ACTIVITY_NS}activity")
    assert activity is not None
    subject = activity.find(f"{ACTIVITY_NS}subject")
    assert subject is not None and subject.text == "Issue with mobile phone"


async def test_user_sees_the_activities_of_their_departments(
    client: httpx.AsyncClient,
    refused: Refusals,
    tokens: Tokens,
    maria_email: int,
    demo_database: Database,
    blob_dir: Path,
) -> None:
    sales_email = await incoming_email(demo_database, blob_dir, SAM, receiver=SALES)
    agent1 = await tokens.user("agent1")  # Service
    assert len(await activities(client, agent1, str(maria_email))) == 1
    await refused("GET", activity_url(sales_email), 404, "404-101", headers=agent1)
    super1 = await tokens.user("super1")  # Service, and Sales as a foreign user
    listed = await activities(client, super1, f"{maria_email},{sales_email}")
    assert [a["id"] for a in listed] == [str(maria_email), str(sales_email)]


async def test_client_application_sees_every_activity(
    client: httpx.AsyncClient, integrator: dict[str, str], demo_database: Database, blob_dir: Path
) -> None:
    sales_email = await incoming_email(demo_database, blob_dir, SAM, receiver=SALES)
    assert len(await activities(client, integrator, str(sales_email))) == 1


async def test_a_customer_sees_only_own_and_granted_activities(
    client: httpx.AsyncClient,
    refused: Refusals,
    maria: dict[str, str],
    sam: dict[str, str],
    maria_email: int,
    demo_database: Database,
    blob_dir: Path,
) -> None:
    leo_email = await incoming_email(demo_database, blob_dir, LEO, subject="Leo's")
    sam_email = await incoming_email(demo_database, blob_dir, SAM, subject="Sam's")
    listed = await activities(client, maria, f"{maria_email},{leo_email}")
    assert [a["id"] for a in listed] == [str(maria_email), str(leo_email)]
    body = await refused(
        "GET", activity_url(f"{maria_email},{sam_email}"), 404, "404-101", headers=maria
    )
    assert f"'{sam_email}'" in body["developerMessage"]
    await refused("GET", activity_url(maria_email), 404, "404-101", headers=sam)


async def test_a_customer_sees_outbound_emails_only_once_sent(
    client: httpx.AsyncClient, refused: Refusals, maria: dict[str, str], demo_database: Database
) -> None:
    maria_id = await customer_id(demo_database, MARIA)
    draft = await outbound_email(demo_database, maria_id, Substatus.ASSIGNED)
    sent = await outbound_email(demo_database, maria_id, Substatus.SENT)
    assert len(await activities(client, maria, str(sent))) == 1
    await refused("GET", activity_url(draft), 404, "404-101", headers=maria)


async def test_a_customer_never_sees_tasks(
    client: httpx.AsyncClient, refused: Refusals, maria: dict[str, str], agent1: dict[str, str]
) -> None:
    body = {
        "department": {"name": "Service"},
        "type": {"value": "task", "subtype": {"value": "general"}},
        "subject": "Internal follow-up",
        "customer": {"contacts": {"contact": [{"email": [{"emailAddress": MARIA}]}]}},
    }
    response = await client.post(
        f"{TASK_URL}?searchContactOnAttribute=email.emailAddress", headers=agent1, json=body
    )
    await refused("GET", activity_url(location_id(response)), 404, "404-101", headers=maria)


async def test_unknown_ids_are_not_found_all_named(
    refused: Refusals, agent1: dict[str, str], maria_email: int
) -> None:
    body = await refused(
        "GET", activity_url(f"{maria_email},999998,999999"), 404, "404-101", headers=agent1
    )
    assert "'999998,999999'" in body["developerMessage"]


async def test_ids_are_at_most_1500_characters(refused: Refusals, agent1: dict[str, str]) -> None:
    ids = ",".join(str(n) for n in range(1, 500))
    assert len(ids) > 1500
    await refused("GET", activity_url(ids), 400, "400-10424", headers=agent1)


async def test_ids_must_be_positive_integers(refused: Refusals, agent1: dict[str, str]) -> None:
    for ids in ("abc", "1,,2", "0", "-3"):
        await refused("GET", activity_url(ids), 400, "400-108", headers=agent1)


async def test_query_parameters_are_allowed_per_actor(
    client: httpx.AsyncClient,
    refused: Refusals,
    tokens: Tokens,
    maria_email: int,
    demo_database: Database,
) -> None:
    user = await tokens.user("agent1")
    client_app = await tokens.integrator()
    customer = await tokens.customer(MARIA)
    maria_id = str(await customer_id(demo_database, MARIA))
    allowed: list[tuple[dict[str, str], dict[str, str]]] = [
        (user, {"$attribute": "all", "$sort": "id", "$order": "desc", "payloadVersion": "1"}),
        (user, {"transcriptDatetimeFormat": "h:mm a", "timeOffset": "60"}),
        (client_app, {"$attribute": "subject", "embedInlineAttachment": "yes"}),
        (customer, {"$attribute": "all", "customer": maria_id, "timeOffset": "0"}),
    ]
    for headers, params in allowed:
        await activities(client, headers, str(maria_email), **params)
    refused_ones: list[tuple[dict[str, str], str]] = [
        (user, "customer"),
        (client_app, "transcriptDatetimeFormat"),
        (client_app, "timeOffset"),
        (customer, "$sort"),
        (customer, "embedInlineAttachment"),
        (customer, "payloadVersion"),
    ]
    for headers, name in refused_ones:
        body = await refused(
            "GET", activity_url(maria_email), 400, "400-101", headers=headers, params={name: "1"}
        )
        assert body["developerMessage"] == f"Unsupported query parameter(s) supplied: '{name}'."


async def test_attribute_selects_the_top_level_attributes(
    client: httpx.AsyncClient, refused: Refusals, agent1: dict[str, str], maria_email: int
) -> None:
    [chosen] = await activities(
        client, agent1, str(maria_email), **{"$attribute": "subject,department"}
    )
    assert set(chosen) == {"id", "link", "subject", "department"}
    [everything] = await activities(client, agent1, str(maria_email), **{"$attribute": "all"})
    assert {"payload", "department", "created", "lastModified", "priority"} <= set(everything)
    await refused(
        "GET",
        activity_url(maria_email),
        400,
        "400-102",
        headers=agent1,
        params={"$attribute": "nope"},
    )


async def test_customers_never_see_internal_attributes(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int
) -> None:
    [activity] = await activities(client, maria, str(maria_email), **{"$attribute": "all"})
    assert not {"notes", "queue", "customAttributes", "createdBy", "userLastWorked"} & set(activity)


async def test_sort_and_order(
    client: httpx.AsyncClient,
    refused: Refusals,
    agent1: dict[str, str],
    maria_email: int,
    demo_database: Database,
    blob_dir: Path,
) -> None:
    later = await incoming_email(demo_database, blob_dir, MARIA, subject="Later")
    ids = f"{later},{maria_email}"
    assert [a["id"] for a in await activities(client, agent1, ids)] == [
        str(later),
        str(maria_email),
    ]
    ascending = await activities(client, agent1, ids, **{"$sort": "id", "$order": "asc"})
    assert [a["id"] for a in ascending] == [str(maria_email), str(later)]
    descending = await activities(client, agent1, ids, **{"$order": "desc"})
    assert [a["id"] for a in descending] == [str(later), str(maria_email)]
    for params in ({"$sort": "colour"}, {"$order": "sideways"}):
        await refused("GET", activity_url(ids), 400, "400-102", headers=agent1, params=params)


async def test_customer_parameter_narrows_to_that_customer(
    client: httpx.AsyncClient,
    refused: Refusals,
    maria: dict[str, str],
    maria_email: int,
    demo_database: Database,
    blob_dir: Path,
) -> None:
    leo_email = await incoming_email(demo_database, blob_dir, LEO, subject="Leo's")
    leo_id = str(await customer_id(demo_database, LEO))
    [activity] = await activities(client, maria, str(leo_email), customer=leo_id)
    assert activity["link"][0]["href"].endswith(f"?customer={leo_id}")
    await refused(
        "GET", activity_url(maria_email), 404, "404-101", headers=maria, params={"customer": leo_id}
    )


async def test_embed_inline_attachment_embeds_inline_images(
    client: httpx.AsyncClient,
    refused: Refusals,
    agent1: dict[str, str],
    demo_database: Database,
    blob_dir: Path,
) -> None:
    image = NewAttachment("logo.png", "image/png", PNG, inline=True, content_id="logo1")
    email_id = await incoming_email(
        demo_database, blob_dir, MARIA, html='<p><img src="cid:logo1"></p>', attachments=[image]
    )
    [plain] = await activities(client, agent1, str(email_id), **{"$attribute": "payload"})
    html = next(c for c in plain["payload"]["email"]["content"] if c["type"] == "html")["value"]
    assert "cid:logo1" in html
    [embedded] = await activities(
        client, agent1, str(email_id), **{"$attribute": "payload", "embedInlineAttachment": "yes"}
    )
    content = embedded["payload"]["email"]["content"]
    html = next(c for c in content if c["type"] == "html")["value"]
    assert f"data:image/png;base64,{base64.b64encode(PNG).decode()}" in html
    await refused(
        "GET",
        activity_url(f"{email_id},{email_id + 1}"),
        400,
        "400-10424",
        headers=agent1,
        params={"embedInlineAttachment": "yes"},
    )
    await refused(
        "GET",
        activity_url(email_id),
        400,
        "400-102",
        headers=agent1,
        params={"embedInlineAttachment": "true"},
    )


async def test_read_scope_is_enough_to_read(
    client: httpx.AsyncClient, tokens: Tokens, maria_email: int
) -> None:
    for headers in (
        await tokens.integrator(scope="app.core.casemgr.read"),
        await tokens.user("agent1", scope="core.casemgr.read"),
        await tokens.customer(MARIA, scope="core.casemgr.read"),
    ):
        assert len(await activities(client, headers, str(maria_email))) == 1
