"""eGain v12 `DELETE /system/ws/v12/authentication/user/logout` and the session every other
call needs (api-notes §1.2), over real HTTP against the demo site, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update
from v12_helpers import (
    ACTIVITY,
    ALIAS,
    INVALID_SESSION_MESSAGE,
    JSON,
    LOGOUT,
    SESSION,
    XML,
    assert_error,
    login,
)

from emaildesk.api.codecs.xml import parse_xml
from emaildesk.db import tables as t
from emaildesk.db.database import Database
from emaildesk.domain.auth import digest


async def reads(client: httpx.AsyncClient, token: str) -> int:
    response = await client.get(f"{ACTIVITY}/999999", headers={SESSION: token})
    return response.status_code


async def test_logout_answers_204_and_ends_the_session(client: httpx.AsyncClient) -> None:
    token = await login(client)
    response = await client.delete(LOGOUT, headers={SESSION: token})
    assert response.status_code == 204
    assert response.content == b""
    assert await reads(client, token) == 401


async def test_logout_ends_only_its_own_session(client: httpx.AsyncClient) -> None:
    ended, kept = await login(client), await login(client)
    assert (await client.delete(LOGOUT, headers={SESSION: ended})).status_code == 204
    assert await reads(client, kept) == 404


async def test_logout_without_a_session_is_401_101(client: httpx.AsyncClient) -> None:
    response = await client.delete(LOGOUT)
    assert_error(response, 401, "401-101")
    assert response.json()["developerMessage"] == INVALID_SESSION_MESSAGE


async def test_logout_with_an_unknown_session_is_401_101(client: httpx.AsyncClient) -> None:
    response = await client.delete(LOGOUT, headers={SESSION: "not-a-session"})
    assert_error(response, 401, "401-101")
    assert response.json()["developerMessage"] == INVALID_SESSION_MESSAGE


async def test_logout_twice_is_401_101_the_second_time(client: httpx.AsyncClient) -> None:
    token = await login(client)
    assert (await client.delete(LOGOUT, headers={SESSION: token})).status_code == 204
    assert_error(await client.delete(LOGOUT, headers={SESSION: token}), 401, "401-101")


async def test_logout_error_is_xml_when_xml_is_accepted(client: httpx.AsyncClient) -> None:
    """api-notes §1.2: the published 401 body of the Interaction APIs, in XML."""
    response = await client.delete(LOGOUT, headers={"Accept": XML})
    assert response.status_code == 401
    root, body = parse_xml(response.content)
    assert root == "error"
    assert body == {"code": "401-101", "developerMessage": INVALID_SESSION_MESSAGE}


async def test_logout_refuses_query_parameters_with_400_101(client: httpx.AsyncClient) -> None:
    token = await login(client)
    response = await client.delete(LOGOUT, headers={SESSION: token}, params={"all": "yes"})
    assert_error(response, 400, "400-101", "'all'")
    assert await reads(client, token) == 404  # the session was not ended


async def test_logout_with_unsupported_accept_language_is_406_100(
    client: httpx.AsyncClient,
) -> None:
    token = await login(client)
    response = await client.delete(LOGOUT, headers={SESSION: token, "Accept-Language": "tlh"})
    assert_error(response, 406, "406-100")


async def test_session_header_name_is_case_insensitive(client: httpx.AsyncClient) -> None:
    token = await login(client)
    response = await client.get(f"{ACTIVITY}/999999", headers={"x-EGAIN-SESSION": token})
    assert response.status_code == 404
    assert (await client.delete(LOGOUT, headers={"X-EGAIN-SESSION": token})).status_code == 204


async def test_a_call_without_a_session_is_401_101(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{ACTIVITY}/1", headers={"Accept": JSON})
    assert_error(response, 401, "401-101")
    assert response.json()["developerMessage"] == INVALID_SESSION_MESSAGE


async def test_an_idle_expired_session_is_401_101(
    client: httpx.AsyncClient, demo_database: Database
) -> None:
    """The demo site's idle timeout is 30 minutes (site.toml `session_idle_minutes`)."""
    token = await login(client)
    async with demo_database.engine.begin() as connection:
        await connection.execute(
            update(t.auth_sessions)
            .where(t.auth_sessions.c.token_hash == digest(token))
            .values(last_seen_at=datetime.now(UTC) - timedelta(minutes=31))
        )
    assert_error(await client.get(f"{ACTIVITY}/1", headers={SESSION: token}), 401, "401-101")


async def test_logout_echoes_the_session_it_was_sent(client: httpx.AsyncClient) -> None:
    token = await login(client)
    response = await client.delete(LOGOUT, headers={SESSION: token})
    assert response.headers[SESSION] == token
    refused = await client.delete(LOGOUT, headers={SESSION: token})
    assert refused.status_code == 401
    assert refused.headers[SESSION] == token


async def test_logout_is_served_at_the_ws_v12_alias(client: httpx.AsyncClient) -> None:
    token = await login(client)
    response = await client.delete(f"{ALIAS}/authentication/user/logout", headers={SESSION: token})
    assert response.status_code == 204
    assert await reads(client, token) == 401
