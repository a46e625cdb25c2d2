"""Conformance: `POST /core/casemgr/v3/activity/attachment`, the upload that yields the `altId`
the v3 create APIs reference (api-notes §1.5), and `GET` of the upload by its uploader."""

from __future__ import annotations

from pathlib import Path

import httpx
from defusedxml.ElementTree import fromstring
from egain_v3_support import (
    MARIA,
    UPLOAD_URL,
    Refusals,
    Tokens,
    blob_files,
    set_partition,
)
from fastapi import FastAPI

from emaildesk.db.database import Database

ATTACHMENT_NS = "{http://bindings.egain.com/ws/model/v12/gen/interaction/attachment}"
DATA = b"%PDF-1.7\n\x00\x01\x02 receipt bytes \xff"


async def test_upload_answers_the_alt_id_with_location(
    client: httpx.AsyncClient, maria: dict[str, str], demo_database: Database, blob_dir: Path
) -> None:
    response = await client.post(
        UPLOAD_URL,
        files={"attachment": ("receipt.pdf", DATA, "application/pdf")},
        headers=maria,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"altId", "name", "contentType", "size"}
    assert (body["name"], body["contentType"], body["size"]) == (
        "receipt.pdf",
        "application/pdf",
        len(DATA),
    )
    assert response.headers["location"] == f"{UPLOAD_URL}/{body['altId']}"
    async with demo_database.uow() as uow:
        stored = await uow.attachments.by_alt_id(body["altId"])
    assert stored is not None
    assert stored.activity_id is None
    assert len(blob_files(blob_dir)) == 1
    download = await client.get(response.headers["location"], headers=maria)
    assert download.status_code == 200
    assert download.content == DATA


async def test_upload_answers_in_xml_on_accept_application_xml(
    client: httpx.AsyncClient, agent1: dict[str, str]
) -> None:
    response = await client.post(
        UPLOAD_URL,
        files={"file": ("notes.txt", b"hello", "text/plain")},
        headers={**agent1, "Accept": "application/xml"},
    )
    assert response.status_code == 201, response.text
    root = fromstring(response.content)
    assert root.tag == f"{ATTACHMENT_NS}attachment"
    assert root.findtext(f"{ATTACHMENT_NS}name") == "notes.txt"
    assert root.findtext(f"{ATTACHMENT_NS}size") == "5"


