"""The served OpenAPI document describes the Uniphore contract exactly (it is what clients and
fuzzers read), and says which endpoints are emaildesk's extension."""

from __future__ import annotations

from typing import Any, get_args

import httpx

from emaildesk.api.uniphore.models import Language
from emaildesk.domain.analytics import LANGUAGES


def test_language_codes_of_the_wire_model_are_the_domain_ones() -> None:
    assert get_args(Language) == LANGUAGES


async def test_openapi_documents_the_contact_body_with_the_field_limits(
    client: httpx.AsyncClient,
) -> None:
    document: dict[str, Any] = (await client.get("/openapi.json")).json()
    post = document["paths"]["/contacts/email"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert "$ref" not in str(schema)  # inlined: the document stays valid without $defs
    data = schema["properties"]["data"]
    metadata = schema["properties"]["metadata"]
    limits = {name: p.get("maxLength") for name, p in data["properties"].items()}
    assert limits["msgId"] == 36 and limits["convId"] == 256 and limits["sub"] == 78
    assert limits["agentId"] == limits["psId"] == 50
    assert limits["agentEmailId"] == limits["psEmailId"] == limits["from"] == 256
    assert data["properties"]["lang"]["enum"] == ["us-en", "au-en", "gb-en"]
    assert data["properties"]["ts"]["type"] == "integer"
    assert set(data["required"]) >= {"convId", "msgId", "lang", "sub", "ts", "body", "to"}
    assert "journeyId" not in data["required"]
    assert {metadata["properties"][n]["maxLength"] for n in ("tenantName", "orgName")} == {128}
    assert set(post["responses"]) >= {"202", "400", "401", "403", "413"}


async def test_openapi_marks_the_read_side_as_an_extension(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ["/contacts/email/{conv_id}", "/contacts/metrics/email"]:
        (operation,) = paths[path].values()
        assert "emaildesk extension" in operation["description"], path
    insertion = paths["/contacts/nsmeta/insertion"]["post"]["requestBody"]["content"]
    data = insertion["application/json"]["schema"]["properties"]["data"]
    assert data["required"] == ["contactId"]
