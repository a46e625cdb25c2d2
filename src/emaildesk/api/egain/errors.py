"""The eGain error envelope: every failure under an eGain path, rendered as eGain renders it.

Shape (api-notes §1.4): JSON `{"code", "developerMessage", "details"?, "userMessage"?}`, or
XML `<error xmlns="…/v12/gen/common"><code/><developerMessage/></error>`, in the format the
request's `Accept` negotiated (JSON when `Accept` itself was the problem) and the language of its
`Accept-Language` (the default locale when that was the problem). `userMessage` is sent only when
the client asks with `X-egain-error-message: yes`.

Status: eGain codes are `<http status>-<number>`, so the code's first three digits are the
status whenever they form one (412-100 is 412 though its family is CONFLICT); otherwise the
error family decides.

Besides domain errors, the handlers translate what the framework raises on these paths, so no
eGain client ever sees FastAPI's or Starlette's own bodies: request validation failures, an
unknown path (404), a wrong method (405), and any unexpected exception (500-100 with eGain's
generic message, logged with the request id and traceback, never the body). Requests outside
the eGain paths go to whatever handler was installed before, so other dialects keep theirs.
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
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from emaildesk.api.codecs.xml import render_xml
from emaildesk.api.egain import xml_names
from emaildesk.api.i18n import DEFAULT_LOCALE, Translator
from emaildesk.api.negotiation import ResponseFormat, negotiated_for_error
from emaildesk.domain import errors
from emaildesk.domain.errors import DomainError, ErrorFamily, ErrorSpec

log = logging.getLogger(__name__)

# v12 is served at /system/ws/v12 and its alias /ws/v12 (api-notes §1.1); v3 at /core/….
EGAIN_PATH_PREFIXES: Final = ("/system/ws/", "/ws/", "/core/")
ERROR_MESSAGE_HEADER: Final = "x-egain-error-message"
ERROR_MESSAGE_YES: Final = "yes"
SESSION_HEADER: Final = "X-egain-session"
AUTHORIZATION_HEADER: Final = "Authorization"
REQUEST_ID_HEADER: Final = "X-Request-Id"
ERROR_ROOT: Final = "error"

# api-notes §1.4: developerMessage ≤ 2048, userMessage ≤ 1024, ≤ 30 details of ≤ 255 each.
MAX_DEVELOPER_MESSAGE: Final = 2048
MAX_USER_MESSAGE: Final = 1024
MAX_DETAILS: Final = 30
MAX_DETAIL_TEXT: Final = 255

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

# Wrong method on a known path. domain/errors.py has no 405 spec yet (requested from its
# owner); until then the message is English in every locale: it is deliberately not marked
# for extraction, so the catalogs stay complete.
METHOD_NOT_ALLOWED: Final = ErrorSpec(
    "405-100",
    ErrorFamily.INVALID,
    "Method '{method}' is not supported for this URL. Supported methods: '{methods}'.",
)

_BODY_LIMIT_SCOPE_KEY: Final = "starlette.max_body_size"
_CODE = re.compile(r"([0-9]{3})-[0-9]+")
# pydantic error types meaning "not a number" / "not positive" for an int-typed parameter.
_INTEGER_ERRORS: Final = frozenset(
    {"int_parsing", "int_type", "int_from_float", "greater_than", "greater_than_equal"}
)

_Handler = Callable[[Request, Exception], Awaitable[Response]]


def status_for(spec: ErrorSpec) -> int:
    """The HTTP status of an error: its code's status part, else its family's status."""
    match = _CODE.fullmatch(spec.code)
    if match is not None:
        try:
            return HTTPStatus(int(match.group(1))).value
        except ValueError:
            pass
    return FAMILY_STATUS[spec.family]


def is_egain_path(request: Request) -> bool:
    path: str = request.scope["path"]
    root_path: str = request.scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    return path.startswith(EGAIN_PATH_PREFIXES)


def error_body(error: DomainError, message: str, *, user_message: bool) -> dict[str, Any]:
    """The envelope as a dict (the XML form is its JAXB mirror), within eGain's size limits."""
    body: dict[str, Any] = {
        "code": error.code,
        "developerMessage": message[:MAX_DEVELOPER_MESSAGE],
    }
    if error.details:
        body["details"] = [
            {"key": key[:MAX_DETAIL_TEXT], "value": value[:MAX_DETAIL_TEXT]}
            for key, value in list(error.details.items())[:MAX_DETAILS]
        ]
    if user_message:
        body["userMessage"] = message[:MAX_USER_MESSAGE]
    return body