async def test_customers_users_and_client_applications_may_upload(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    for headers in (
        await tokens.customer(MARIA),
        await tokens.user("agent1"),
        await tokens.integrator(),
    ):
        response = await client.post(
            UPLOAD_URL, files={"attachment": ("a.txt", b"a", "text/plain")}, headers=headers
        )
        assert response.status_code == 201, response.text


async def test_upload_needs_the_manage_scope(refused: Refusals, tokens: Tokens) -> None:
    read_only = await tokens.integrator(scope="app.core.casemgr.read")
    await refused(
        "POST",
        UPLOAD_URL,
        403,
        "403-197",
        files={"attachment": ("a.txt", b"a", "text/plain")},
        headers=read_only,
    )


async def test_blocked_file_types_are_refused_at_upload(
    refused: Refusals, maria: dict[str, str]
) -> None:
    for name in ("setup.exe", "SCRIPT.JS", "virus.exe.", "run.bat "):
        body = await refused(
            "POST",
            UPLOAD_URL,
            400,
            "400-2022",
            files={"attachment": (name, b"MZ", "application/octet-stream")},
            headers=maria,
        )
        assert "are not allowed" in body["developerMessage"]


async def test_size_limit_is_the_maximum_email_size(
    client: httpx.AsyncClient, refused: Refusals, maria: dict[str, str], demo_database: Database
) -> None:
    await set_partition(demo_database, max_email_size_mb=1)
    limit = 1024 * 1024
    await refused(
        "POST",
        UPLOAD_URL,
        400,
        "400-2020",
        files={"attachment": ("big.bin", b"x" * (limit + 1), "application/octet-stream")},
        headers=maria,
    )
    response = await client.post(
        UPLOAD_URL,
        files={"attachment": ("fits.bin", b"x" * limit, "application/octet-stream")},
        headers=maria,
    )
    assert response.status_code == 201, response.text


async def test_request_larger_than_the_server_limit_is_refused(
    refused: Refusals, maria: dict[str, str], demo_app: FastAPI
) -> None:
    demo_app.state.runtime.settings.max_request_bytes = 4096
    await refused(
        "POST",
        UPLOAD_URL,
        413,
        "413-100",
        files={"attachment": ("big.bin", b"x" * 8192, "application/octet-stream")},
        headers=maria,
    )


async def test_exactly_one_file_is_uploaded(refused: Refusals, maria: dict[str, str]) -> None:
    two = [
        ("attachment", ("a.txt", b"a", "text/plain")),
        ("attachment", ("b.txt", b"b", "text/plain")),
    ]
    await refused("POST", UPLOAD_URL, 400, "400-10424", files=two, headers=maria)
    empty = b"--b0undary--\r\n"  # RFC 2046 §5.1.1: a multipart body with no part
    await refused(
        "POST",
        UPLOAD_URL,
        400,
        "400-2001",
        content=empty,
        headers={**maria, "Content-Type": "multipart/form-data; boundary=b0undary"},
    )


async def test_the_file_part_is_named_attachment_or_file(
    refused: Refusals, maria: dict[str, str]
) -> None:
    body = await refused(
        "POST",
        UPLOAD_URL,
        400,
        "400-152",
        files={"upload": ("a.txt", b"a", "text/plain")},
        headers=maria,
    )
    assert "'upload'" in body["developerMessage"]


async def test_text_fields_are_refused_by_name(refused: Refusals, maria: dict[str, str]) -> None:
    body = await refused(
        "POST",
        UPLOAD_URL,
        400,
        "400-152",
        data={"comment": "hi"},
        files={"attachment": ("a.txt", b"a", "text/plain")},
        headers=maria,
    )
    assert "'comment'" in body["developerMessage"]


async def test_file_name_is_required(refused: Refusals, maria: dict[str, str]) -> None:
    body = await refused(
        "POST",
        UPLOAD_URL,
        400,
        "400-2001",
        files={"attachment": ("", b"a", "text/plain")},
        headers=maria,
    )
    assert "'fileName'" in body["developerMessage"]


async def test_file_name_is_at_most_255_characters(
    refused: Refusals, maria: dict[str, str]
) -> None:
    await refused(
        "POST",
        UPLOAD_URL,
        400,
        "400-2003",
        files={"attachment": ("n" * 252 + ".txt", b"a", "text/plain")},
        headers=maria,
    )


async def test_content_type_must_be_a_media_type(refused: Refusals, maria: dict[str, str]) -> None:
    await refused(
        "POST",
        UPLOAD_URL,
        400,
        "400-152",
        files={"attachment": ("a.txt", b"a", "not a media type")},
        headers=maria,
    )


async def test_directory_part_of_the_file_name_is_dropped(
    client: httpx.AsyncClient, maria: dict[str, str]
) -> None:
    response = await client.post(
        UPLOAD_URL,
        files={"attachment": ("C:\\Users\\maria\\..\\report.txt", b"r", "text/plain")},
        headers=maria,
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "report.txt"


async def test_only_multipart_form_data_is_accepted(
    refused: Refusals, maria: dict[str, str]
) -> None:
    await refused("POST", UPLOAD_URL, 415, "415-100", json={"altId": "x"}, headers=maria)


async def test_an_upload_is_visible_to_its_uploader_only(
    client: httpx.AsyncClient, refused: Refusals, maria: dict[str, str], sam: dict[str, str]
) -> None:
    response = await client.post(
        UPLOAD_URL, files={"attachment": ("a.txt", b"private", "text/plain")}, headers=maria
    )
    location = response.headers["location"]
    await refused("GET", location, 404, "404-101", headers=sam)
    await refused("GET", f"{UPLOAD_URL}/no-such-upload", 404, "404-101", headers=maria)
