"""The OAuth 2.0 token endpoint (RFC 6749 §3.2) for the eGain v3 APIs.

One handler, three paths: the standard `/oauth2/token` and the two shapes eGain clients are
configured with (api-notes §1.3): the developer-portal `/system/auth/{tenant}/oauth2/token`
(a tenant ending `-U` issues user subjects, `-C` customer subjects) and the on-behalf-of
`/core/authmgr/v4/oauth2/v2.0/onbehalfof/token?user_type=user|customer`. emaildesk serves one
site, so the tenant is not checked.

This module only translates: the form (and HTTP Basic client authentication, RFC 6749 §2.3.1)
into a `TokenRequest`, the `IssuedToken` into RFC 6749 §5.1 JSON, and domain errors into
RFC 6749 §5.2 error bodies. The grants themselves are `services.tokens`.
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import timedelta
from typing import Annotated
from urllib.parse import unquote_plus

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from emaildesk.api.runtime import runtime_of
from emaildesk.domain import errors
from emaildesk.domain.errors import DomainError, ErrorSpec
from emaildesk.services.passwords import PasswordHasher
from emaildesk.services.tokens import USER_TYPE_CUSTOMER, USER_TYPE_USER, TokenRequest, issue_token

router = APIRouter(tags=["oauth2"])
log = logging.getLogger(__name__)

# RFC 6749 §5.2 error codes.
INVALID_REQUEST = "invalid_request"
INVALID_CLIENT = "invalid_client"
INVALID_GRANT = "invalid_grant"
UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
INVALID_SCOPE = "invalid_scope"

# Which domain error is which RFC error; every other domain error is a malformed request.
_RFC_ERRORS: dict[ErrorSpec, str] = {
    errors.INVALID_CLIENT: INVALID_CLIENT,
    errors.WRONG_CREDENTIALS: INVALID_GRANT,  # RFC 6749 §5.2: bad resource-owner credentials
    errors.INVALID_GRANT: INVALID_GRANT,
    errors.UNSUPPORTED_GRANT_TYPE: UNSUPPORTED_GRANT_TYPE,
    errors.INVALID_SCOPE: INVALID_SCOPE,
}
# RFC 6749 §5.1: responses carrying tokens (and, by extension, token errors) are not cached.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# RFC 6749 §5.2: invalid_client is 401 with a challenge for the scheme the client may use;
# RFC 7617 §2 makes `realm` required in a Basic challenge.
_BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="emaildesk", charset="UTF-8"'}
_FORM_TYPE = "application/x-www-form-urlencoded"  # RFC 6749 §3.2
_ACCEPTED_TYPES = (_FORM_TYPE, "multipart/form-data")
_TENANT_USER_TYPES = {"-u": USER_TYPE_USER, "-c": USER_TYPE_CUSTOMER}  # api-notes §1.3

FormField = Annotated[str | None, Form()]


class TokenResponse(BaseModel):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: str
    expires_in: int
    scope: str


class TokenErrorResponse(BaseModel):
    """RFC 6749 §5.2."""

    error: str
    error_description: str


def get_password_hasher(request: Request) -> PasswordHasher:
    """The runtime's hasher (tests build the runtime with a cheap one)."""
    return runtime_of(request).hasher


def token_form(
    grant_type: FormField = None,
    client_id: FormField = None,
    client_secret: FormField = None,
    scope: FormField = None,
    username: FormField = None,
    password: FormField = None,
    subject_username: FormField = None,
    subject_userid: FormField = None,
    subject_email: FormField = None,
    user_type: FormField = None,
) -> TokenRequest:
    """The token request's form fields (declared one by one so OpenAPI documents them)."""
    return TokenRequest(
        grant_type=grant_type,
        client_id=client_id,
        client_secret=client_secret,
        scope=scope,
        username=username,
        password=password,
        subject_username=subject_username,
        subject_userid=subject_userid,
        subject_email=subject_email,
        user_type=user_type,
    )


TokenForm = Annotated[TokenRequest, Depends(token_form)]
Hasher = Annotated[PasswordHasher, Depends(get_password_hasher)]
_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": TokenResponse},
    400: {"model": TokenErrorResponse},
    401: {"model": TokenErrorResponse},
}


@router.post(
    "/oauth2/token",
    summary="Issue an access token (RFC 6749)",
    response_model=None,
    responses=_RESPONSES,
)
async def token(request: Request, form: TokenForm, hasher: Hasher) -> JSONResponse:
    return await _issue(request, form, hasher, default_user_type=None)


