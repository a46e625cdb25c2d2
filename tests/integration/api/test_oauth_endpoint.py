"""The OAuth 2.0 token endpoint over HTTP (RFC 6749 §3.2, §5.1, §5.2), on both databases:
response shape and headers, every error code, HTTP Basic client authentication, and the eGain
path shapes (api-notes §1.3)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote_plus

import httpx
import pytest
from fastapi import FastAPI

from emaildesk.app import build_runtime, create_app
from emaildesk.db.database import Database
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.customers import ContactPointKind, new_individual_customer
from emaildesk.domain.directory import Department
from emaildesk.domain.users import ClientApplication, Role, User
from emaildesk.services.passwords import Argon2PasswordHasher
from emaildesk.services.tokens import resolve_token
from emaildesk.settings import Settings

PASSWORD = "user-pa55"
CLIENT_ID = "integrator-id"
SECRET = "s3cr:t/+x é"  # needs form-encoding inside HTTP Basic (RFC 6749 §2.3.1)
TTL_SECONDS = 900
APP_SCOPES = ["app.core.casemgr.manage", "app.core.casemgr.read"]
TOKEN_PATH = "/oauth2/token"


@pytest.fixture
async def site(database: Database) -> None:
    hasher = Argon2PasswordHasher.for_tests()
    async with database.uow() as uow:
        department = await uow.directory.add(Department("Service"))
        assert department.id is not None
        await uow.directory.add(Role("agent", ["View:Activity"]))
        await uow.directory.add(
            User("agent1", department.id, password_hash=hasher.hash(PASSWORD), role_names=["agent"])
        )
        await uow.directory.add(
            ClientApplication("integrator", CLIENT_ID, hasher.hash(SECRET), APP_SCOPES)
        )
        await uow.customers.add_customer(
            new_individual_customer(
                None, "Jane", "Henry", [(ContactPointKind.EMAIL, "jhenry@customer.com", None)]
            )
        )
        await uow.commit()


@pytest.fixture
async def app(tmp_path: Path, database_url: str, site: None) -> AsyncIterator[FastAPI]:
    settings = Settings(data_dir=tmp_path, database_url=database_url, token_ttl_seconds=TTL_SECONDS)
    runtime = build_runtime(settings, hasher=Argon2PasswordHasher.for_tests())
    application = create_app(settings, runtime=runtime, migrate=False)
    try:
        yield application
    finally:
        # ASGITransport runs no lifespan, so the app's engine is ours to close.
        await application.state.runtime.database.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emaildesk.test") as http:
        yield http


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


async def actor_of(database: Database, token: str) -> Actor:
    async with database.uow() as uow:
        return await resolve_token(uow, token)


def assert_rfc_error(response: httpx.Response, status: int, error: str) -> dict[str, str]:
    assert response.status_code == status
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, str] = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert body["error_description"]
    return body


async def test_client_credentials_response_shape_and_headers(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == TTL_SECONDS
    assert body["scope"] == "app.core.casemgr.manage app.core.casemgr.read"
    actor = await actor_of(database, body["access_token"])  # committed and resolvable
    assert actor.type is ActorType.CLIENT_APPLICATION
    assert actor.name == "integrator"


async def test_http_basic_client_authentication(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials", "scope": "app.core.casemgr.read"},
        headers=basic(CLIENT_ID, SECRET),
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "app.core.casemgr.read"
    assert (await actor_of(database, response.json()["access_token"])).is_client


async def test_basic_with_a_repeated_form_client_id_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID},
        headers=basic(CLIENT_ID, SECRET),
    )
    assert response.status_code == 200


async def test_password_grant_for_a_user(client: httpx.AsyncClient, database: Database) -> None:
    response = await client.post(
        TOKEN_PATH, data={"grant_type": "password", "username": "agent1", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "core.casemgr.manage core.casemgr.read"
    assert (await actor_of(database, response.json()["access_token"])).is_user


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        ({"client_id": CLIENT_ID, "client_secret": "wrong"}, {}),
        ({"client_id": "unknown", "client_secret": SECRET}, {}),
        ({}, {}),
        ({}, basic(CLIENT_ID, "wrong")),
        ({}, {"Authorization": "Basic !!not-base64!!"}),
        ({}, {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}),
    ],
    ids=[
        "wrong-secret",
        "unknown-client",
        "no-client",
        "basic-wrong",
        "basic-garbled",
        "basic-no-colon",
    ],
)
async def test_invalid_client_is_401_with_a_basic_challenge(
    client: httpx.AsyncClient, data: dict[str, str], headers: dict[str, str]
) -> None:
    response = await client.post(
        TOKEN_PATH, data={"grant_type": "client_credentials", **data}, headers=headers
    )
    body = assert_rfc_error(response, 401, "invalid_client")
    assert body["error_description"] == "Client authentication failed."
    assert response.headers["www-authenticate"].startswith("Basic realm=")


async def test_wrong_user_password_is_invalid_grant(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TOKEN_PATH, data={"grant_type": "password", "username": "agent1", "password": "wrong"}
    )
    body = assert_rfc_error(response, 400, "invalid_grant")
    assert body["error_description"] == "Invalid user name or password."
    assert "www-authenticate" not in response.headers


async def test_unknown_subject_is_invalid_grant(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TOKEN_PATH,
        data={"grant_type": "password", "subject_username": "nobody"},
        headers=basic(CLIENT_ID, SECRET),
    )
    assert_rfc_error(response, 400, "invalid_grant")


async def test_unsupported_grant_type(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TOKEN_PATH, data={"grant_type": "authorization_code"}, headers=basic(CLIENT_ID, SECRET)
    )
    body = assert_rfc_error(response, 400, "unsupported_grant_type")
    assert "authorization_code" in body["error_description"]


async def test_invalid_scope(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials", "scope": "app.core.casemgr.admin"},
        headers=basic(CLIENT_ID, SECRET),
    )
    body = assert_rfc_error(response, 400, "invalid_scope")
    assert "app.core.casemgr.admin" in body["error_description"]


async def test_missing_grant_type_is_invalid_request(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN_PATH, data={}, headers=basic(CLIENT_ID, SECRET))
    body = assert_rfc_error(response, 400, "invalid_request")
    assert "grant_type" in body["error_description"]


async def test_repeated_parameter_is_invalid_request(client: httpx.AsyncClient) -> None:
    # RFC 6749 §3.2: request parameters must not be included more than once.
    response = await client.post(
        TOKEN_PATH,
        content="grant_type=client_credentials&scope=a&scope=b",
        headers={"Content-Type": "application/x-www-form-urlencoded", **basic(CLIENT_ID, SECRET)},
    )
    body = assert_rfc_error(response, 400, "invalid_request")
    assert "scope" in body["error_description"]


async def test_json_body_is_invalid_request(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TOKEN_PATH, json={"grant_type": "client_credentials"}, headers=basic(CLIENT_ID, SECRET)
    )
    assert_rfc_error(response, 400, "invalid_request")


async def test_two_client_authentication_methods_are_invalid_request(
    client: httpx.AsyncClient,
) -> None:
    # RFC 6749 §2.3: a client must not use more than one authentication method per request.
    response = await client.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials", "client_secret": SECRET},
        headers=basic(CLIENT_ID, SECRET),
    )
    assert_rfc_error(response, 400, "invalid_request")


async def test_egain_tenant_path_for_users_issues_client_tokens(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post(
        "/system/auth/acme-U/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET},
    )
    assert response.status_code == 200
    assert (await actor_of(database, response.json()["access_token"])).is_client


async def test_egain_tenant_path_for_customers_acts_for_the_customer(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post(
        "/system/auth/acme-C/oauth2/token",
        data={"grant_type": "password", "subject_email": "JHenry@customer.com"},
        headers=basic(CLIENT_ID, SECRET),
    )
    assert response.status_code == 200
    actor = await actor_of(database, response.json()["access_token"])
    assert actor.type is ActorType.CUSTOMER
    assert actor.scopes == frozenset({"core.casemgr.read", "core.casemgr.manage"})


@pytest.mark.parametrize(
    ("user_type", "subject", "expected"),
    [
        ("user", {"subject_username": "agent1"}, ActorType.USER),
        ("customer", {"subject_email": "jhenry@customer.com"}, ActorType.CUSTOMER),
    ],
)
async def test_egain_on_behalf_of_path_takes_user_type_from_the_query(
    client: httpx.AsyncClient,
    database: Database,
    user_type: str,
    subject: dict[str, str],
    expected: ActorType,
) -> None:
    response = await client.post(
        "/core/authmgr/v4/oauth2/v2.0/onbehalfof/token",
        params={"user_type": user_type},
        data={"grant_type": "password", **subject},
        headers=basic(CLIENT_ID, SECRET),
    )
    assert response.status_code == 200
    assert (await actor_of(database, response.json()["access_token"])).type is expected


async def test_on_behalf_of_customer_path_without_an_email_is_invalid_request(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/core/authmgr/v4/oauth2/v2.0/onbehalfof/token",
        params={"user_type": "customer"},
        data={"grant_type": "password", "subject_username": "agent1"},
        headers=basic(CLIENT_ID, SECRET),
    )
    assert_rfc_error(response, 400, "invalid_request")


async def test_token_endpoints_are_documented_in_openapi(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    for path in (
        TOKEN_PATH,
        "/system/auth/{tenant}/oauth2/token",
        "/core/authmgr/v4/oauth2/v2.0/onbehalfof/token",
    ):
        assert "post" in document["paths"][path]
