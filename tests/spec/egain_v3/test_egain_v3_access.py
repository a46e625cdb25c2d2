"""Conformance rules every v3 endpoint shares: the bearer token (401-101), the actor types of
each URL (403-112), negotiation (406 / 406-100, checked first), and errors in the client's
language and format (api-notes §1.3, §1.4; seeds 000/004 header parameters)."""

from __future__ import annotations

from datetime import timedelta

from defusedxml.ElementTree import fromstring
from egain_v3_support import (
    INVALID_TOKEN_MESSAGE,
    TASK_URL,
    UPLOAD_URL,
    Refusals,
    Tokens,
    bearer,
)

from emaildesk.db.database import Database
from emaildesk.domain.auth import AccessToken, digest, new_secret
from emaildesk.domain.clock import utcnow

COMMON_NS = "{http://bindings.egain.com/ws/model/v12/gen/common}"
# Every v3 endpoint; ids need not exist: access is checked before anything is looked up.
ENDPOINTS = [
    ("POST", "/core/casemgr/v3/activity/1/email/general"),
    ("POST", TASK_URL),
    ("GET", "/core/casemgr/v3/activity/1"),
    ("POST", UPLOAD_URL),
    ("GET", "/core/casemgr/v3/activity/1/attachment/1"),
    ("GET", f"{UPLOAD_URL}/some-alt-id"),
]
# The endpoints answering JSON or XML (the downloads answer the file's own type).
NEGOTIATED = ENDPOINTS[:4]


async def test_missing_or_non_bearer_authorization_is_401_101(refused: Refusals) -> None:
    for headers in ({}, {"Authorization": "Basic ZGVtbzpkZW1v"}, {"Authorization": "Bearer"}):
        for method, url in ENDPOINTS:
            body = await refused(method, url, 401, "401-101", headers=headers)
            assert body["developerMessage"] == INVALID_TOKEN_MESSAGE


async def test_unknown_token_is_401_101(refused: Refusals) -> None:
    for method, url in ENDPOINTS:
        await refused(method, url, 401, "401-101", headers=bearer("not-a-token"))


async def test_expired_token_is_401_101(refused: Refusals, demo_database: Database) -> None:
    token = new_secret()
    async with demo_database.uow() as uow:
        client = await uow.directory.client_by_client_id("demo-integrator")
        assert client is not None and client.id is not None
        now = utcnow()
        await uow.auth.add(
            AccessToken(
                token_hash=digest(token),
                actor_type="client_app",
                actor_id=client.id,
                scopes=["app.core.casemgr.read", "app.core.casemgr.manage"],
                issued_at=now - timedelta(hours=2),
                expires_at=now - timedelta(seconds=1),
            )
        )
        await uow.commit()
    for method, url in ENDPOINTS:
        await refused(method, url, 401, "401-101", headers=bearer(token))


async def test_token_of_a_deactivated_user_is_401_101(
    refused: Refusals, agent1: dict[str, str], demo_database: Database
) -> None:
    async with demo_database.uow() as uow:
        user = await uow.directory.user_by_login("agent1")
        assert user is not None
        user.active = False
        await uow.commit()
    await refused("GET", "/core/casemgr/v3/activity/1", 401, "401-101", headers=agent1)


async def test_actor_types_per_endpoint_are_403_112(refused: Refusals, tokens: Tokens) -> None:
    customer = await tokens.customer("maria.lopez@example.net")
    user = await tokens.user("agent1")
    client_app = await tokens.integrator()
    email_url = ENDPOINTS[0][1]
    cases = [
        (customer, "POST", TASK_URL, "customers"),
        (user, "POST", email_url, "users"),
        (client_app, "POST", email_url, "client applications"),
    ]
    for headers, method, url, actor in cases:
        body = await refused(method, url, 403, "403-112", headers=headers, json={})
        assert body["developerMessage"] == (
            f"Unauthorized URL access: {actor} are not allowed to access this URL."
        )


async def test_unsupported_accept_is_406(refused: Refusals, integrator: dict[str, str]) -> None:
    for method, url in NEGOTIATED:
        await refused(method, url, 406, "406-101", headers={**integrator, "Accept": "text/html"})


async def test_invalid_accept_language_is_406_100(
    refused: Refusals, integrator: dict[str, str]
) -> None:
    for method, url in ENDPOINTS:
        body = await refused(
            method, url, 406, "406-100", headers={**integrator, "Accept-Language": "xx-YY"}
        )
        assert body["developerMessage"] == "Invalid 'Accept-Language' header value provided."


async def test_negotiation_is_checked_before_the_token(refused: Refusals) -> None:
    for method, url in NEGOTIATED:
        await refused(method, url, 406, "406-101", headers={"Accept": "image/png"})


async def test_error_messages_are_localized(refused: Refusals, tokens: Tokens) -> None:
    german = await refused(
        "GET", "/core/casemgr/v3/activity/1", 401, "401-101", headers={"Accept-Language": "de-DE"}
    )
    assert german["developerMessage"].startswith("Ungültiger oder abgelaufener Header")
    assert "'Authorization'" in german["developerMessage"]
    customer = await tokens.customer("maria.lopez@example.net")
    french = await refused(
        "POST",
        TASK_URL,
        403,
        "403-112",
        headers={**customer, "Accept-Language": "fr-FR"},
        json={},
    )
    assert french["developerMessage"].startswith("Accès non autorisé à l'URL")


async def test_errors_are_answered_in_xml_when_accept_asks_for_it(
    refused: Refusals, integrator: dict[str, str]
) -> None:
    response = await refused.client.get(
        "/core/casemgr/v3/activity/999999",
        headers={**integrator, "Accept": "application/xml"},
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/xml")
    root = fromstring(response.content)
    assert root.tag == f"{COMMON_NS}error"
    assert root.findtext(f"{COMMON_NS}code") == "404-101"


async def test_user_message_only_when_asked_for(
    refused: Refusals, integrator: dict[str, str]
) -> None:
    plain = await refused(
        "GET", "/core/casemgr/v3/activity/999999", 404, "404-101", headers=integrator
    )
    assert "userMessage" not in plain
    asked = await refused(
        "GET",
        "/core/casemgr/v3/activity/999999",
        404,
        "404-101",
        headers={**integrator, "X-egain-error-message": "yes"},
    )
    assert asked["userMessage"] == asked["developerMessage"]
