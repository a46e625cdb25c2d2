"""The Uniphore error envelope: every failure under `/contacts/`, rendered as Uniphore does.

Shape (the seed's only documented error, api-notes §3):
`{"status": 400, "errors": [{"type": "/errors/contact-payload", "title": "entity-identifier",
"detail": "tenant/org/cat not found!"}]}`. Uniphore publishes no other problem types ([U]), so:

- `type` follows the family: `/errors/contact-payload` for anything wrong with what was sent
  (400, 413, 415), `/errors/authentication` (401), `/errors/authorization` (403),
  `/errors/not-found` (404), `/errors/method-not-allowed` (405), `/errors/internal` (500),
  `/errors/unavailable` (503), and so on.
- `title` names the field at fault (`data.msgId`, `metadata.metadataMap`), or the seed's
  `entity-identifier` for an unknown tenant/org/cat, or what the request lacked (`authorization`).
- `detail` is the English message: Uniphore documents no localization, so its clients get none.
- A payload with several problems lists each (at most `MAX_PROBLEMS`), all with one status.

401 responses carry `WWW-Authenticate: Bearer` (RFC 6750 §3). The handlers follow
`api/egain/errors.py`: they answer only on Uniphore paths and hand every other request to the
handler installed before them, so other dialects keep their envelopes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from emaildesk.domain import errors
from emaildesk.domain.analytics import ENTITY_NOT_FOUND
from emaildesk.domain.errors import DomainError, ErrorFamily, ErrorSpec

log = logging.getLogger(__name__)

UNIPHORE_PATH_PREFIX: Final = "/contacts/"
ENTITY_TITLE: Final = "entity-identifier"  # the seed's title for "tenant/org/cat not found!"
FIELD_DETAIL: Final = "field"  # DomainError.details key naming the field at fault
MAX_PROBLEMS: Final = 20
REQUEST_ID_HEADER: Final = "X-Request-Id"
RETRY_AFTER: Final = {"Retry-After": "1"}  # RFC 9110 §10.2.3, seconds
# SQLSTATE class 40 (transaction rollback): serialization failure, deadlock — retry helps.
TRANSIENT_SQLSTATES: Final = frozenset({"40001", "40P01"})
BEARER_CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="emaildesk"'}  # RFC 6750 §3

PAYLOAD_TYPE: Final = "/errors/contact-payload"
FAMILY_TYPE: Final[Mapping[ErrorFamily, str]] = {
    ErrorFamily.INVALID: PAYLOAD_TYPE,
    ErrorFamily.TOO_LARGE: PAYLOAD_TYPE,
    ErrorFamily.UNSUPPORTED_MEDIA: PAYLOAD_TYPE,
    ErrorFamily.UNAUTHENTICATED: "/errors/authentication",
    ErrorFamily.FORBIDDEN: "/errors/authorization",
    ErrorFamily.NOT_FOUND: "/errors/not-found",
    ErrorFamily.CONFLICT: "/errors/conflict",
    ErrorFamily.NOT_ACCEPTABLE: "/errors/not-acceptable",
    ErrorFamily.RATE_LIMITED: "/errors/rate-limit",
    ErrorFamily.UNAVAILABLE: "/errors/unavailable",
    ErrorFamily.INTERNAL: "/errors/internal",
}
FAMILY_STATUS: Final[Mapping[ErrorFamily, int]] = {
    ErrorFamily.INVALID: 400,
    ErrorFamily.UNAUTHENTICATED: 401,
    ErrorFamily.FORBIDDEN: 403,
    ErrorFamily.NOT_FOUND: 404,
    ErrorFamily.CONFLICT: 409,
    ErrorFamily.NOT_ACCEPTABLE: 406,
    ErrorFamily.UNSUPPORTED_MEDIA: 415,
    ErrorFamily.TOO_LARGE: 413,
    ErrorFamily.RATE_LIMITED: 429,
    ErrorFamily.UNAVAILABLE: 503,
    ErrorFamily.INTERNAL: 500,
}
# Not in domain/errors.py (nor the catalogs): English, like every Uniphore detail.
NOT_FOUND_PATH: Final = ErrorSpec("404-2101", ErrorFamily.NOT_FOUND, "No resource at '{path}'.")
METHOD_NOT_ALLOWED: Final = ErrorSpec(
    "405-2100", ErrorFamily.INVALID, "Method '{method}' is not allowed; allowed: '{methods}'."
)
# Titles of errors that name no field.
SPEC_TITLES: Final[Mapping[str, str]] = {
    ENTITY_NOT_FOUND.code: ENTITY_TITLE,
    errors.INVALID_AUTHORIZATION.code: "authorization",
    errors.PAYLOAD_TOO_LARGE.code: "body",
    errors.MALFORMED_BODY.code: "body",
    errors.UNSUPPORTED_CONTENT_TYPE.code: "content-type",
    errors.INTERNAL_ERROR.code: "internal",
    errors.SERVICE_UNAVAILABLE.code: "unavailable",
    NOT_FOUND_PATH.code: "path",
}

_CODE = re.compile(r"([0-9]{3})-[0-9]+")
_Handler = Callable[[Request, Exception], Awaitable[Response]]


class ContactPayloadError(Exception):
    """Several problems with one request body, reported together."""

    def __init__(self, problems: Sequence[DomainError]) -> None:
        if not problems:
            raise ValueError("a payload error needs at least one problem")
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = list(problems)


def status_for(spec: ErrorSpec) -> int:
    match = _CODE.fullmatch(spec.code)
    if match is not None:
        try:
            return HTTPStatus(int(match.group(1))).value
        except ValueError:
            pass
    return FAMILY_STATUS[spec.family]


def title_for(error: DomainError) -> str:
    field = error.details.get(FIELD_DETAIL) or error.params.get("attribute")
    return field or SPEC_TITLES.get(error.code) or error.family.value


def problem(error: DomainError) -> dict[str, str]:
    status = status_for(error.spec)
    kind = "/errors/method-not-allowed" if status == 405 else FAMILY_TYPE[error.family]
    return {"type": kind, "title": title_for(error), "detail": error.english()}


def envelope(problems: Sequence[DomainError]) -> tuple[int, dict[str, Any]]:
    """The status (the first problem's) and the body listing every problem."""
    status = status_for(problems[0].spec)
    return status, {"status": status, "errors": [problem(p) for p in problems[:MAX_PROBLEMS]]}


def error_response(
    problems: Sequence[DomainError], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    status, body = envelope(problems)
    merged = dict(headers or {})
    if status == HTTPStatus.UNAUTHORIZED:
        merged.update(BEARER_CHALLENGE)
    return JSONResponse(body, status_code=status, headers=merged or None)


def is_uniphore_path(request: Request) -> bool:
    path: str = request.scope["path"]
    root_path: str = request.scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    return path.startswith(UNIPHORE_PATH_PREFIX)


def install_uniphore_error_handlers(app: FastAPI) -> None:
    """Render errors on `/contacts/` paths in the Uniphore envelope; leave others alone."""
    app.add_exception_handler(ContactPayloadError, _payload_error)
    handlers: Sequence[tuple[type[Exception], _Handler, _Handler]] = (
        (DomainError, _domain_error, _reraise),
        (DBAPIError, _database_error, _reraise),
        (RequestValidationError, _validation_error, _fastapi_validation_handler),
        (StarletteHTTPException, _http_exception, _fastapi_http_handler),
        (Exception, _unexpected, _plain_internal_error),
    )
    for exception_class, handler, default in handlers:
        previous = app.exception_handlers.get(exception_class, default)
        app.add_exception_handler(exception_class, _on_uniphore_paths(handler, previous))


def _on_uniphore_paths(handler: _Handler, fallback: Any) -> _Handler:
    async def dispatch(request: Request, exc: Exception) -> Response:
        if is_uniphore_path(request):
            return await handler(request, exc)
        response: Response = await fallback(request, exc)
        return response

    return dispatch


async def _payload_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ContactPayloadError)
    return error_response(exc.problems)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response([exc])


async def _validation_error(request: Request, exc: Exception) -> Response:
    """Query and path parameters FastAPI validated (bodies are read by the routes)."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for item in exc.errors():
        location = [str(part) for part in item.get("loc", ()) if not isinstance(part, int)]
        name = ".".join(location[1:]) or "request"
        spec = (
            errors.REQUIRED_ATTRIBUTE if item.get("type") == "missing" else errors.INVALID_ATTRIBUTE
        )
        problems.append(spec({FIELD_DETAIL: name}, attribute=name))
    return error_response(problems or [errors.MALFORMED_BODY(format="request")])


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == HTTPStatus.NOT_FOUND:
        error = NOT_FOUND_PATH(path=request.scope["path"])
    elif status == HTTPStatus.METHOD_NOT_ALLOWED:
        allowed = (exc.headers or {}).get("Allow", "")
        error = METHOD_NOT_ALLOWED({FIELD_DETAIL: "method"}, method=request.method, methods=allowed)
        return error_response([error], {"Allow": allowed} if allowed else None)
    elif status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
        error = errors.PAYLOAD_TOO_LARGE(limit="?")
    elif 400 <= status < 500:
        error = errors.MALFORMED_BODY(format="request")
    else:
        error = errors.INTERNAL_ERROR()
    return error_response([error])


def is_transient_database_error(exc: BaseException) -> bool:
    """The database is busy or away (SQLite's lock wait ran out, a connection dropped, a
    deadlock or serialization failure): the request may well succeed if sent again."""
    if isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return sqlstate in TRANSIENT_SQLSTATES


async def _database_error(request: Request, exc: Exception) -> Response:
    """503 with Retry-After for a transient database failure (Uniphore lists 503), rather than
    a 500: clients, and emaildesk's own export connector, retry it. Anything else is a 500."""
    if not is_transient_database_error(exc):
        return await _unexpected(request, exc)
    log.warning(
        "database unavailable",
        extra={"fields": {"path": request.scope["path"], "exception": type(exc).__name__}},
    )
    return error_response([errors.SERVICE_UNAVAILABLE()], RETRY_AFTER)


async def _unexpected(request: Request, exc: Exception) -> Response:
    if isinstance(exc, DomainError):  # raised outside a route, e.g. by a middleware
        return error_response([exc])
    request_id = getattr(request.state, "request_id", None)
    log.error(
        "unhandled exception",
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={
            "fields": {
                "request_id": request_id,
                "method": request.method,
                "path": request.scope["path"],
                "exception": type(exc).__name__,
            }
        },
    )
    headers = {REQUEST_ID_HEADER: request_id} if request_id else None
    return error_response([errors.INTERNAL_ERROR()], headers)


async def _reraise(request: Request, exc: Exception) -> Response:
    raise exc


async def _fastapi_validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return await request_validation_exception_handler(request, exc)


async def _fastapi_http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return await http_exception_handler(request, exc)


async def _plain_internal_error(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("Internal Server Error", status_code=500)
