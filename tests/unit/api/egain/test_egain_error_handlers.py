"""The eGain error envelope's rules (api/egain/errors.py): status, body, framework errors.

Requests go through the ASGI app with httpx; the live-socket checks (locales, XML, 500s over
uvicorn) are in tests/integration/api/egain/test_error_envelope.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from enum import Enum
from typing import Annotated, Literal

import httpx
import pytest
from fastapi import FastAPI, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from emaildesk.api.codecs.xml import parse_xml
from emaildesk.api.egain.errors import (
    METHOD_NOT_ALLOWED,
    error_body,
    install_egain_error_handlers,
    status_for,
)
from emaildesk.api.i18n import Translator
from emaildesk.domain import errors
from emaildesk.domain.errors import DomainError, ErrorFamily, ErrorSpec, all_specs

V12 = "/system/ws/v12/test"


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator()


# --- status -----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", all_specs(), ids=lambda spec: spec.code)
def test_status_is_the_codes_status_part(spec: ErrorSpec) -> None:
    assert status_for(spec) == int(spec.code[:3])


def test_412_is_412_though_its_family_is_conflict() -> None:
    assert errors.PRECONDITION_FAILED.family is ErrorFamily.CONFLICT
    assert status_for(errors.PRECONDITION_FAILED) == 412


@pytest.mark.parametrize(
    ("family", "status"),
    [
        (ErrorFamily.INVALID, 400),
        (ErrorFamily.UNAUTHENTICATED, 401),
        (ErrorFamily.FORBIDDEN, 403),
        (ErrorFamily.NOT_FOUND, 404),
        (ErrorFamily.CONFLICT, 409),
        (ErrorFamily.NOT_ACCEPTABLE, 406),
        (ErrorFamily.UNSUPPORTED_MEDIA, 415),
        (ErrorFamily.TOO_LARGE, 413),
        (ErrorFamily.RATE_LIMITED, 429),
        (ErrorFamily.UNAVAILABLE, 503),
        (ErrorFamily.INTERNAL, 500),
    ],
)
def test_status_falls_back_to_the_family_when_the_code_names_no_status(
    family: ErrorFamily, status: int
) -> None:
    assert status_for(ErrorSpec("E-1", family, "m")) == status
    assert status_for(ErrorSpec("999-1", family, "m")) == status  # 999 is no HTTP status


# --- body -------------------------------------------------------------------------------------


def test_body_has_code_and_developer_message_only_by_default() -> None:
    error = errors.TOO_MANY_REQUESTS()
    assert error_body(error, "Too many requests.", user_message=False) == {
        "code": "429-001",
        "developerMessage": "Too many requests.",
    }


def test_body_carries_details_and_the_user_message_on_request() -> None:
    error = errors.INVALID_ATTRIBUTE({"attribute": "subject"}, attribute="subject")
    assert error_body(error, "msg", user_message=True) == {
        "code": "400-152",
        "developerMessage": "msg",
        "details": [{"key": "attribute", "value": "subject"}],
        "userMessage": "msg",
    }


def test_body_keeps_to_egains_size_limits() -> None:
    details = {f"k{n}-" + "x" * 300: "v" * 300 for n in range(40)}
    body = error_body(errors.INTERNAL_ERROR(details), "m" * 3000, user_message=True)
    assert len(body["developerMessage"]) == 2048
    assert len(body["userMessage"]) == 1024
    assert len(body["details"]) == 30
    assert all(len(d["key"]) == 255 and len(d["value"]) == 255 for d in body["details"])


# --- an app -----------------------------------------------------------------------------------


class Channel(Enum):
    EMAIL = "email"
    CHAT = "chat"


class Subtype(BaseModel):
    value: Literal["general"]


class ActivityType(BaseModel):
    value: Channel
    subtype: Subtype


class Activity(BaseModel):
    subject: str
    type: ActivityType


class RaiseDomainErrorMiddleware:
    """Raises a domain error before routing, for /system/ws/v12/from-middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/from-middleware"):
            raise errors.SERVICE_UNAVAILABLE()
        await self.app(scope, receive, send)


def build_app(translator: Translator, *, other_dialect: bool = False) -> FastAPI:
    app = FastAPI()
    app.add_middleware(RaiseDomainErrorMiddleware)

    @app.get(f"{V12}/ids/{{activity_id}}")
    async def by_id(activity_id: int) -> dict[str, int]:
        return {"id": activity_id}

    @app.get(f"{V12}/query")
    async def with_query(
        customer: Annotated[int, Query()],
        force_login: Annotated[Literal["yes"] | None, Query(alias="forceLogin")] = None,
    ) -> dict[str, int]:
        return {"customer": customer}

    @app.post(f"{V12}/body")
    async def with_body(activity: Activity) -> dict[str, str]:
        return {"subject": activity.subject}

    @app.get(f"{V12}/session")
    async def with_session(x_egain_session: Annotated[str, Header()]) -> dict[str, str]:
        return {"session": x_egain_session}

    @app.get(f"{V12}/only-get")
    async def only_get() -> dict[str, str]:
        return {}

    @app.get("/api/v2/me/raise")
    async def other_dialect_error() -> None:
        raise errors.ACTION_NOT_ALLOWED(action="x")

    if other_dialect:

        async def gws_domain_error(request: Request, exc: Exception) -> Response:
            return JSONResponse({"status": "error", "errorDescription": str(exc)}, 400)

        app.add_exception_handler(DomainError, gws_domain_error)
    install_egain_error_handlers(app, translator)
    return app


