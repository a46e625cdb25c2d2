"""Who may call a v3 URL: the bearer token, the actor types the URL serves, and its scopes.

eGain Case Manager v3 (api-notes §1.3) authenticates every call with `Authorization: Bearer
<token>` (RFC 6750 §2.1); a missing, unknown or expired token is 401-101 naming the
`Authorization` header (`services.tokens.resolve_token`). Each URL then serves some actor
types only (seed 000: oAuthCustomer; seed 004: oAuthUser or oAuthClient) — another type is
403-112 — and needs a scope: reads one of `read` / `manage`, writes `manage`, in the delegated
form for users and customers (`core.casemgr.*`) and the application form for client
applications (`app.core.casemgr.*`); without it, 403-197.

Order of the checks, each a cheaper refusal than the next: `Accept` / `Accept-Language`
(406, so that every later error is answered in a format the client reads), the token (401),
the actor type (403-112), the scope (403-197). The actor type comes before the scope so that
a customer calling a user URL is told the URL is not for customers, whatever its scopes.

The dependency is a FastAPI `Security` on `HTTPBearer`, which is what puts the bearer security
scheme into the OpenAPI document; it never raises FastAPI's own 401 (`auto_error=False`): every
refusal is a domain error rendered in the eGain envelope.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from typing import Final

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from emaildesk.api.egain.common import negotiated
from emaildesk.api.i18n import negotiate_locale
from emaildesk.api.runtime import runtime_of
from emaildesk.domain import errors
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.users import Scope
from emaildesk.services.tokens import resolve_token

AUTHORIZATION_HEADER: Final = "Authorization"
SECURITY_SCHEME_NAME: Final = "bearerAuth"

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name=SECURITY_SCHEME_NAME,
    description=(
        "OAuth 2.0 bearer access token (RFC 6750) issued by `POST /oauth2/token` or the eGain "
        "token paths: client credentials for a client application, password grant for a user, "
        "on-behalf-of for a user or a customer."
    ),
)


ALL_ACTORS: Final = (ActorType.USER, ActorType.CUSTOMER, ActorType.CLIENT_APPLICATION)


class Access(Enum):
    """What a URL does with the case manager: eGain scopes come in `read` and `manage`."""

    READ = "read"
    MANAGE = "manage"


# api-notes §1.3: delegated scopes for users and customers, application scopes for clients;
# `manage` includes `read`.
_DELEGATED: Final[Mapping[Access, tuple[str, ...]]] = {
    Access.READ: (Scope.CASEMGR_READ.value, Scope.CASEMGR_MANAGE.value),
    Access.MANAGE: (Scope.CASEMGR_MANAGE.value,),
}
_APPLICATION: Final[Mapping[Access, tuple[str, ...]]] = {
    Access.READ: (Scope.APP_CASEMGR_READ.value, Scope.APP_CASEMGR_MANAGE.value),
    Access.MANAGE: (Scope.APP_CASEMGR_MANAGE.value,),
}


def required_scopes(actor_type: ActorType, access: Access) -> tuple[str, ...]:
    """The scopes of which a token of this actor type needs one for this kind of access."""
    table = _APPLICATION if actor_type is ActorType.CLIENT_APPLICATION else _DELEGATED
    return table[access]


def _check_language(request: Request) -> None:
    header = ", ".join(request.headers.getlist("accept-language")) or None
    negotiate_locale(header, runtime_of(request).settings.default_locale)


def check_access(actor: Actor, allowed: tuple[ActorType, ...], access: Access) -> None:
    """403-112 for an actor type the URL does not serve, then 403-197 for a missing scope."""
    actor.require_type(*allowed)
    actor.require_scope(*required_scopes(actor.type, access))


async def resolve_bearer(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Actor:
    """The actor behind the request's bearer token, or 401-101."""
    if credentials is None or not credentials.credentials.strip():
        raise errors.INVALID_SESSION(header=AUTHORIZATION_HEADER)
    runtime = runtime_of(request)
    # A short read-only unit of work of its own: the route's work runs in another, opened only
    # once the body is read, so no transaction waits on a slow client.
    async with runtime.database.uow() as uow:
        return await resolve_token(uow, credentials.credentials.strip())


def authorized(
    *allowed: ActorType, access: Access, negotiate: bool = True
) -> Callable[..., Awaitable[Actor]]:
    """A route dependency: the authenticated actor, checked for this URL's types and scopes.

    `negotiate=False` is for routes that answer bytes of their own type (an attachment): their
    `Accept` is not limited to JSON and XML, so it is not refused (errors are rendered as the
    error handler negotiates them: JSON when `Accept` names neither); `Accept-Language` is
    still one of the supported locales (406-100), as on every eGain URL."""

    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Security(bearer_scheme),
    ) -> Actor:
        # 406 / 406-100 first, so that later errors speak the client's format and language.
        if negotiate:
            negotiated(request)
        else:
            _check_language(request)
        actor = await resolve_bearer(request, credentials)
        check_access(actor, allowed, access)
        return actor

    return dependency
