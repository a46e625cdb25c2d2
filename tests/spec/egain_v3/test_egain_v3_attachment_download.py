"""Conformance: `GET /core/casemgr/v3/activity/{id}/attachment/{attachmentId}`, the link of the
v3 representation: the bytes with their headers, visible exactly when the activity is."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from egain_v3_support import (
    LEO,
    MARIA,
    Refusals,
    Tokens,
    customer_id,
    incoming_email,
)

from emaildesk.db.database import Database
from emaildesk.services.incoming_email import NewAttachment

DATA = bytes(range(256)) * 3
NAME = "Übersicht “Q1” 2024.pdf"


@pytest.fixture
async def maria_email(demo_database: Database, blob_dir: Path) -> int:
    files = [
        NewAttachment(NAME, "application/pdf", DATA),
        NewAttachment("odd.bin", "no media type at all", b"odd"),
    ]
    return await incoming_email(demo_database, blob_dir, MARIA, attachments=files)


async def links(client: httpx.AsyncClient, headers: dict[str, str], activity_id: int) -> list[str]:
    """The attachment links of the activity's v3 representation, in order."""
    response = await client.get(
        f"/core/casemgr/v3/activity/{activity_id}",
        params={"$attribute": "attachments"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    items = response.json()["activity"][0]["attachments"]["attachment"]
    return [item["link"]["href"] for item in items]


async def test_download_answers_the_bytes_with_their_headers(
    client: httpx.AsyncClient, agent1: dict[str, str], maria_email: int
) -> None:
    first, _ = await links(client, agent1, maria_email)
    response = await client.get(first, headers=agent1)
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    # RFC 8187 / RFC 5987: the exact name, UTF-8 and percent-encoded.
    assert disposition.endswith(f"filename*=UTF-8''{quote(NAME, safe='')}")
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii()


async def test_a_stored_type_that_is_no_media_type_is_served_as_octet_stream(
    client: httpx.AsyncClient, agent1: dict[str, str], maria_email: int
) -> None:
    _, odd = await links(client, agent1, maria_email)
    response = await client.get(odd, headers=agent1)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == b"odd"


async def test_accept_is_not_limited_to_json_and_xml(
    client: httpx.AsyncClient, agent1: dict[str, str], maria_email: int
) -> None:
    first, _ = await links(client, agent1, maria_email)
    response = await client.get(first, headers={**agent1, "Accept": "application/pdf"})
    assert response.status_code == 200
    assert response.content == DATA


async def test_customer_links_carry_the_customer_and_work(
    client: httpx.AsyncClient, maria: dict[str, str], maria_email: int, demo_database: Database
) -> None:
    first, _ = await links(client, maria, maria_email)
    assert first.endswith(f"?customer={await customer_id(demo_database, MARIA)}")
    response = await client.get(first, headers=maria)
    assert response.status_code == 200
    assert response.content == DATA


async def test_attachment_is_visible_exactly_when_its_activity_is(
    client: httpx.AsyncClient,
    refused: Refusals,
    tokens: Tokens,
    maria_email: int,
) -> None:
    first, _ = await links(client, await tokens.user("agent1"), maria_email)
    path = first.split("?", 1)[0]
    await refused(
        "GET", path, 404, "404-101", headers=await tokens.customer("sam.chen@example.org")
    )
    await refused("GET", path, 404, "404-101", headers=await tokens.user("agent2"))  # Sales
    granted = await client.get(path, headers=await tokens.customer(MARIA))
    assert granted.status_code == 200


async def test_attachment_of_another_activity_is_not_found(
    client: httpx.AsyncClient,
    refused: Refusals,
    agent1: dict[str, str],
    maria_email: int,
    demo_database: Database,
    blob_dir: Path,
) -> None:
    other = await incoming_email(demo_database, blob_dir, LEO, subject="Leo's")
    first, _ = await links(client, agent1, maria_email)
    attachment_id = first.rsplit("/", 1)[1]
    body = await refused(
        "GET",
        f"/core/casemgr/v3/activity/{other}/attachment/{attachment_id}",
        404,
        "404-101",
        headers=agent1,
    )
    assert f"'{attachment_id}'" in body["developerMessage"]


async def test_query_parameters_customer_for_customers_only(
    refused: Refusals, client: httpx.AsyncClient, agent1: dict[str, str], maria_email: int
) -> None:
    first, _ = await links(client, agent1, maria_email)
    await refused("GET", f"{first}?customer=1", 400, "400-101", headers=agent1)


async def test_path_ids_are_single_positive_integers(
    refused: Refusals, agent1: dict[str, str], maria_email: int
) -> None:
    for path in (
        f"/core/casemgr/v3/activity/{maria_email},{maria_email + 1}/attachment/1",
        f"/core/casemgr/v3/activity/{maria_email}/attachment/x",
    ):
        await refused("GET", path, 400, "400-108", headers=agent1)