@router.post(
    "/system/auth/{tenant}/oauth2/token",
    summary="Issue an access token (eGain developer-portal path)",
    response_model=None,
    responses=_RESPONSES,
)
async def tenant_token(
    request: Request, tenant: str, form: TokenForm, hasher: Hasher
) -> JSONResponse:
    return await _issue(request, form, hasher, _TENANT_USER_TYPES.get(tenant[-2:].lower()))


@router.post(
    "/core/authmgr/v4/oauth2/v2.0/onbehalfof/token",
    summary="Issue an on-behalf-of access token (eGain)",
    response_model=None,
    responses=_RESPONSES,
)
async def on_behalf_of_token(
    request: Request,
    form: TokenForm,
    hasher: Hasher,
    user_type: Annotated[str | None, Query()] = None,
) -> JSONResponse:
    return await _issue(request, form, hasher, default_user_type=user_type)


async def _issue(
    request: Request, form: TokenRequest, hasher: PasswordHasher, default_user_type: str | None
) -> JSONResponse:
    runtime = runtime_of(request)
    try:
        grant = await _token_request(request, form, default_user_type)
        async with runtime.database.uow() as uow:
            issued = await issue_token(
                uow, hasher, grant, ttl=timedelta(seconds=runtime.settings.token_ttl_seconds)
            )
            await uow.commit()
    except DomainError as exc:
        return _error_response(exc)
    log.info(
        "oauth2: token issued",
        extra={"fields": {"actor_type": issued.actor_type.value, "actor_id": issued.actor_id}},
    )
    body = TokenResponse(
        access_token=issued.access_token,
        token_type=issued.token_type,
        expires_in=issued.expires_in,
        scope=issued.scope,
    )
    return JSONResponse(body.model_dump(), headers=_NO_STORE)


async def _token_request(
    request: Request, form: TokenRequest, default_user_type: str | None
) -> TokenRequest:
    """Check the request's envelope and merge HTTP Basic client credentials into the form."""
    # A declared non-form body (JSON, say) is refused by name; no body at all is an empty form.
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type not in _ACCEPTED_TYPES:
        raise errors.UNSUPPORTED_CONTENT_TYPE(value=media_type, values=_FORM_TYPE)
    # RFC 6749 §3.2: parameters must not be included more than once.
    fields = await request.form()
    for name in fields:
        if len(fields.getlist(name)) > 1:
            raise errors.INVALID_ATTRIBUTE(attribute=name)
    client_id, client_secret = form.client_id, form.client_secret
    basic = _basic_credentials(request.headers.get("authorization"))
    if basic is not None:
        # RFC 6749 §2.3: one authentication method per request. A form `client_id` that
        # repeats the Basic one only identifies the client (§3.2.1) and is tolerated.
        if client_secret is not None:
            raise errors.INVALID_ATTRIBUTE(attribute="client_secret")
        if client_id is not None and client_id != basic[0]:
            raise errors.INVALID_ATTRIBUTE(attribute="client_id")
        client_id, client_secret = basic
    return TokenRequest(
        grant_type=form.grant_type,
        client_id=client_id,
        client_secret=client_secret,
        scope=form.scope,
        username=form.username,
        password=form.password,
        subject_username=form.subject_username,
        subject_userid=form.subject_userid,
        subject_email=form.subject_email,
        user_type=form.user_type or default_user_type,
    )


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """Client id and secret from `Authorization: Basic`, None for no header or another scheme.
    RFC 6749 §2.3.1: both are form-urlencoded before the RFC 7617 encoding."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise errors.INVALID_CLIENT() from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise errors.INVALID_CLIENT()
    return unquote_plus(client_id), unquote_plus(secret)


def _error_response(exc: DomainError) -> JSONResponse:
    code = _RFC_ERRORS.get(exc.spec, INVALID_REQUEST)
    log.info("oauth2: token refused", extra={"fields": {"error": code, "code": exc.code}})
    body = TokenErrorResponse(error=code, error_description=exc.english())
    if code == INVALID_CLIENT:
        return JSONResponse(body.model_dump(), 401, headers=_NO_STORE | _BASIC_CHALLENGE)
    return JSONResponse(body.model_dump(), 400, headers=_NO_STORE)