def install_egain_error_handlers(
    app: FastAPI, translator: Translator, *, default_locale: str = DEFAULT_LOCALE
) -> None:
    """Render errors on eGain paths in the eGain envelope; leave other paths to earlier handlers.

    Install after any handler of another dialect: those become the fallbacks for their paths.
    """
    renderer = _EgainErrorRenderer(translator, default_locale)
    handlers: Sequence[tuple[type[Exception], _Handler, _Handler]] = (
        (DomainError, renderer.domain_error, _reraise),
        (RequestValidationError, renderer.validation_error, _fastapi_validation_handler),
        (StarletteHTTPException, renderer.http_exception, _fastapi_http_handler),
        (Exception, renderer.unexpected, _plain_internal_error),
    )
    for exception_class, handler, default in handlers:
        previous = app.exception_handlers.get(exception_class, default)
        app.add_exception_handler(exception_class, _on_egain_paths(handler, previous))


def _on_egain_paths(handler: _Handler, fallback: Any) -> _Handler:
    async def dispatch(request: Request, exc: Exception) -> Response:
        if is_egain_path(request):
            return await handler(request, exc)
        response: Response = await fallback(request, exc)
        return response

    return dispatch


class _EgainErrorRenderer:
    def __init__(self, translator: Translator, default_locale: str) -> None:
        self._translator = translator
        self._default_locale = default_locale

    async def domain_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return self.render(request, exc)

    async def validation_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return self.render(request, domain_error_from_validation(exc.errors()))

    async def http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers) if exc.headers else None
        return self.render(request, _domain_error_from_http(request, exc), headers)

    async def unexpected(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, DomainError):  # raised outside the routes, e.g. by a middleware
            return self.render(request, exc)
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
        # This response bypasses the request-log middleware, which adds the id elsewhere.
        headers = {REQUEST_ID_HEADER: request_id} if request_id else None
        return self.render(request, errors.INTERNAL_ERROR(), headers)

    def render(
        self, request: Request, error: DomainError, headers: Mapping[str, str] | None = None
    ) -> Response:
        negotiated = negotiated_for_error(request, default_locale=self._default_locale)
        message = self._message(error, negotiated.locale)
        wants_user_message = (
            request.headers.get(ERROR_MESSAGE_HEADER, "").strip().lower() == ERROR_MESSAGE_YES
        )
        body = error_body(error, message, user_message=wants_user_message)
        status = status_for(error.spec)
        if negotiated.format is ResponseFormat.XML:
            return Response(
                render_xml(ERROR_ROOT, body, namespace=xml_names.COMMON),
                status_code=status,
                media_type=ResponseFormat.XML.media_type,
                headers=headers,
            )
        return JSONResponse(body, status_code=status, headers=headers)

    def _message(self, error: DomainError, locale: str) -> str:
        for candidate in (locale, self._default_locale):
            if candidate in self._translator.locales:
                return self._translator.message(error.spec, error.params, candidate)
        return error.english()


