"""The v3 routes in the served OpenAPI document: documented (summary, description, tag, the
bodies in every accepted content type, the query parameters, 201 + Location, the eGain error
envelope, bearer security) and the document still valid (every reference resolves)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emaildesk.app import create_app
from emaildesk.settings import Settings

V3_OPERATIONS = {
    ("post", "/core/casemgr/v3/activity/{ids}/email/general"),
    ("post", "/core/casemgr/v3/activity/task"),
    ("get", "/core/casemgr/v3/activity/{ids}"),
    ("post", "/core/casemgr/v3/activity/attachment"),
    ("get", "/core/casemgr/v3/activity/attachment/{altId}"),
    ("get", "/core/casemgr/v3/activity/{id}/attachment/{attachmentId}"),
}
FIVE_TYPES = {
    "application/json",
    "application/xml",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
}


@pytest.fixture
async def document(tmp_path: Path) -> dict[str, Any]:
    """GET /openapi.json from the app (no database is needed to describe it)."""
    app = create_app(Settings(data_dir=tmp_path, worker_enabled=False), migrate=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emaildesk.test") as http:
        response = await http.get("/openapi.json")
    await app.state.runtime.database.dispose()
    assert response.status_code == 200
    served: dict[str, Any] = response.json()
    return served


def operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method]
    return found


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def resolve(document: dict[str, Any], pointer: str) -> Any:
    assert pointer.startswith("#/"), pointer
    node: Any = document
    for part in pointer[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


async def test_every_reference_in_the_document_resolves(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.")
    pointers = set(references(document))
    assert pointers
    for pointer in pointers:
        resolve(document, pointer)


async def test_every_v3_operation_is_documented(document: dict[str, Any]) -> None:
    for method, path in V3_OPERATIONS:
        entry = operation(document, method, path)
        assert entry["tags"] == ["eGain v3"]
        assert entry["summary"]
        assert len(entry["description"]) > 80
        assert entry["security"] == [{"bearerAuth": []}]
        headers = {p["name"] for p in entry["parameters"] if p["in"] == "header"}
        assert "Accept-Language" in headers
        for status in ("401", "403", "500"):
            error = entry["responses"][status]["content"]
            schema = resolve(document, error["application/json"]["schema"]["$ref"])
            assert set(schema["required"]) == {"code", "developerMessage"}
            assert error["application/xml"]["schema"]["xml"] == {"name": "error"}


async def test_bearer_security_scheme(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


async def test_creates_answer_201_with_location(document: dict[str, Any]) -> None:
    for method, path in V3_OPERATIONS:
        if method != "post":
            continue
        created = operation(document, method, path)["responses"]["201"]
        assert "Location" in created["headers"]
        assert "200" not in operation(document, method, path)["responses"]


async def test_create_bodies_are_documented_in_the_five_content_types(
    document: dict[str, Any],
) -> None:
    for path in ("/core/casemgr/v3/activity/{ids}/email/general", "/core/casemgr/v3/activity/task"):
        body = operation(document, "post", path)["requestBody"]
        assert body["required"] is True
        assert set(body["content"]) == FIVE_TYPES
        json_schema = body["content"]["application/json"]["schema"]
        assert {"type", "subject", "attachments", "customAttributes"} <= set(
            json_schema["properties"]
        )
        assert body["content"]["application/json"]["examples"]
        assert body["content"]["multipart/form-data"]["schema"]["required"] == ["data", "data-type"]
    upload = operation(document, "post", "/core/casemgr/v3/activity/attachment")["requestBody"]
    assert set(upload["content"]) == {"multipart/form-data"}


async def test_query_parameters_are_documented(document: dict[str, Any]) -> None:
    def query(method: str, path: str) -> dict[str, dict[str, Any]]:
        return {
            p["name"]: p
            for p in operation(document, method, path)["parameters"]
            if p["in"] == "query"
        }

    task = query("post", "/core/casemgr/v3/activity/task")
    assert task["searchContactOnAttribute"]["required"] is True
    assert task["createCustomer"]["schema"]["enum"] == ["yes"]
    assert "customer" in query("post", "/core/casemgr/v3/activity/{ids}/email/general")
    assert {
        "$attribute",
        "$sort",
        "$order",
        "payloadVersion",
        "embedInlineAttachment",
        "customer",
        "transcriptDatetimeFormat",
        "timeOffset",
    } <= set(query("get", "/core/casemgr/v3/activity/{ids}"))
