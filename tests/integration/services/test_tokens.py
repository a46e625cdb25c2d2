"""OAuth 2.0 grants and bearer-token resolution (eGain v3) against a real database, on both
backends: client credentials, password, and on-behalf-of for users and customers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from emaildesk.db import tables as t
from emaildesk.db.database import Database
from emaildesk.domain import errors
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.auth import digest
from emaildesk.domain.clock import utcnow
from emaildesk.domain.customers import ContactPointKind, new_individual_customer
from emaildesk.domain.directory import Department
from emaildesk.domain.errors import DomainError, ErrorSpec
from emaildesk.domain.users import Action, ClientApplication, Permission, Resource, Role, User
from emaildesk.services.passwords import Argon2PasswordHasher
from emaildesk.services.tokens import IssuedToken, TokenRequest, issue_token, resolve_token

PASSWORD = "user-pa55"
SECRET = "client-s3cret"
TTL = timedelta(hours=1)
APP_SCOPES = ["app.core.casemgr.manage", "app.core.casemgr.read"]
DELEGATED = "core.casemgr.manage core.casemgr.read"


@dataclass
class Site:
    user_id: int
    client_app_id: int
    customer_id: int
    department_id: int


@pytest.fixture
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher.for_tests()


@pytest.fixture
async def site(database: Database, hasher: Argon2PasswordHasher) -> Site:
    async with database.uow() as uow:
        department = await uow.directory.add(Department("Service"))
        assert department.id is not None
        await uow.directory.add(Role("agent", ["View:Activity", "Edit:Case"]))
        user = await uow.directory.add(
            User(
                "agent1",
                department.id,
                external_id="ext-agent-1",
                password_hash=hasher.hash(PASSWORD),
                licenses=["agent"],
                role_names=["agent"],
            )
        )
        await uow.directory.add(
            User("retired", department.id, password_hash=hasher.hash(PASSWORD), active=False)
        )
        client = await uow.directory.add(
            ClientApplication("integrator", "integrator-id", hasher.hash(SECRET), APP_SCOPES)
        )
        await uow.directory.add(
            ClientApplication(
                "old integration", "old-id", hasher.hash(SECRET), APP_SCOPES, active=False
            )
        )
        customer = await uow.customers.add_customer(
            new_individual_customer(
                None, "Jane", "Henry", [(ContactPointKind.EMAIL, "JHenry@Customer.com", None)]
            )
        )
        await uow.commit()
        assert user.id and client.id and customer.id
        return Site(user.id, client.id, customer.id, department.id)


def client_grant(**fields: str) -> TokenRequest:
    base = {"client_id": "integrator-id", "client_secret": SECRET}
    return TokenRequest(**(base | fields))


async def issue(
    database: Database,
    hasher: Argon2PasswordHasher,
    grant: TokenRequest,
    now: datetime | None = None,
) -> IssuedToken:
    async with database.uow() as uow:
        issued = await issue_token(uow, hasher, grant, ttl=TTL, now=now)
        await uow.commit()
        return issued


async def refused(
    database: Database, hasher: Argon2PasswordHasher, grant: TokenRequest
) -> ErrorSpec:
    with pytest.raises(DomainError) as failure:
        await issue(database, hasher, grant)
    assert await token_count(database) == 0
    return failure.value.spec


async def resolve(database: Database, token: str, now: datetime | None = None) -> Actor:
    async with database.uow() as uow:
        return await resolve_token(uow, token, now)


async def token_count(database: Database) -> int:
    async with database.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(t.access_tokens)) or 0)


# --- client credentials ---------------------------------------------------------------------


async def test_client_credentials_grants_all_app_scopes_by_default(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    issued = await issue(database, hasher, client_grant(grant_type="client_credentials"))
    assert issued.token_type == "Bearer"
    assert issued.expires_in == 3600
    assert issued.scope == "app.core.casemgr.manage app.core.casemgr.read"
    assert issued.actor_type is ActorType.CLIENT_APPLICATION
    actor = await resolve(database, issued.access_token)
    assert actor.type is ActorType.CLIENT_APPLICATION
    assert actor.id == site.client_app_id
    assert actor.name == "integrator"
    assert actor.scopes == frozenset(APP_SCOPES)
    assert actor.permissions == frozenset()


async def test_client_credentials_grants_a_requested_subset(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    grant = client_grant(grant_type="client_credentials", scope="app.core.casemgr.read")
    issued = await issue(database, hasher, grant)
    assert issued.scope == "app.core.casemgr.read"
    actor = await resolve(database, issued.access_token)
    assert actor.scopes == frozenset({"app.core.casemgr.read"})


async def test_client_credentials_accepts_egain_url_scopes_and_default(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    url_scope = "https://api.egain.cloud/auth/app.core.casemgr.read"
    issued = await issue(
        database, hasher, client_grant(grant_type="client_credentials", scope=url_scope)
    )
    assert issued.scope == "app.core.casemgr.read"
    default = "https://api.egain.cloud/auth/.default"
    issued = await issue(
        database, hasher, client_grant(grant_type="client_credentials", scope=default)
    )
    assert issued.scope == "app.core.casemgr.manage app.core.casemgr.read"


@pytest.mark.parametrize("scope", ["app.core.casemgr.admin", "core.casemgr.read"])
async def test_scope_outside_the_apps_scopes_is_invalid_scope(
    database: Database, hasher: Argon2PasswordHasher, site: Site, scope: str
) -> None:
    grant = client_grant(grant_type="client_credentials", scope=f"app.core.casemgr.read {scope}")
    assert await refused(database, hasher, grant) is errors.INVALID_SCOPE


@pytest.mark.parametrize(
    "credentials",
    [
        {"client_secret": "wrong"},
        {"client_id": "unknown-id"},
        {"client_id": "old-id"},  # inactive application, right secret
        {"client_secret": ""},
    ],
    ids=["wrong-secret", "unknown-client", "inactive-client", "empty-secret"],
)
async def test_client_that_fails_authentication_is_invalid_client(
    database: Database, hasher: Argon2PasswordHasher, site: Site, credentials: dict[str, str]
) -> None:
    grant = client_grant(grant_type="client_credentials", **credentials)
    assert await refused(database, hasher, grant) is errors.INVALID_CLIENT


async def test_client_credentials_without_a_client_is_invalid_client(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    grant = TokenRequest(grant_type="client_credentials")
    assert await refused(database, hasher, grant) is errors.INVALID_CLIENT


# --- password (resource owner) --------------------------------------------------------------


async def test_password_grant_issues_a_user_token_with_delegated_scopes(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    grant = TokenRequest(grant_type="password", username="agent1", password=PASSWORD)
    issued = await issue(database, hasher, grant)
    assert issued.actor_type is ActorType.USER
    assert issued.scope == DELEGATED
    actor = await resolve(database, issued.access_token)
    assert actor.type is ActorType.USER
    assert actor.id == site.user_id
    assert actor.scopes == frozenset(DELEGATED.split())
    assert actor.permissions == frozenset(
        {Permission(Action.VIEW, Resource.ACTIVITY), Permission(Action.EDIT, Resource.CASE)}
    )
    assert actor.department_ids == frozenset({site.department_id})


@pytest.mark.parametrize(
    ("username", "password"),
    [("agent1", "wrong"), ("nobody", PASSWORD), ("retired", PASSWORD)],
    ids=["wrong-password", "unknown-user", "inactive-user"],
)
async def test_password_grant_with_bad_user_credentials_fails_like_login(
    database: Database, hasher: Argon2PasswordHasher, site: Site, username: str, password: str
) -> None:
    grant = TokenRequest(grant_type="password", username=username, password=password)
    assert await refused(database, hasher, grant) is errors.WRONG_CREDENTIALS


async def test_password_grant_by_a_client_must_authenticate_the_client(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    grant = client_grant(
        grant_type="password", username="agent1", password=PASSWORD, client_secret="wrong"
    )
    assert await refused(database, hasher, grant) is errors.INVALID_CLIENT
    issued = await issue(
        database, hasher, client_grant(grant_type="password", username="agent1", password=PASSWORD)
    )
    assert issued.actor_type is ActorType.USER


@pytest.mark.parametrize("missing", ["username", "password"])
async def test_password_grant_requires_username_and_password(
    database: Database, hasher: Argon2PasswordHasher, site: Site, missing: str
) -> None:
    fields = {"grant_type": "password", "username": "agent1", "password": PASSWORD}
    del fields[missing]
    with pytest.raises(DomainError) as failure:
        await issue(database, hasher, TokenRequest(**fields))
    assert failure.value.spec is errors.REQUIRED_ATTRIBUTE
    assert failure.value.params == {"attribute": missing}


async def test_password_grant_requested_scope_must_be_delegated(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    grant = TokenRequest(
        grant_type="password", username="agent1", password=PASSWORD, scope="app.core.casemgr.read"
    )
    assert await refused(database, hasher, grant) is errors.INVALID_SCOPE
    grant = TokenRequest(
        grant_type="password", username="agent1", password=PASSWORD, scope="core.casemgr.read"
    )
    assert (await issue(database, hasher, grant)).scope == "core.casemgr.read"


# --- on behalf of ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        {"subject_username": "agent1"},
        {"subject_userid": "<id>"},
        {"subject_userid": "ext-agent-1"},
        {"subject_userid": "<id>", "subject_username": "agent1", "user_type": "user"},
    ],
    ids=["username", "numeric-id", "external-id", "both-agreeing"],
)
async def test_on_behalf_of_user_issues_a_token_for_the_user(
    database: Database,
    hasher: Argon2PasswordHasher,
    site: Site,
    subject: dict[str, str],
) -> None:
    fields = {k: v.replace("<id>", str(site.user_id)) for k, v in subject.items()}
    issued = await issue(database, hasher, client_grant(grant_type="password", **fields))
    actor = await resolve(database, issued.access_token)
    assert actor.type is ActorType.USER
    assert actor.id == site.user_id
    assert actor.scopes == frozenset(DELEGATED.split())


@pytest.mark.parametrize(
    "subject",
    [
        {"subject_username": "nobody"},
        {"subject_username": "retired"},
        {"subject_userid": "999999"},
        {"subject_userid": str(2**62)},
        {"subject_userid": "99999999999999999999999"},
        {"subject_userid": "<id>", "subject_username": "retired"},
    ],
    ids=["unknown", "inactive", "unknown-id", "big-id", "huge-id", "disagreeing"],
)
async def test_on_behalf_of_unknown_or_inactive_user_is_invalid_grant(
    database: Database,
    hasher: Argon2PasswordHasher,
    site: Site,
    subject: dict[str, str],
) -> None:
    fields = {k: v.replace("<id>", str(site.user_id)) for k, v in subject.items()}
    assert (
        await refused(database, hasher, client_grant(grant_type="password", **fields))
        is errors.INVALID_GRANT
    )


@pytest.mark.parametrize(
    "client",
    [{}, {"client_secret": "wrong"}, {"client_id": "old-id"}],
    ids=["no-client", "wrong-secret", "inactive-client"],
)
async def test_on_behalf_of_needs_an_authenticated_active_client(
    database: Database, hasher: Argon2PasswordHasher, site: Site, client: dict[str, str]
) -> None:
    fields = {"grant_type": "password", "subject_username": "agent1"}
    grant = client_grant(**fields, **client) if client else TokenRequest(**fields)
    assert await refused(database, hasher, grant) is errors.INVALID_CLIENT


@pytest.mark.parametrize(
    "subject",
    [
        {"subject_email": "jhenry@customer.com"},
        {"subject_email": "JHENRY@customer.com", "user_type": "customer"},
    ],
    ids=["by-email", "user-type-customer"],
)
async def test_on_behalf_of_customer_issues_a_token_for_the_customer(
    database: Database, hasher: Argon2PasswordHasher, site: Site, subject: dict[str, str]
) -> None:
    issued = await issue(database, hasher, client_grant(grant_type="password", **subject))
    assert issued.actor_type is ActorType.CUSTOMER
    actor = await resolve(database, issued.access_token)
    assert actor.type is ActorType.CUSTOMER
    assert actor.id == site.customer_id
    assert actor.scopes == frozenset(DELEGATED.split())


async def test_on_behalf_of_customer_with_unknown_email_is_invalid_grant(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    grant = client_grant(grant_type="password", subject_email="stranger@example.com")
    assert await refused(database, hasher, grant) is errors.INVALID_GRANT


async def test_user_type_customer_requires_subject_email(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    grant = client_grant(grant_type="password", subject_username="agent1", user_type="customer")
    assert await refused(database, hasher, grant) is errors.REQUIRED_ATTRIBUTE


async def test_user_type_must_be_user_or_customer(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    grant = client_grant(grant_type="password", subject_username="agent1", user_type="robot")
    assert await refused(database, hasher, grant) is errors.INVALID_ENUM_VALUE


# --- grant types, storage, expiry -----------------------------------------------------------


async def test_unsupported_grant_type_is_refused(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    grant = client_grant(grant_type="authorization_code")
    assert await refused(database, hasher, grant) is errors.UNSUPPORTED_GRANT_TYPE
    assert await refused(database, hasher, client_grant()) is errors.REQUIRED_ATTRIBUTE


async def test_token_is_stored_only_as_a_hash(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    now = utcnow()
    issued = await issue(database, hasher, client_grant(grant_type="client_credentials"), now)
    async with database.engine.connect() as connection:
        rows = [dict(row._mapping) for row in await connection.execute(select(t.access_tokens))]
    assert len(rows) == 1
    assert rows[0]["token_hash"] == digest(issued.access_token)
    assert rows[0]["expires_at"] == now + TTL
    assert all(issued.access_token not in str(value) for value in rows[0].values())


async def test_expired_token_is_rejected(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    now = utcnow()
    issued = await issue(database, hasher, client_grant(grant_type="client_credentials"), now)
    assert (
        await resolve(database, issued.access_token, now + TTL - timedelta(seconds=1))
    ).is_client
    with pytest.raises(DomainError) as failure:
        await resolve(database, issued.access_token, now + TTL + timedelta(seconds=1))
    assert failure.value.spec is errors.INVALID_SESSION
    assert failure.value.english() == (
        "Invalid or expired 'Authorization' header provided. New login is required."
    )


@pytest.mark.parametrize("token", ["unknown-token", ""])
async def test_unknown_token_is_rejected(database: Database, site: Site, token: str) -> None:
    with pytest.raises(DomainError) as failure:
        await resolve(database, token)
    assert failure.value.spec is errors.INVALID_SESSION


async def test_token_of_a_deactivated_actor_is_rejected(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    app_token = await issue(database, hasher, client_grant(grant_type="client_credentials"))
    user_grant = TokenRequest(grant_type="password", username="agent1", password=PASSWORD)
    user_token = await issue(database, hasher, user_grant)
    async with database.uow() as uow:
        client = await uow.directory.client(site.client_app_id)
        user = await uow.directory.user(site.user_id)
        assert client is not None and user is not None
        client.active = False
        user.active = False
        await uow.commit()
    for issued in (app_token, user_token):
        with pytest.raises(DomainError) as failure:
            await resolve(database, issued.access_token)
        assert failure.value.spec is errors.INVALID_SESSION


async def test_issuing_a_token_purges_expired_ones(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    start = utcnow()
    await issue(database, hasher, client_grant(grant_type="client_credentials"), start)
    await issue(database, hasher, client_grant(grant_type="client_credentials"), start)
    assert await token_count(database) == 2
    later = start + TTL + timedelta(minutes=1)
    fresh = await issue(database, hasher, client_grant(grant_type="client_credentials"), later)
    assert await token_count(database) == 1
    assert (await resolve(database, fresh.access_token, later)).is_client
