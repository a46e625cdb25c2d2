"""eGain v12 login, logout, and the session every other v12 call needs (api-notes §1.2).

- `POST …/authentication/user/login`: JSON `{"userName", "password"}` or XML `<login>`;
  query `forceLogin=yes` only; 204, no body, the new session id in `X-egain-session`. Wrong
  credentials are 401; the sixth concurrent session is refused unless `forceLogin=yes`, which
  ends the oldest (`services/sessions.py` holds those rules).
- `DELETE …/authentication/user/logout`: 204; an invalid or missing session is 401-101.
- Every other v12 route depends on `V12Actor` (or `LicensedActor`): the session named by the
  `X-egain-session` header (case-insensitive, as every HTTP header name), else 401-101
  "Invalid or expired 'X-egain-session' header provided. New login is required."

Resolving a session is its own short unit of work, committed whatever the outcome: it records
activity on the session (at most every 30 s) and deletes one found idle-expired, neither of
which may depend on whether the request it authenticates succeeds.
"""

from __future__ import annotations

import logging
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Header, Request, Response

from emaildesk.api.egain.common import body_of, negotiated
from emaildesk.api.egain.query import check_query, yes_flag
from emaildesk.api.egain.v12 import openapi
from emaildesk.api.egain.v12.paths import TAG
from emaildesk.api.egain.v12.requests import login_credentials
from emaildesk.api.runtime import runtime_of
from emaildesk.domain.actors import Actor
from emaildesk.domain.errors import DomainError
from emaildesk.services.sessions import SESSION_HEADER, login_user, logout, resolve_session

log = logging.getLogger(__name__)

FORCE_LOGIN: Final = "forceLogin"  # api-notes §1.2: the only query parameter, value `yes`

router = APIRouter(tags=[TAG])

SessionHeader = Annotated[
    str | None,
    Header(
        alias=SESSION_HEADER,
        description="The session id from the login response (header name case-insensitive).",
    ),
]


async def v12_actor(request: Request, session: SessionHeader = None) -> Actor:
    """The actor behind `X-egain-session`, or 401-101."""
    runtime = runtime_of(request)
    async with runtime.database.uow() as uow:
        try:
            actor = await resolve_session(uow, session or "", header=SESSION_HEADER)
        except DomainError:
            await uow.commit()  # an idle-expired session found on the way stays deleted
            raise
        await uow.commit()
    return actor


async def licensed_actor(actor: Annotated[Actor, Depends(v12_actor)]) -> Actor:
    """A session whose user holds a user licence (README, demo `nolicense`: the activity APIs
    answer 403 without one; eGain seed 001 "The following licenses must be installed")."""
    actor.require_license()
    return actor


V12Actor = Annotated[Actor, Depends(v12_actor)]
LicensedActor = Annotated[Actor, Depends(licensed_actor)]


@router.post(
    "/authentication/user/login",
    status_code=204,
    response_class=Response,
    summary="Log in a user (eGain v12)",
    description=(
        'api-notes §1.2. Body: JSON `{"userName", "password"}` or XML `<login>` in the '
        "`…/v12/gen/platform` namespace (`username` accepted too). Answers 204 with the new "
        "session id in `X-egain-session`. A user holds at most 5 sessions; the 6th login is "
        "refused (403-2001) unless `forceLogin=yes`, which ends the oldest session. Wrong "
        "credentials: 401-2001. Also served at `/ws/v12/authentication/user/login`."
    ),
    responses={
        **openapi.no_content(
            "Logged in; no body.", "The new session id: send it on every other v12 call."
        ),
        **openapi.error_responses(400, 401, 403, 406, 413, 415),
    },
    openapi_extra=openapi.LOGIN_REQUEST_BODY,
)
async def login(request: Request) -> Response:
    negotiated(request)
    check_query(request, {FORCE_LOGIN})
    force = yes_flag(request, FORCE_LOGIN)
    runtime = runtime_of(request)
    credentials = login_credentials(await body_of(request, runtime=runtime))
    async with runtime.database.uow() as uow:
        token, _, user = await login_user(
            uow, runtime.hasher, credentials.login_id, credentials.password, force=force
        )
        await uow.commit()
    log.info("v12 login", extra={"fields": {"user_id": user.id, "forced": force}})
    return Response(status_code=204, headers={SESSION_HEADER: token})


@router.delete(
    "/authentication/user/logout",
    status_code=204,
    response_class=Response,
    summary="Log out (eGain v12)",
    description=(
        "api-notes §1.2. Ends the session named by `X-egain-session`; 204, no body. A missing, "
        "unknown or expired session is 401-101. No query parameters (400-101). Also served at "
        "`/ws/v12/authentication/user/logout`."
    ),
    responses={
        **openapi.no_content("Logged out; no body."),
        **openapi.error_responses(400, 401, 406),
    },
)
async def logout_user(request: Request, session: SessionHeader = None) -> Response:
    negotiated(request)
    check_query(request, ())
    runtime = runtime_of(request)
    async with runtime.database.uow() as uow:
        try:
            await logout(uow, session or "", header=SESSION_HEADER)
        except DomainError:
            await uow.commit()  # as in v12_actor: an expired session found stays deleted
            raise
        await uow.commit()
    return Response(status_code=204)
