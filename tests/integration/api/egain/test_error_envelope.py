"""The eGain error envelope over a real socket: formats, statuses, languages, 406s, 413s, 500s.

A small FastAPI app under /system/ws/v12/test negotiates as eGain routes do, then raises the
error a test names; it runs under uvicorn on a loopback port with the real Translator (compiled
catalogs: scripts/compile-catalogs).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request

from emaildesk.api.codecs.body import MediaKind, read_body
from emaildesk.api.codecs.xml import parse_xml
from emaildesk.api.egain import xml_names
from emaildesk.api.egain.errors import install_egain_error_handlers
from emaildesk.api.i18n import Translator
from emaildesk.api.negotiation import negotiate
from emaildesk.api.request_log import RequestLogMiddleware
from emaildesk.domain import errors
from emaildesk.domain.errors import DomainError
from support.live_server import live_client

BASE = "/system/ws/v12/test"
UPLOAD_LIMIT = 1024
SECRET = "CUSTOMER-SECRET-jhenry@customer.com"

RAISED: dict[str, DomainError] = {
    "invalid": errors.TOO_LONG({"attribute": "subject"}, attribute="subject", limit=255),
    "unauthenticated": errors.INVALID_SESSION(header="X-egain-session"),
    "forbidden": errors.ACTION_NOT_ALLOWED(action="create activity"),
    "not-found": errors.IDS_NOT_FOUND(ids="1001,1002"),
    "conflict": errors.LAST_MODIFIED_MISMATCH(attribute="activity 1000"),
    "precondition": errors.PRECONDITION_FAILED(requirement="case must be open"),
    "rate-limited": errors.TOO_MANY_REQUESTS(),
    "unavailable": errors.SERVICE_UNAVAILABLE(),
    "internal": errors.INTERNAL_ERROR(),
    "too-large": errors.PAYLOAD_TOO_LARGE(limit=10),
    "unsupported-media": errors.UNSUPPORTED_CONTENT_TYPE(value="a/b", values="application/json"),
}


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator()


def build_app(translator: Translator) -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestLogMiddleware)

    @app.get(f"{BASE}/raise/{{name}}")
    async def raise_named(request: Request, name: str) -> None:
        negotiate(request)
        raise RAISED[name]

    @app.post(f"{BASE}/crash")
    async def crash(request: Request) -> None:
        negotiate(request)
        await request.body()
        raise RuntimeError("internal detail that must not reach the client")

    @app.post(f"{BASE}/upload")
    async def upload(request: Request) -> dict[str, int]:
        negotiate(request)
        body = await read_body(request, allowed=frozenset({MediaKind.JSON}), max_bytes=UPLOAD_LIMIT)
        return {"fields": len(body.data)}

    install_egain_error_handlers(app, translator)
    return app


@pytest.fixture
async def client(translator: Translator) -> AsyncIterator[httpx.AsyncClient]:
    async with live_client(build_app(translator)) as client:
        yield client


FAMILIES = [
    ("invalid", 400, "400-2003"),
    ("unauthenticated", 401, "401-101"),
    ("forbidden", 403, "403-178"),
    ("not-found", 404, "404-101"),
    ("conflict", 409, "409-100"),
    ("precondition", 412, "412-100"),
    ("too-large", 413, "413-100"),
    ("unsupported-media", 415, "415-100"),
    ("rate-limited", 429, "429-001"),
    ("internal", 500, "500-100"),
    ("unavailable", 503, "503-100"),
]


async def test_status_and_code_per_family(client: httpx.AsyncClient) -> None:
    # One server for the whole table: starting uvicorn per row would dominate the run time.
    for name, status, code in FAMILIES:
        response = await client.get(f"{BASE}/raise/{name}")
        assert response.status_code == status, name
        assert response.headers["content-type"] == "application/json", name
        body = response.json()
        assert body["code"] == code, name
        assert body["developerMessage"] == RAISED[name].english(), name


async def test_json_envelope_is_code_and_developer_message(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{BASE}/raise/unauthenticated", headers={"Accept": "application/json"}
    )
    assert response.json() == {
        "code": "401-101",
        "developerMessage": "Invalid or expired 'X-egain-session' header provided. "
        "New login is required.",
    }


async def test_xml_envelope_in_the_common_namespace(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/raise/not-found", headers={"Accept": "application/xml"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/xml"
    assert (
        f'<error xmlns="{xml_names.COMMON}"><code>404-101</code>'
        "<developerMessage>The following IDs supplied in the URI path were not found: "
        "'1001,1002'.</developerMessage></error>"
    ).encode() in response.content
    assert parse_xml(response.content) == (
        "error",
        {
            "code": "404-101",
            "developerMessage": "The following IDs supplied in the URI path were not found: "
            "'1001,1002'.",
        },
    )


async def test_details_are_key_value_pairs(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/raise/invalid")
    assert response.json()["details"] == [{"key": "attribute", "value": "subject"}]
    xml = await client.get(f"{BASE}/raise/invalid", headers={"Accept": "text/xml"})
    assert parse_xml(xml.content)[1]["details"] == {"key": "attribute", "value": "subject"}


LOCALIZED_TOO_LONG = [
    ("de-DE", "Der Wert des Attributs 'subject' darf höchstens 255 Zeichen lang sein."),
    ("ja-JP", "属性 'subject' の値は 255 文字以内にする必要があります。"),
    ("en-US", "The value of attribute 'subject' must not exceed 255 characters."),
]


async def test_messages_are_in_the_negotiated_language(client: httpx.AsyncClient) -> None:
    for locale, message in LOCALIZED_TOO_LONG:
        headers = {"Accept-Language": locale}
        response = await client.get(f"{BASE}/raise/invalid", headers=headers)
        assert response.json()["developerMessage"] == message
        headers["Accept"] = "application/xml"
        xml = await client.get(f"{BASE}/raise/invalid", headers=headers)
        assert parse_xml(xml.content)[1]["developerMessage"] == message


async def test_user_message_only_when_the_client_asks(client: httpx.AsyncClient) -> None:
    plain = await client.get(f"{BASE}/raise/forbidden", headers={"Accept-Language": "de-DE"})
    assert "userMessage" not in plain.json()
    asked = await client.get(
        f"{BASE}/raise/forbidden",
        headers={"Accept-Language": "de-DE", "X-egain-error-message": "yes"},
    )
    body = asked.json()
    assert body["userMessage"] == body["developerMessage"] == plain.json()["developerMessage"]
    assert body["userMessage"] != errors.ACTION_NOT_ALLOWED(action="create activity").english()
    declined = await client.get(f"{BASE}/raise/forbidden", headers={"X-egain-error-message": "no"})
    assert "userMessage" not in declined.json()


async def test_bad_accept_is_406_in_json(client: httpx.AsyncClient, translator: Translator) -> None:
    response = await client.get(
        f"{BASE}/raise/forbidden", headers={"Accept": "text/html", "Accept-Language": "de-DE"}
    )
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "code": "406-101",
        "developerMessage": translator.message(
            errors.UNSUPPORTED_ACCEPT, {"values": "application/json, application/xml"}, "de-DE"
        ),
    }


async def test_bad_accept_language_is_406_100_in_the_negotiated_format(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        f"{BASE}/raise/forbidden",
        headers={"Accept": "application/xml", "Accept-Language": "xx-YY"},
    )
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/xml"
    assert parse_xml(response.content) == (
        "error",
        {"code": "406-100", "developerMessage": "Invalid 'Accept-Language' header value provided."},
    )


async def test_unexpected_exception_is_500_100_without_its_text(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="emaildesk.api.egain.errors"):
        response = await client.post(
            f"{BASE}/crash",
            content=SECRET.encode(),
            headers={"Accept-Language": "fr-FR", "Accept": "application/xml"},
        )
    assert response.status_code == 500
    assert b"internal detail" not in response.content
    assert b"RuntimeError" not in response.content
    code = parse_xml(response.content)[1]["code"]
    assert code == "500-100"
    (record,) = [r for r in caplog.records if r.name == "emaildesk.api.egain.errors"]
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["request_id"] == response.headers["x-request-id"]
    assert fields["path"] == f"{BASE}/crash"
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert SECRET not in caplog.text


async def test_body_over_the_limit_is_413_while_streaming(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"subject": "'
        for _ in range(64):
            yield b"x" * 1024
        yield b'"}'

    response = await client.post(
        f"{BASE}/upload", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {
        "code": "413-100",
        "developerMessage": (
            f"The request body exceeds the allowed maximum of {UPLOAD_LIMIT} bytes."
        ),
    }


async def test_declared_length_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{BASE}/upload", json={"subject": "x" * 2 * UPLOAD_LIMIT})
    assert (response.status_code, response.json()["code"]) == (413, "413-100")


async def test_codec_errors_reach_the_client_in_the_envelope(client: httpx.AsyncClient) -> None:
    wrong_type = await client.post(
        f"{BASE}/upload", content=b"<a/>", headers={"Content-Type": "application/xml"}
    )
    assert (wrong_type.status_code, wrong_type.json()["code"]) == (415, "415-100")
    malformed = await client.post(
        f"{BASE}/upload", content=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert (malformed.status_code, malformed.json()["code"]) == (400, "400-2000")
    accepted = await client.post(f"{BASE}/upload", json={"subject": "s"})
    assert (accepted.status_code, accepted.json()) == (200, {"fields": 1})


async def test_unknown_path_is_404_in_the_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get("/system/ws/v12/nothing", headers={"Accept": "application/xml"})
    assert response.status_code == 404
    assert parse_xml(response.content)[1]["code"] == "404-101"
