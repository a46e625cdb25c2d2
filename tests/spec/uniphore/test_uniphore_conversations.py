"""The conversation store read back over HTTP (emaildesk's extension): aggregates and metrics of
conversations worked out by hand, and non-speech metadata insertion."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from uniphore_support import EMAIL, METRICS, NSMETA, T0, auth, contact, problems, titles

RunWorker = Callable[[], Awaitable[int]]
DAY = 86_400_000

# conv "m-1" in Sales/Leads: p@0 (Agent1), a@300s (Agent1: answers in 300 s), p@1000s
# (Agent2), a@1120s (Agent2: answers in 120 s). conv "m-2" in Support/Email: p@10s, a@70s
# (Agent2: 60 s). conv "m-late" ten days later, outside the range asked for.
M1 = [
    contact(conv_id="m-1", msg_id="m1-1", ts=T0, inbound=True, agentId="Agent1"),
    contact(conv_id="m-1", msg_id="m1-2", ts=T0 + 300_000, inbound=False, agentId="Agent1"),
    contact(conv_id="m-1", msg_id="m1-3", ts=T0 + 1_000_000, inbound=True, agentId="Agent2"),
    contact(conv_id="m-1", msg_id="m1-4", ts=T0 + 1_120_000, inbound=False, agentId="Agent2"),
]
SUPPORT = {"orgName": "Support", "catName": "Email"}
M2 = [
    contact(conv_id="m-2", ts=T0 + 10_000, inbound=True, agentId="Agent2", metadata=SUPPORT),
    contact(conv_id="m-2", ts=T0 + 70_000, inbound=False, agentId="Agent2", metadata=SUPPORT),
]
LATE = [
    contact(conv_id="m-late", ts=T0 + 10 * DAY, inbound=True),
    contact(conv_id="m-late", ts=T0 + 10 * DAY + 5_000, inbound=False),
]


async def ingest(client: httpx.AsyncClient, run_worker: RunWorker, bodies: list[Any]) -> None:
    for body in bodies:
        assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202
        await run_worker()


async def metrics(client: httpx.AsyncClient, **query: Any) -> dict[str, Any]:
    params = {"from": T0, "to": T0 + DAY, **query}
    response = await client.get(METRICS, params=params, headers=auth())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_conversation_aggregates_of_a_known_conversation(
    client: httpx.AsyncClient, run_worker: RunWorker
) -> None:
    # Out of order on purpose: the aggregates are recomputed as older messages arrive.
    await ingest(client, run_worker, [M1[3], M1[0], M1[2], M1[1]])
    view = (await client.get(f"{EMAIL}/m-1", headers=auth())).json()
    assert view["convId"] == "m-1"
    assert (view["tenantName"], view["orgName"], view["catName"]) == ("Acme Corp", "Sales", "Leads")
    assert view["messageCount"] == {"agent": 2, "participant": 2, "total": 4}
    assert view["firstResponseMs"] == 300_000
    assert view["averageAgentResponseMs"] == 210_000
    assert view["responseCount"] == 2
    assert view["durationMs"] == 1_120_000
    assert (view["firstTs"], view["lastActivityTs"]) == (T0, T0 + 1_120_000)
    assert view["agents"] == ["Agent1", "Agent2"]
    assert view["participants"] == ["ps1@acmecorp.com"]
    assert view["journeyId"] == "02d8f01e-42b0-11ea-b77f-2e728ce88125"
    assert [m["msgId"] for m in view["messages"]] == ["m1-1", "m1-2", "m1-3", "m1-4"]
    assert [m["responseMs"] for m in view["messages"]] == [None, 300_000, None, 120_000]
    assert view["messages"][1]["to"] == ["ps1@acmecorp.com", "ps2@acmecorp.com"]
    assert view["messages"][1]["from"] == "agent1@xyz.com"


async def test_metrics_over_a_range_by_hand(
    client: httpx.AsyncClient, run_worker: RunWorker
) -> None:
    await ingest(client, run_worker, [*M1, *M2, *LATE])
    report = await metrics(client)
    assert report["tenantName"] == "Acme Corp"
    assert (report["from"], report["to"]) == (T0, T0 + DAY)
    totals = report["totals"]
    assert (totals["conversations"], totals["messages"]) == (2, 6)
    assert (totals["agentMessages"], totals["participantMessages"]) == (3, 3)
    # responses 300 s, 120 s, 60 s: mean 160 s; nearest-rank p50 = 120 s, p90 = 300 s
    assert totals["responseTimeMs"] == {
        "count": 3,
        "average": 160_000,
        "p50": 120_000,
        "p90": 300_000,
        "p95": 300_000,
        "p99": 300_000,
    }
    # first responses: m-1 300 s, m-2 60 s
    first = report["firstResponseTimeMs"]
    assert (first["count"], first["average"], first["p50"]) == (2, 180_000, 60_000)
    by_category = {(c["orgName"], c["catName"]): c for c in report["byCategory"]}
    assert set(by_category) == {("Sales", "Leads"), ("Support", "Email")}
    assert by_category["Sales", "Leads"]["messages"] == 4
    assert by_category["Sales", "Leads"]["responseTimeMs"]["average"] == 210_000
    assert by_category["Support", "Email"]["responseTimeMs"]["p50"] == 60_000
    by_agent = {a["agentId"]: a for a in report["byAgent"]}
    assert (by_agent["Agent1"]["messages"], by_agent["Agent1"]["agentMessages"]) == (2, 1)
    assert by_agent["Agent1"]["responseTimeMs"]["average"] == 300_000
    assert (by_agent["Agent2"]["conversations"], by_agent["Agent2"]["messages"]) == (2, 4)
    assert by_agent["Agent2"]["responseTimeMs"]["average"] == 90_000


async def test_metrics_filters_by_organization_category_and_agent(
    client: httpx.AsyncClient, run_worker: RunWorker
) -> None:
    await ingest(client, run_worker, [*M1, *M2])
    sales = await metrics(client, orgName="Sales")
    assert sales["totals"]["messages"] == 4
    assert sales["filters"] == {"orgName": "Sales", "catName": None, "agentId": None}
    leads = await metrics(client, orgName="Sales", catName="Leads")
    assert leads["totals"]["responseTimeMs"]["average"] == 210_000
    email = await metrics(client, orgName="Support", catName="Email")
    assert email["firstResponseTimeMs"]["average"] == 60_000
    agent2 = await metrics(client, agentId="Agent2")
    assert agent2["totals"]["messages"] == 4
    assert agent2["totals"]["responseTimeMs"]["average"] == 90_000
    assert agent2["firstResponseTimeMs"]["average"] == 180_000  # both conversations had Agent2
    later = await metrics(client, **{"from": T0 + 1_000_000})
    assert later["totals"]["messages"] == 2
    assert later["firstResponseTimeMs"]["count"] == 0  # both conversations started earlier


async def test_unprocessed_messages_are_not_in_the_metrics(
    client: httpx.AsyncClient, run_worker: RunWorker
) -> None:
    for body in M1:
        assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202
    assert (await metrics(client))["totals"]["messages"] == 0
    await run_worker()
    assert (await metrics(client))["totals"]["messages"] == 4


# --- POST /contacts/nsmeta/insertion ------------------------------------------------------------


def insertion(contact_id: str, values: Any, **metadata: str) -> dict[str, Any]:
    names = {"tenantName": "Acme Corp", "orgName": "Sales", "catName": "Leads", **metadata}
    return {"metadata": {**names, "metadataMap": values}, "data": {"contactId": contact_id}}


async def test_metadata_insertion_adds_and_updates_never_deletes(
    client: httpx.AsyncClient,
) -> None:
    body = contact(conv_id="meta-1", metadata={"metadataMap": {"region": "EMEA", "tier": "1"}})
    assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202
    # Right after the 202, before any processing: the contact is there to be amended.
    response = await client.post(
        NSMETA, json=insertion("meta-1", {"tier": "2", "csat": "5"}), headers=auth()
    )
    assert response.status_code == 200
    assert response.json() == {"status": 200, "message": "updated"}
    view = (await client.get(f"{EMAIL}/meta-1", headers=auth())).json()
    assert view["metadataMap"] == {"region": "EMEA", "tier": "2", "csat": "5"}


async def test_metadata_insertion_needs_an_ingested_contact(client: httpx.AsyncClient) -> None:
    response = await client.post(NSMETA, json=insertion("never-seen", {"a": "1"}), headers=auth())
    (problem,) = problems(response, 404)
    assert problem["title"] == "data.contactId"
    assert "never-seen" in problem["detail"]


async def test_metadata_insertion_tenant_org_cat_must_be_the_contacts(
    client: httpx.AsyncClient,
) -> None:
    assert (
        await client.post(EMAIL, json=contact(conv_id="meta-2"), headers=auth())
    ).status_code == 202
    wrong = insertion("meta-2", {"a": "1"}, orgName="Support", catName="Email")
    assert titles(await client.post(NSMETA, json=wrong, headers=auth())) == ["entity-identifier"]
    unknown = insertion("meta-2", {"a": "1"}, catName="Nope")
    assert titles(await client.post(NSMETA, json=unknown, headers=auth())) == ["entity-identifier"]


async def test_metadata_insertion_keeps_the_50_key_limit_and_restricted_keys(
    client: httpx.AsyncClient,
) -> None:
    many = {f"k{i}": "v" for i in range(45)}
    body = contact(conv_id="meta-3", metadata={"metadataMap": many})
    assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202
    five = {f"n{i}": "v" for i in range(5)}
    assert (
        await client.post(NSMETA, json=insertion("meta-3", five), headers=auth())
    ).status_code == 200
    over = insertion("meta-3", {"k1": "updated", "one-too-many": "v"})
    assert titles(await client.post(NSMETA, json=over, headers=auth())) == ["metadata.metadataMap"]
    restricted = insertion("meta-3", {"msgId": "x"})
    assert titles(await client.post(NSMETA, json=restricted, headers=auth())) == [
        "metadata.metadataMap"
    ]
    view = (await client.get(f"{EMAIL}/meta-3", headers=auth())).json()
    assert len(view["metadataMap"]) == 50 and view["metadataMap"]["k1"] == "v"


async def test_metadata_insertion_body_rules(client: httpx.AsyncClient) -> None:
    cases: list[tuple[Any, str, int]] = [
        ({"metadata": {"tenantName": "Acme Corp"}, "data": {}}, "metadata.orgName", 400),
        (insertion("x", {}), "metadata.metadataMap", 400),
        (insertion("", {"a": "1"}), "data.contactId", 400),
        (insertion("x", {"a": 1}), "metadata.metadataMap.a", 400),
    ]
    for body, title, status in cases:
        assert title in titles(await client.post(NSMETA, json=body, headers=auth()), status)
    assert titles(await client.post(NSMETA, json=insertion("x", {"a": "1"})), 401)