Client = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
async def client(translator: Translator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(translator), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://egain.test") as client:
        yield client


async def test_path_parameter_of_the_wrong_type_is_400_108(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{V12}/ids/abc")
    assert response.status_code == 400
    assert response.json() == {
        "code": "400-108",
        "developerMessage": "Invalid path parameter value: 'abc'. "
        "A numeric or a readable ID is expected.",
    }


async def test_missing_query_parameter_is_400_112(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{V12}/query")
    assert (response.status_code, response.json()["code"]) == (400, "400-112")
    assert "'customer'" in response.json()["developerMessage"]


async def test_non_numeric_query_parameter_is_400_105(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{V12}/query", params={"customer": "x1"})
    assert (response.status_code, response.json()["code"]) == (400, "400-105")
    assert "'x1'" in response.json()["developerMessage"]


async def test_query_value_outside_its_literal_is_400_102(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{V12}/query", params={"customer": "1", "forceLogin": "no"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "400-102",
        "developerMessage": "Unsupported value for query parameter 'forceLogin'. "
        "Only the following values are supported: 'yes'.",
    }


async def test_missing_body_attribute_is_required_by_its_path(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{V12}/body", json={"type": {"value": "email"}})
    assert (response.status_code, response.json()["code"]) == (400, "400-2001")
    assert "'subject'" in response.json()["developerMessage"]


async def test_body_enum_mismatch_is_400_196_with_its_values(client: httpx.AsyncClient) -> None:
    body = {"subject": "s", "type": {"value": "fax", "subtype": {"value": "general"}}}
    response = await client.post(f"{V12}/body", json=body)
    assert response.json() == {
        "code": "400-196",
        "developerMessage": "Invalid value of attribute type.value, "
        "expected values are: [email, chat].",
    }


async def test_body_of_the_wrong_type_is_400_152(client: httpx.AsyncClient) -> None:
    body = {"subject": ["not", "text"], "type": {"value": "email", "subtype": {"value": "general"}}}
    response = await client.post(f"{V12}/body", json=body)
    assert response.json()["code"] == "400-152"
    assert "'subject'" in response.json()["developerMessage"]


async def test_unparsable_json_body_is_malformed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{V12}/body", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "400-2000")


async def test_missing_session_header_is_401_101(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{V12}/session")
    assert response.status_code == 401
    assert response.json() == {
        "code": "401-101",
        "developerMessage": "Invalid or expired 'X-egain-session' header provided. "
        "New login is required.",
    }


@pytest.mark.parametrize("prefix", ["/system/ws/v12", "/ws/v12", "/core/casemgr/v3"])
async def test_unknown_path_under_an_egain_prefix_is_404_with_a_code(
    client: httpx.AsyncClient, prefix: str
) -> None:
    response = await client.get(f"{prefix}/nothing/here")
    assert response.status_code == 404
    assert response.json() == {
        "code": "404-101",
        "developerMessage": "The following IDs supplied in the URI path were not found: "
        f"'{prefix}/nothing/here'.",
    }


async def test_wrong_method_is_405_100_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"{V12}/only-get", headers={"Accept": "application/xml"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert parse_xml(response.content) == (
        "error",
        {
            "code": METHOD_NOT_ALLOWED.code,
            "developerMessage": "Method 'DELETE' is not supported for this URL. "
            "Supported methods: 'GET'.",
        },
    )


async def test_domain_error_raised_outside_the_routes_is_still_enveloped(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{V12}/from-middleware")
    assert (response.status_code, response.json()["code"]) == (503, "503-100")


async def test_other_paths_keep_fastapis_own_answers(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v2/nothing")).json() == {"detail": "Not Found"}
    assert (await client.get("/healthz/x")).status_code == 404
    # A domain error on another dialect's path with no handler of its own stays a plain 500.
    response = await client.get("/api/v2/me/raise")
    assert (response.status_code, response.text) == (500, "Internal Server Error")


async def test_another_dialects_earlier_handler_keeps_its_paths(translator: Translator) -> None:
    app = build_app(translator, other_dialect=True)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        gws = await client.get("/api/v2/me/raise")
        egain = await client.get(f"{V12}/from-middleware")
    assert gws.json()["status"] == "error"
    assert egain.json()["code"] == "503-100"


async def test_a_locale_without_a_catalog_falls_back_to_the_default() -> None:
    app = build_app(Translator(locales=["en-US"]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get(f"{V12}/session", headers={"Accept-Language": "de-DE"})
    assert response.json()["developerMessage"].startswith("Invalid or expired")
