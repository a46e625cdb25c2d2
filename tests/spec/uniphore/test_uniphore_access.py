"""Who may post what: bearer API keys (401), the key's tenant (403), the seed's
"tenant/org/cat not found!" (400), and the envelope on every /contacts/ failure while other
paths keep their own dialect's errors."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from uniphore_support import (
    DEMO_KEY,
    EMAIL,
    METRICS,
    NSMETA,
    PAYLOAD_TYPE,
    auth,
    contact,
    problems,
    titles,
    with_value,
)

from emaildesk.db import tables as t
from emaildesk.db.database import Database
from emaildesk.domain.analytics import AnalyticsCategory, AnalyticsOrganization, AnalyticsTenant
from emaildesk.services.analytics_keys import create_key, revoke_key

SEED_ENTITY_ERROR = {
    "status": 400,
    "errors": [
        {
            "type": "/errors/contact-payload",
            "title": "entity-identifier",
            "detail": "tenant/org/cat not found!",
        }
    ],
}


async def other_tenant(database: Database) -> str:
    """A second tenant "Globex" (organization Sales, category Leads) and a key of it."""
    async with database.uow() as uow:
        tenant = await uow.analytics.add(AnalyticsTenant("Globex"))
        assert tenant.id is not None
        organization = await uow.analytics.add(AnalyticsOrganization(tenant.id, "Sales"))
        assert organization.id is not None
        await uow.analytics.add(AnalyticsCategory(tenant.id, organization.id, "Leads"))
        _, key = await create_key(uow, "Globex", "globex")
        await uow.commit()
    return key


async def messages(database: Database) -> int:
    async with database.engine.connect() as connection:
        query = select(func.count()).select_from(t.analytics_messages)
        return int(await connection.scalar(query) or 0)


async def test_missing_or_malformed_authorization_is_401(client: httpx.AsyncClient) -> None:
    for headers in [
        {},
        {"Authorization": ""},
        {"Authorization": DEMO_KEY},
        {"Authorization": f"Basic {DEMO_KEY}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {DEMO_KEY} extra"},
    ]:
        response = await client.post(EMAIL, json=contact(), headers=headers)
        (problem,) = problems(response, 401)
        assert problem == {
            "type": "/errors/authentication",
            "title": "authorization",
            "detail": "Invalid or missing 'authorization' header value.",
        }, headers
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_unknown_or_revoked_key_is_401(
    client: httpx.AsyncClient, demo_database: Database
) -> None:
    response = await client.post(EMAIL, json=contact(), headers=auth("not-a-key-of-anyone"))
    assert titles(response, 401) == ["authorization"]
    lowercase_scheme = {"Authorization": f"bearer {DEMO_KEY}"}  # schemes are case-insensitive
    assert (await client.post(EMAIL, json=contact(), headers=lowercase_scheme)).status_code == 202
    async with demo_database.uow() as uow:
        key, plain = await create_key(uow, "Acme Corp", "short-lived")
        await uow.commit()
    assert (await client.post(EMAIL, json=contact(), headers=auth(plain))).status_code == 202
    async with demo_database.uow() as uow:
        assert key.id is not None
        await revoke_key(uow, key.id)
        await uow.commit()
    assert titles(await client.post(EMAIL, json=contact(), headers=auth(plain)), 401)
    assert await messages(demo_database) == 2


async def test_401_wins_over_a_bad_body(client: httpx.AsyncClient) -> None:
    bad = with_value(contact(), "data.lang", "xx")
    assert titles(await client.post(EMAIL, json=bad, headers=auth("wrong")), 401)
    garbage = {**auth("wrong"), "Content-Type": "application/json"}
    assert titles(await client.post(EMAIL, content=b"{", headers=garbage), 401)
    assert titles(await client.post(EMAIL, json=bad, headers={}), 401)


async def test_another_tenants_names_are_403(
    client: httpx.AsyncClient, demo_database: Database
) -> None:
    globex_key = await other_tenant(demo_database)
    as_globex = contact(metadata={"tenantName": "Globex"})
    assert (await client.post(EMAIL, json=as_globex, headers=auth(globex_key))).status_code == 202
    (problem,) = problems(await client.post(EMAIL, json=as_globex, headers=auth()), 403)
    assert problem["type"] == "/errors/authorization"
    assert problem["title"] == "metadata.tenantName"
    as_acme = contact()
    response = await client.post(EMAIL, json=as_acme, headers=auth(globex_key))
    assert titles(response, 403) == ["metadata.tenantName"]
    assert await messages(demo_database) == 1


async def test_unknown_tenant_org_or_cat_is_the_seed_400(
    client: httpx.AsyncClient, demo_database: Database
) -> None:
    for metadata in [
        {"tenantName": "Initech"},
        {"orgName": "Marketing"},
        {"catName": "Renewals"},
        {"orgName": "Support"},  # Leads is a category of Sales, not of Support
        {"tenantName": "acme corp"},  # names match exactly
    ]:
        response = await client.post(EMAIL, json=contact(metadata=metadata), headers=auth())
        assert response.status_code == 400, metadata
        assert response.json() == SEED_ENTITY_ERROR, metadata
    assert await messages(demo_database) == 0


async def test_other_tenants_conversations_are_not_found(
    client: httpx.AsyncClient, demo_database: Database
) -> None:
    globex_key = await other_tenant(demo_database)
    body = contact()
    assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202
    conv = f"{EMAIL}/{body['data']['convId']}"
    assert (await client.get(conv, headers=auth())).status_code == 200
    assert titles(await client.get(conv, headers=auth(globex_key)), 404) == ["convId"]
    metrics = (await client.get(METRICS, headers=auth(globex_key))).json()
    assert metrics["tenantName"] == "Globex"


async def test_read_side_needs_a_key(client: httpx.AsyncClient) -> None:
    for path in [f"{EMAIL}/any", METRICS]:
        assert titles(await client.get(path), 401) == ["authorization"]
        assert titles(await client.get(path, headers=auth("wrong")), 401) == ["authorization"]


async def test_unknown_contacts_paths_and_methods_answer_in_the_envelope(
    client: httpx.AsyncClient,
) -> None:
    (problem,) = problems(await client.post("/contacts/voice", json={}, headers=auth()), 404)
    assert problem["type"] == "/errors/not-found"
    response = await client.put(EMAIL, json=contact(), headers=auth())
    (problem,) = problems(response, 405)
    assert problem["type"] == "/errors/method-not-allowed"
    assert "POST" in response.headers["allow"]
    response = await client.get(NSMETA, headers=auth())
    assert problems(response, 405)[0]["type"] == "/errors/method-not-allowed"


async def test_query_parameters_are_validated_in_the_envelope(client: httpx.AsyncClient) -> None:
    for query, title in [
        ({"from": "yesterday"}, "from"),
        ({"to": "-5"}, "to"),
        ({"agentId": "a" * 51}, "agentId"),
        ({"from": "10", "to": "5"}, "from"),
        ({"catName": "Leads"}, "orgName"),
    ]:
        response = await client.get(METRICS, params=query, headers=auth())
        (problem,) = problems(response, 400)
        assert problem["title"] == title, query
        assert problem["type"] == PAYLOAD_TYPE
    unknown = {"orgName": "Nope"}
    assert titles(await client.get(METRICS, params=unknown, headers=auth())) == [
        "entity-identifier"
    ]


async def test_other_paths_keep_their_own_errors(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    egain = await client.get("/core/casemgr/v3/activity/1", headers={"Accept": "application/json"})
    assert "developerMessage" in egain.json()
    assert "errors" not in egain.json()
    elsewhere = await client.get("/no/such/path")
    assert elsewhere.status_code == 404
    assert elsewhere.json() == {"detail": "Not Found"}  # FastAPI's own, untouched
