"""OAuth 2.0 bearer tokens for the eGain v3 APIs: issuing them (the token endpoint's grants)
and resolving them back to an actor on every request.

Grants (api-notes §1.3):
- `client_credentials` (RFC 6749 §4.4): a client application, acting for itself with its own
  (application) scopes; it may ask for a subset, and gets all of them when it names none.
- `password` with `username` + `password` (RFC 6749 §4.3): a user, with the delegated scopes.
- `password` with client credentials and a subject (eGain "on behalf of"): the client
  application vouches for a user (`subject_userid` / `subject_username`) or for a customer
  (`subject_email`, or `user_type=customer`); the token's actor is the subject, with the
  delegated scopes. The subject needs no password: trust rests on the client's secret.

Tokens are opaque random strings; only their SHA-256 is stored (a copy of the database yields
no live token), with the actor and scopes they carry. Resolution re-reads the actor, so a
deactivated user or application loses access at once rather than when the token expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from emaildesk.domain import errors
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.auth import AccessToken, digest, new_secret
from emaildesk.domain.clock import utcnow
from emaildesk.domain.customers import ContactPointKind
from emaildesk.domain.users import Scope, User
from emaildesk.services.auth import authenticate_client, check_user_password
from emaildesk.services.passwords import PasswordHasher
from emaildesk.services.ports import UnitOfWork

GRANT_CLIENT_CREDENTIALS = "client_credentials"  # RFC 6749 §4.4
GRANT_PASSWORD = "password"  # noqa: S105 - a grant name. RFC 6749 §4.3; eGain on-behalf-of
SUPPORTED_GRANTS = (GRANT_CLIENT_CREDENTIALS, GRANT_PASSWORD)
USER_TYPE_USER = "user"  # eGain on-behalf-of `user_type` (api-notes §1.3)
USER_TYPE_CUSTOMER = "customer"
USER_TYPES = (USER_TYPE_USER, USER_TYPE_CUSTOMER)
TOKEN_TYPE = "Bearer"  # noqa: S105 - a token type name (RFC 6750), not a secret

# What a user or customer token may carry: eGain's delegated Case Manager scopes.
DELEGATED_SCOPES = frozenset({Scope.CASEMGR_READ.value, Scope.CASEMGR_MANAGE.value})
# eGain clients ask for `${SCOPE_PREFIX}.default` meaning "everything I was granted"
# (api-notes §1.3, oAuthClient) and spell scopes as URLs (`https://api.egain.cloud/auth/
# core.casemgr.read`); we store the last path segment, the name `Scope` uses.
DEFAULT_SCOPE_SUFFIX = ".default"
_MAX_ID = 2**63 - 1  # ids are 64-bit: a larger number cannot name a row


@dataclass(frozen=True)
class TokenRequest:
    """The form fields of a token request (RFC 6749 §4.3.2, §4.4.2, eGain on-behalf-of);
    None or blank means "not given"."""

    grant_type: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scope: str | None = None
    username: str | None = None
    password: str | None = None
    subject_username: str | None = None
    subject_userid: str | None = None
    subject_email: str | None = None
    user_type: str | None = None


@dataclass(frozen=True)
class IssuedToken:
    """What the token endpoint answers (RFC 6749 §5.1), plus who the token is for."""

    access_token: str
    expires_in: int
    scope: str
    actor_type: ActorType
    actor_id: int
    token_type: str = TOKEN_TYPE


async def issue_token(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    grant: TokenRequest,
    *,
    ttl: timedelta,
    now: datetime | None = None,
) -> IssuedToken:
    """Run the grant and store the new token. Raises `INVALID_CLIENT`, `WRONG_CREDENTIALS`,
    `INVALID_GRANT`, `INVALID_SCOPE`, `UNSUPPORTED_GRANT_TYPE` or a request error
    (`REQUIRED_ATTRIBUTE`, `INVALID_ENUM_VALUE`, `INVALID_ATTRIBUTE`)."""
    now = now or utcnow()
    grant_type = _given(grant.grant_type)
    if grant_type is None:
        raise errors.REQUIRED_ATTRIBUTE(attribute="grant_type")
    if grant_type == GRANT_CLIENT_CREDENTIALS:
        actor_type, actor_id, scopes = await _client_credentials(uow, hasher, grant)
    elif grant_type == GRANT_PASSWORD:
        user_type = _given(grant.user_type)
        if user_type is not None and user_type not in USER_TYPES:
            raise errors.INVALID_ENUM_VALUE(attribute="user_type", values=", ".join(USER_TYPES))
        if _is_on_behalf_of(grant):
            actor_type, actor_id, scopes = await _on_behalf_of(uow, hasher, grant)
        else:
            actor_type, actor_id, scopes = await _resource_owner(uow, hasher, grant)
    else:
        raise errors.UNSUPPORTED_GRANT_TYPE(
            grant_type=grant_type, values=", ".join(SUPPORTED_GRANTS)
        )
    # Expired rows are useless; sweeping them here (an indexed range delete) keeps the table
    # as small as the number of live tokens without a separate job.
    await uow.auth.purge_expired_tokens(now)
    token = new_secret()
    ordered = sorted(scopes)
    await uow.auth.add(
        AccessToken(
            token_hash=digest(token),
            actor_type=actor_type.value,
            actor_id=actor_id,
            scopes=ordered,
            issued_at=now,
            expires_at=now + ttl,
        )
    )
    return IssuedToken(token, int(ttl.total_seconds()), " ".join(ordered), actor_type, actor_id)


async def resolve_token(uow: UnitOfWork, token: str, now: datetime | None = None) -> Actor:
    """The actor behind a bearer token with the token's scopes, or `INVALID_SESSION` naming the
    `Authorization` header (eGain v3 401-101) when it is unknown, expired, or its actor is gone
    or inactive."""
    invalid = errors.INVALID_SESSION(header="Authorization")
    found = await uow.auth.token_by_hash(digest(token)) if token else None
    if found is None or not found.valid(now):
        raise invalid
    scopes = frozenset(found.scopes)
    if found.actor_type == ActorType.USER.value:
        user = await uow.directory.user(found.actor_id)
        if user is None or not user.active:
            raise invalid
        return Actor.for_user(user, await uow.directory.roles_named(user.role_names), scopes)
    if found.actor_type == ActorType.CUSTOMER.value:
        if await uow.customers.get(found.actor_id) is None:
            raise invalid
        return Actor.for_customer(found.actor_id, scopes)
    if found.actor_type == ActorType.CLIENT_APPLICATION.value:
        client = await uow.directory.client(found.actor_id)
        if client is None or not client.active:
            raise invalid
        return Actor.for_client(found.actor_id, client.name, scopes)
    raise invalid


async def _client_credentials(
    uow: UnitOfWork, hasher: PasswordHasher, grant: TokenRequest
) -> tuple[ActorType, int, frozenset[str]]:
    client = await authenticate_client(uow, hasher, grant.client_id, grant.client_secret)
    assert client.id is not None
    return ActorType.CLIENT_APPLICATION, client.id, _grantable(grant.scope, set(client.scopes))


async def _resource_owner(
    uow: UnitOfWork, hasher: PasswordHasher, grant: TokenRequest
) -> tuple[ActorType, int, frozenset[str]]:
    username, password = _given(grant.username), grant.password  # a password is taken as is
    if username is None:
        raise errors.REQUIRED_ATTRIBUTE(attribute="username")
    if not password:
        raise errors.REQUIRED_ATTRIBUTE(attribute="password")
    # RFC 6749 §4.3.2: a client that holds credentials must use them; a public client (no
    # credentials) may send the user's alone, as a v12 session login does.
    if grant.client_id is not None or grant.client_secret is not None:
        await authenticate_client(uow, hasher, grant.client_id, grant.client_secret)
    user = await check_user_password(uow, hasher, username, password)
    assert user.id is not None
    return ActorType.USER, user.id, _grantable(grant.scope, DELEGATED_SCOPES)


def _is_on_behalf_of(grant: TokenRequest) -> bool:
    subjects = (grant.subject_username, grant.subject_userid, grant.subject_email)
    return any(_given(s) for s in subjects) or _given(grant.user_type) == USER_TYPE_CUSTOMER


async def _on_behalf_of(
    uow: UnitOfWork, hasher: PasswordHasher, grant: TokenRequest
) -> tuple[ActorType, int, frozenset[str]]:
    client = await authenticate_client(uow, hasher, grant.client_id, grant.client_secret)
    assert client.id is not None
    scopes = _grantable(grant.scope, DELEGATED_SCOPES)
    user_type = _given(grant.user_type)
    userid, username = _given(grant.subject_userid), _given(grant.subject_username)
    email = _given(grant.subject_email)
    wants_customer = user_type == USER_TYPE_CUSTOMER or (
        user_type is None and email is not None and userid is None and username is None
    )
    if wants_customer:
        if email is None:
            raise errors.REQUIRED_ATTRIBUTE(attribute="subject_email")
        point = await uow.customers.find_point(ContactPointKind.EMAIL, email)
        if point is None or point.customer_id is None:
            raise errors.INVALID_GRANT(subject=email)
        return ActorType.CUSTOMER, point.customer_id, scopes
    if userid is None and username is None:
        raise errors.ONE_OF_REQUIRED(attributes="subject_userid, subject_username")
    user = await _subject_user(uow, userid, username)
    if user is None or not user.active:
        raise errors.INVALID_GRANT(subject=userid or username)
    assert user.id is not None
    return ActorType.USER, user.id, scopes


async def _subject_user(uow: UnitOfWork, userid: str | None, username: str | None) -> User | None:
    """By `subject_userid` (our numeric id, else the user's external id) or `subject_username`
    (login id); when both are given they must name the same user."""
    if userid is None:
        assert username is not None
        return await uow.directory.user_by_login(username)
    numeric = int(userid) if userid.isascii() and userid.isdigit() else None
    if numeric is not None and numeric <= _MAX_ID:
        user = await uow.directory.user(numeric)
    else:
        user = await uow.directory.user_by_external_id(userid)
    if user is not None and username is not None and user.login_id != username:
        return None
    return user


def _grantable(requested: str | None, allowed: set[str] | frozenset[str]) -> frozenset[str]:
    """The scopes to grant: all of `allowed` when none (or `.default`) is asked for, else the
    ones asked for, each of which must be allowed (RFC 6749 §3.3: space-separated, exact)."""
    text = _given(requested)
    if text is None:
        return frozenset(allowed)
    wanted: set[str] = set()
    for item in text.split():
        name = item.rsplit("/", 1)[-1]
        if name.endswith(DEFAULT_SCOPE_SUFFIX):
            wanted |= allowed
        elif name not in allowed:
            raise errors.INVALID_SCOPE(scope=item, values=" ".join(sorted(allowed)))
        else:
            wanted.add(name)
    return frozenset(wanted)


def _given(value: str | None) -> str | None:
    """A form field's value, or None when absent or blank."""
    if value is None or not value.strip():
        return None
    return value.strip()