def domain_error_from_validation(problems: Sequence[Any]) -> DomainError:
    """FastAPI's validation errors → the eGain error for the first problem.

    Routes read bodies with `codecs.body` and query parameters with `egain.query`, so this is
    the safety net for parameters a route declared to FastAPI.
    """
    if not problems:
        return errors.MALFORMED_BODY(format="request")
    problem: Mapping[str, Any] = problems[0]
    kind = str(problem.get("type", ""))
    location = [str(part) for part in problem.get("loc", ()) if not isinstance(part, int)]
    source, path = (location[0], location[1:]) if location else ("body", [])
    name = ".".join(path)
    value = problem.get("input")
    expected = (problem.get("ctx") or {}).get("expected")
    if source == "path":
        return errors.INVALID_PATH_PARAMETER(value=_text(value))
    if source == "query":
        if kind == "missing":
            return errors.MISSING_QUERY_PARAMETER(parameters=name)
        if kind in _INTEGER_ERRORS:
            return errors.POSITIVE_INTEGER_EXPECTED(value=_text(value))
        return errors.UNSUPPORTED_QUERY_VALUE(parameter=name, values=_expected(expected))
    if source == "header":
        if name.lower().replace("_", "-") == SESSION_HEADER.lower():
            return errors.INVALID_SESSION(header=SESSION_HEADER)
        if kind == "missing":
            return errors.REQUIRED_ATTRIBUTE(attribute=name)
        return errors.INVALID_ATTRIBUTE(attribute=name)
    if kind == "json_invalid" or not name:
        return errors.MALFORMED_BODY(format=ResponseFormat.JSON.media_type)
    if kind == "missing":
        return errors.REQUIRED_ATTRIBUTE(attribute=name)
    if expected is not None:
        return errors.INVALID_ENUM_VALUE(attribute=name, values=_expected(expected))
    return errors.INVALID_ATTRIBUTE(attribute=name)


def _expected(expected: object) -> str:
    """pydantic's "'a' or 'b'" → eGain's "a, b"."""
    if expected is None:
        return ""
    return ", ".join(part.strip(" '\"") for part in re.split(r",| or ", str(expected)) if part)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _domain_error_from_http(request: Request, exc: StarletteHTTPException) -> DomainError:
    """Framework-raised HTTP errors (routing, form parsing) → eGain errors of the same status."""
    status = exc.status_code
    if status == HTTPStatus.NOT_FOUND:
        return errors.IDS_NOT_FOUND(ids=request.scope["path"])
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        allowed = (exc.headers or {}).get("Allow", "")
        return METHOD_NOT_ALLOWED(method=request.method, methods=allowed)
    if status == HTTPStatus.UNAUTHORIZED:
        on_v3 = request.scope["path"].startswith("/core/")
        return errors.INVALID_SESSION(header=AUTHORIZATION_HEADER if on_v3 else SESSION_HEADER)
    if status == HTTPStatus.NOT_ACCEPTABLE:
        return errors.UNSUPPORTED_ACCEPT(values=", ".join(f.media_type for f in ResponseFormat))
    if status == HTTPStatus.UNSUPPORTED_MEDIA_TYPE:
        return errors.UNSUPPORTED_CONTENT_TYPE(
            value=request.headers.get("content-type", ""), values=""
        )
    if status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
        # Starlette's app-wide body limit (FastAPI(max_body_size=…)) records itself in the scope.
        return errors.PAYLOAD_TOO_LARGE(limit=request.scope.get(_BODY_LIMIT_SCOPE_KEY, "?"))
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return errors.TOO_MANY_REQUESTS()
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        return errors.SERVICE_UNAVAILABLE()
    if 400 <= status < 500:
        media_type = request.headers.get("content-type", "").partition(";")[0].strip()
        return errors.MALFORMED_BODY(format=media_type or "request")
    return errors.INTERNAL_ERROR()


async def _reraise(request: Request, exc: Exception) -> Response:
    raise exc


async def _fastapi_validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return await request_validation_exception_handler(request, exc)


async def _fastapi_http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return await http_exception_handler(request, exc)


async def _plain_internal_error(request: Request, exc: Exception) -> Response:
    """What Starlette's ServerErrorMiddleware answers when no handler is installed."""
    return PlainTextResponse("Internal Server Error", status_code=500)
