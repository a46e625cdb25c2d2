"""The eGain v12 routes in the OpenAPI document: every operation has a summary, a description
and the "eGain v12" tag, documents every content type it reads and every status it answers, and
the document's references resolve. The document needs no database, so the app is spoken to
through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from v12_helpers import ALIAS, SESSION, V12

from emaildesk.app import create_app
from emaildesk.settings import Settings

OPERATIONS = {
    ("post", f"{V12}/authentication/user/login"),
    ("delete", f"{V12}/authentication/user/logout"),
    ("post", f"{V12}/interaction/activity"),
    ("get", f"{V12}/interaction/activity/{{ids}}"),
    ("get", f"{V12}/interaction/activity/{{activity_id}}/attachment/{{attachment_id}}"),
}


@pytest.fixture
async def document(tmp_path: Path) -> dict[str, Any]:
    settings = Settings(data_dir=tmp_path, worker_enabled=False)
    app = create_app(settings, migrate=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    served: dict[str, Any] = response.json()
    return served


def v12_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        if path.startswith((V12, ALIAS)):
            for method, operation in item.items():
                yield method, path, operation


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def resolve(document: dict[str, Any], reference: str) -> Any:
    assert reference.startswith("#/"), reference
    node: Any = document
    for part in reference[2:].split("/"):
        node = node[part]
    return node


async def test_the_document_is_openapi_3_and_every_reference_resolves(
    document: dict[str, Any],
) -> None:
    assert document["openapi"].startswith("3.")
    for reference in references(document):
        assert resolve(document, reference) is not None


async def test_every_v12_route_is_documented_once_under_system(document: dict[str, Any]) -> None:
    documented = {(method, path) for method, path, _ in v12_operations(document)}
    assert documented == OPERATIONS  # the /ws/v12 alias serves, but is not documented twice


async def test_every_v12_operation_has_summary_description_tag_and_error_schema(
    document: dict[str, Any],
) -> None:
    for method, path, operation in v12_operations(document):
        where = f"{method.upper()} {path}"
        assert operation["tags"] == ["eGain v12"], where
        assert operation["summary"].strip(), where
        assert len(operation["description"]) > 80, where
        assert "/ws/v12" in operation["description"], where  # names its alias
        for status in ("400", "406"):
            content = operation["responses"][status]["content"]
            assert set(content) == {"application/json", "application/xml"}, where
            error = resolve(document, content["application/json"]["schema"]["$ref"])
            assert {"code", "developerMessage"} <= set(error["required"]), where
            assert {"userMessage", "details"} <= set(error["properties"]), where
            assert SESSION in operation["responses"][status]["headers"], where


async def test_create_activity_documents_its_three_body_types_and_the_201(
    document: dict[str, Any],
) -> None:
    operation = document["paths"][f"{V12}/interaction/activity"]["post"]
    body = operation["requestBody"]
    assert body["required"] is True
    assert set(body["content"]) == {"application/json", "application/xml", "multipart/form-data"}
    activity = body["content"]["application/json"]["schema"]
    assert {"department", "type", "payload"} <= set(activity["required"])
    assert "attachments" in activity["properties"]
    assert body["content"]["application/xml"]["schema"]["xml"]["name"] == "activity"
    multipart = body["content"]["multipart/form-data"]["schema"]
    assert set(multipart["required"]) == {"data", "data-type"}
    created = operation["responses"]["201"]
    assert {"Location", SESSION} <= set(created["headers"])


async def test_login_documents_its_body_and_the_204_with_the_session_header(
    document: dict[str, Any],
) -> None:
    operation = document["paths"][f"{V12}/authentication/user/login"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "application/xml"}
    assert SESSION in operation["responses"]["204"]["headers"]
    assert {"401", "403"} <= set(operation["responses"])


async def test_session_header_is_a_documented_parameter_of_the_session_routes(
    document: dict[str, Any],
) -> None:
    for method, path, operation in v12_operations(document):
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        expected = set() if path.endswith("/login") else {SESSION}
        assert names == expected, f"{method} {path}"
