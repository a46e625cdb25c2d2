"""eGain v12 `POST /system/ws/v12/authentication/user/login` (api-notes §1.2), over real HTTP
against the demo site, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from v12_helpers import (
    ACTIVITY,
    ALIAS,
    COMMON_NS,
    INVALID_SESSION_MESSAGE,
    JSON,
    LOGIN,
    PASSWORDS,
    PLATFORM_NS,
    SESSION,
    XML,
    assert_error,
    login,
)

from emaildesk.api.codecs.xml import parse_xml
from emaildesk.db import tables as t
from emaildesk.db.database import Database


async def session_count(database: Database) -> int:
    async with database.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(t.auth_sessions)) or 0)


async def can_read(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """A call that needs a session: reading an id that does not exist (404 when logged in)."""
    return await client.get(f"{ACTIVITY}/999999", headers={SESSION: token, "Accept": JSON})


async def test_login_with_json_answers_204_with_the_session_header_and_no_body(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(LOGIN, json={"userName": "agent1", "password": "Agent1-demo"})
    assert response.status_code == 204
    assert response.content == b""
    token = response.headers[SESSION]
    assert len(token) >= 32
    assert (await can_read(client, token)).status_code == 404


async def test_login_with_namespaced_xml_answers_204(client: httpx.AsyncClient) -> None:
    document = (
        f'<login xmlns="{PLATFORM_NS}"><userName>agent1</userName>'
        "<password>Agent1-demo</password></login>"
    )
    response = await client.post(LOGIN, content=document, headers={"Content-Type": XML})
    assert response.status_code == 204
    assert (await can_read(client, response.headers[SESSION])).status_code == 404


async def test_login_accepts_the_username_spelling(client: httpx.AsyncClient) -> None:
    response = await client.post(LOGIN, json={"username": "agent2", "password": "Agent2-demo"})
    assert response.status_code == 204
    assert response.headers[SESSION]


async def test_each_login_opens_a_new_session(
    client: httpx.AsyncClient, demo_database: Database
) -> None:
    first, second = await login(client), await login(client)
    assert first != second
    assert await session_count(demo_database) == 2


async def test_wrong_password_is_401_wrong_credentials(
    client: httpx.AsyncClient, demo_database: Database
) -> None:
    response = await client.post(LOGIN, json={"userName": "agent1", "password": "wrong"})
    assert_error(response, 401, "401-2001", "Invalid user name or password.")
    assert SESSION not in response.headers
    assert await session_count(demo_database) == 0


async def test_unknown_user_is_401_like_a_wrong_password(client: httpx.AsyncClient) -> None:
    response = await client.post(LOGIN, json={"userName": "nobody", "password": "Agent1-demo"})
    assert_error(response, 401, "401-2001", "Invalid user name or password.")


async def test_wrong_credentials_in_xml_when_xml_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        LOGIN, json={"userName": "agent1", "password": "wrong"}, headers={"Accept": XML}
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(XML)
    assert f'xmlns="{COMMON_NS}"' in response.text
    root, body = parse_xml(response.content)
    assert root == "error"
    assert body["code"] == "401-2001"


async def test_missing_user_name_or_password_is_400_required_attribute(
    client: httpx.AsyncClient,
) -> None:
    for body, attribute in [
        ({"password": "Agent1-demo"}, "userName"),
        ({"userName": "agent1"}, "password"),
        ({"userName": "", "password": "x"}, "userName"),
    ]:
        response = await client.post(LOGIN, json=body)
        assert_error(response, 400, "400-2001", f"'{attribute}'")


async def test_sixth_concurrent_session_is_refused_with_session_limit_reached(
    client: httpx.AsyncClient, demo_database: Database
) -> None:
    for _ in range(5):
        await login(client)
    response = await client.post(LOGIN, json={"userName": "agent1", "password": "Agent1-demo"})
    assert_error(response, 403, "403-2001", "forceLogin=yes")
    assert await session_count(demo_database) == 5


async def test_force_login_ends_the_oldest_session(client: httpx.AsyncClient) -> None:
    tokens = [await login(client) for _ in range(5)]
    newest = await login(client, forceLogin="yes")
    oldest = await can_read(client, tokens[0])
    assert_error(oldest, 401, "401-101", INVALID_SESSION_MESSAGE)
    for token in [*tokens[1:], newest]:
        assert (await can_read(client, token)).status_code == 404


async def test_force_login_below_the_limit_ends_nothing(client: httpx.AsyncClient) -> None:
    first = await login(client)
    await login(client, forceLogin="yes")
    assert (await can_read(client, first)).status_code == 404


async def test_force_login_accepts_only_yes(client: httpx.AsyncClient) -> None:
    for value in ["true", "YES", "1", ""]:
        response = await client.post(
            LOGIN,
            json={"userName": "agent1", "password": PASSWORDS["agent1"]},
            params={"forceLogin": value},
        )
        assert_error(response, 400, "400-102", "forceLogin", "'yes'")


async def test_unsupported_query_parameter_is_400_101_naming_it(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        LOGIN, json={"userName": "agent1", "password": "Agent1-demo"}, params={"lang": "de"}
    )
    assert_error(response, 400, "400-101", "'lang'")


async def test_malformed_json_is_400_never_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        LOGIN, content=b'{"userName": "agent1",', headers={"Content-Type": JSON}
    )
    assert_error(response, 400, "400-2000")


async def test_xml_with_a_dtd_is_refused(client: httpx.AsyncClient) -> None:
    document = (
        '<?xml version="1.0"?><!DOCTYPE login [<!ENTITY pw SYSTEM "file:///etc/passwd">]>'
        f'<login xmlns="{PLATFORM_NS}"><userName>agent1</userName><password>&pw;</password>'
        "</login>"
    )
    response = await client.post(LOGIN, content=document, headers={"Content-Type": XML})
    assert_error(response, 400, "400-2000")


async def test_xml_of_another_element_is_refused(client: httpx.AsyncClient) -> None:
    document = "<logon><userName>agent1</userName><password>Agent1-demo</password></logon>"
    response = await client.post(LOGIN, content=document, headers={"Content-Type": XML})
    assert_error(response, 400, "400-152", "logon")


async def test_unsupported_content_type_is_415_100(client: httpx.AsyncClient) -> None:
    response = await client.post(
        LOGIN, content=b"userName=agent1", headers={"Content-Type": "text/csv"}
    )
    assert_error(response, 415, "415-100", "text/csv")


async def test_unsupported_accept_is_406(client: httpx.AsyncClient) -> None:
    response = await client.post(
        LOGIN,
        json={"userName": "agent1", "password": "Agent1-demo"},
        headers={"Accept": "text/html"},
    )
    assert_error(response, 406, "406-101")


async def test_unsupported_accept_language_is_406_100(client: httpx.AsyncClient) -> None:
    response = await client.post(
        LOGIN,
        json={"userName": "agent1", "password": "Agent1-demo"},
        headers={"Accept-Language": "xx-YY"},
    )
    assert_error(response, 406, "406-100")


async def test_login_answers_with_its_new_session_not_the_one_sent(
    client: httpx.AsyncClient,
) -> None:
    old = await login(client)
    response = await client.post(
        LOGIN, json={"userName": "agent1", "password": "Agent1-demo"}, headers={SESSION: old}
    )
    assert response.status_code == 204
    assert response.headers.get_list(SESSION) == [response.headers[SESSION]]
    assert response.headers[SESSION] != old


async def test_login_is_served_at_the_ws_v12_alias(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{ALIAS}/authentication/user/login",
        json={"userName": "agent1", "password": "Agent1-demo"},
    )
    assert response.status_code == 204
    assert (await can_read(client, response.headers[SESSION])).status_code == 404
