"""Every rule of the Uniphore Email API field table (specs/uniphore-contacts-email.txt, names
from api-notes §3), over real HTTP: a violation is 400 in the envelope, titled with the field.

Each test walks every field its rule covers against one server, so the table stays one test
per rule; a failure message names the field.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from uniphore_support import (
    EMAIL,
    PAYLOAD_TYPE,
    auth,
    contact,
    problems,
    titles,
    with_value,
    without,
)

from emaildesk.db import tables as t
from emaildesk.db.database import Database

MANDATORY = [
    "data.agentEmailId",
    "data.agentId",
    "data.body",
    "data.convId",
    "data.from",
    "data.lang",
    "data.msgId",
    "data.psEmailId",
    "data.psId",
    "data.sub",
    "data.to",
    "data.ts",
    "metadata.catName",
    "metadata.orgName",
    "metadata.tenantName",
]
# field → (its limit, a value of exactly that length that is otherwise valid)
LIMITS: dict[str, int] = {
    "data.agentId": 50,
    "data.convId": 256,
    "data.msgId": 36,
    "data.psId": 50,
    "data.sub": 78,
    "data.journeyId": 256,
    "metadata.tenantName": 128,
    "metadata.orgName": 128,
    "metadata.catName": 128,
}
ADDRESS_LIMITS = {"data.agentEmailId": 256, "data.psEmailId": 256, "data.from": 256}
MB = 1024 * 1024


def address_of_length(length: int) -> str:
    domain = "@example.com"
    return "a" * (length - len(domain)) + domain


async def stored_messages(database: Database) -> int:
    async with database.engine.connect() as connection:
        query = select(func.count()).select_from(t.analytics_messages)
        return int(await connection.scalar(query) or 0)


async def test_each_mandatory_field_is_required(client: httpx.AsyncClient) -> None:
    for field in MANDATORY:
        response = await client.post(EMAIL, json=without(contact(), field), headers=auth())
        (problem,) = problems(response, 400)
        assert problem["title"] == field, field
        assert problem["type"] == PAYLOAD_TYPE
        assert "required" in problem["detail"], field


async def test_optional_fields_may_be_left_out(client: httpx.AsyncClient) -> None:
    body = without(contact(), "data.journeyId")
    assert "cc" not in body["data"] and "bcc" not in body["data"]
    assert "metadataMap" not in body["metadata"]
    assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202


async def test_empty_identifiers_count_as_missing(client: httpx.AsyncClient) -> None:
    for field in ["data.agentId", "data.convId", "data.msgId", "data.psId", "metadata.orgName"]:
        response = await client.post(EMAIL, json=with_value(contact(), field, ""), headers=auth())
        assert titles(response) == [field], field


async def test_subject_and_body_may_be_empty(client: httpx.AsyncClient) -> None:
    body = with_value(with_value(contact(), "data.sub", ""), "data.body", "")
    assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202


async def test_string_fields_have_the_table_maximum_lengths(client: httpx.AsyncClient) -> None:
    for field, limit in LIMITS.items():
        at_limit = with_value(contact(), field, "x" * limit)
        if field.startswith("metadata."):  # the names must still exist to be accepted
            continue
        assert (await client.post(EMAIL, json=at_limit, headers=auth())).status_code == 202, field
    for field, limit in LIMITS.items():
        over = with_value(contact(), field, "x" * (limit + 1))
        response = await client.post(EMAIL, json=over, headers=auth())
        (problem,) = problems(response, 400)
        assert problem["title"] == field, field
        assert str(limit) in problem["detail"], field


async def test_address_fields_are_at_most_256_characters(client: httpx.AsyncClient) -> None:
    for field, limit in ADDRESS_LIMITS.items():
        body = with_value(contact(), field, address_of_length(limit))
        if field == "data.from":  # stay a participant message of a valid contact
            body = with_value(body, "data.psEmailId", address_of_length(limit))
        assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202, field
        over = with_value(contact(), field, address_of_length(limit + 1))
        assert titles(await client.post(EMAIL, json=over, headers=auth())) == [field]


async def test_address_fields_must_be_email_addresses(client: httpx.AsyncClient) -> None:
    for field in ADDRESS_LIMITS:
        for bad in ["not-an-address", "a@b", "two@@example.com", "a b@example.com", "x@y.com."]:
            body = with_value(contact(), field, bad)
            (problem,) = problems(await client.post(EMAIL, json=body, headers=auth()), 400)
            assert problem["title"] == field, (field, bad)
            assert "email address" in problem["detail"]


async def test_lang_is_one_of_us_en_au_en_gb_en(client: httpx.AsyncClient) -> None:
    for lang in ["us-en", "au-en", "gb-en"]:
        body = with_value(contact(), "data.lang", lang)
        assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202, lang
    bad: list[object] = ["en-us", "US-EN", "fr-fr", "en", "", 1]
    for value in bad:
        body = with_value(contact(), "data.lang", value)
        (problem,) = problems(await client.post(EMAIL, json=body, headers=auth()), 400)
        assert problem["title"] == "data.lang", value
        assert "us-en, au-en, gb-en" in problem["detail"]


async def test_ts_is_a_long(client: httpx.AsyncClient) -> None:
    for good in [0, 1_577_836_800_000, 2**63 - 1]:
        body = with_value(contact(), "data.ts", good)
        assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202, good
    for bad in ["1577836800000", 1577836800000.5, 1.0, True, None, -1, 2**63, [1]]:
        body = with_value(contact(), "data.ts", bad)
        assert titles(await client.post(EMAIL, json=body, headers=auth())) == ["data.ts"], bad


async def test_to_cc_bcc_are_arrays_of_valid_addresses(client: httpx.AsyncClient) -> None:
    good = with_value(contact(), "data.cc", ["c1@example.com", "c2@example.org"])
    good = with_value(good, "data.bcc", ["b@example.net"])
    assert (await client.post(EMAIL, json=good, headers=auth())).status_code == 202
    cases: list[tuple[str, Any, str]] = [
        ("data.to", "ps1@acmecorp.com", "data.to"),  # a string, not an array
        ("data.to", [], "data.to"),  # the To address is mandatory
        ("data.to", ["ok@example.com", "broken"], "data.to[1]"),
        ("data.to", [17], "data.to[0]"),
        ("data.cc", ["nope"], "data.cc[0]"),
        ("data.cc", {"a": "b@example.com"}, "data.cc"),
        ("data.bcc", ["b@example.com", "x" * 250 + "@example.com"], "data.bcc[1]"),
    ]
    for field, value, title in cases:
        body = with_value(contact(), field, value)
        assert titles(await client.post(EMAIL, json=body, headers=auth())) == [title], value


async def test_body_is_at_most_1_mb(client: httpx.AsyncClient, demo_database: Database) -> None:
    exactly = with_value(contact(), "data.body", "é" * (MB // 2))  # 1 MiB of UTF-8
    assert (await client.post(EMAIL, json=exactly, headers=auth())).status_code == 202
    over = with_value(contact(), "data.body", "x" * (MB + 1))
    (problem,) = problems(await client.post(EMAIL, json=over, headers=auth()), 400)
    assert problem["title"] == "data.body"
    assert "1024 KB" in problem["detail"]
    assert await stored_messages(demo_database) == 1


async def test_oversize_request_is_413_unread(
    client: httpx.AsyncClient, demo_database: Database
) -> None:
    huge = with_value(contact(), "data.body", "x" * (3 * MB))
    (problem,) = problems(await client.post(EMAIL, json=huge, headers=auth()), 413)
    assert problem["type"] == PAYLOAD_TYPE
    assert problem["title"] == "body"

    async def streamed() -> Any:  # no Content-Length: refused once the stream passes the cap
        for _ in range(5):
            yield b" " * MB

    response = await client.post(
        EMAIL, content=streamed(), headers={**auth(), "Content-Type": "application/json"}
    )
    assert problems(response, 413)[0]["title"] == "body"
    assert await stored_messages(demo_database) == 0


async def test_metadata_map_has_at_most_50_keys(client: httpx.AsyncClient) -> None:
    fifty = {f"key-{i}": str(i) for i in range(50)}
    ok = contact(metadata={"metadataMap": fifty})
    assert (await client.post(EMAIL, json=ok, headers=auth())).status_code == 202
    fifty_one = {f"key-{i}": str(i) for i in range(51)}
    body = contact(metadata={"metadataMap": fifty_one})
    (problem,) = problems(await client.post(EMAIL, json=body, headers=auth()), 400)
    assert problem["title"] == "metadata.metadataMap"
    assert "50" in problem["detail"]


async def test_metadata_keys_count_per_category_across_contacts(
    client: httpx.AsyncClient,
) -> None:
    first = contact(metadata={"metadataMap": {f"a{i}": "v" for i in range(30)}})
    assert (await client.post(EMAIL, json=first, headers=auth())).status_code == 202
    reused = contact(metadata={"metadataMap": {f"a{i}": "w" for i in range(20, 30)}})
    assert (await client.post(EMAIL, json=reused, headers=auth())).status_code == 202
    more = contact(metadata={"metadataMap": {f"b{i}": "v" for i in range(20)}})
    assert (await client.post(EMAIL, json=more, headers=auth())).status_code == 202  # 50 keys
    one_more = contact(metadata={"metadataMap": {"c": "v"}})
    response = await client.post(EMAIL, json=one_more, headers=auth())
    assert titles(response) == ["metadata.metadataMap"]
    other_category = contact(metadata={"orgName": "Support", "catName": "Email"})
    other_category["metadata"]["metadataMap"] = {"c": "v"}
    assert (await client.post(EMAIL, json=other_category, headers=auth())).status_code == 202


async def test_restricted_metadata_keys_are_refused(client: httpx.AsyncClient) -> None:
    for key in ["convId", "MSGID", "tenantName", "agentEmailId"]:
        body = contact(metadata={"metadataMap": {"fine": "1", key: "x"}})
        (problem,) = problems(await client.post(EMAIL, json=body, headers=auth()), 400)
        assert problem["title"] == "metadata.metadataMap", key
        assert key in problem["detail"]


async def test_metadata_values_are_strings(client: httpx.AsyncClient) -> None:
    cases: list[tuple[object, str]] = [
        ({"n": 1}, "metadata.metadataMap.n"),
        ({"n": None}, "metadata.metadataMap.n"),
        ({"": "empty key"}, "metadata.metadataMap"),
        ({"long": "v" * 1025}, "metadata.metadataMap.long"),
        ("k=v", "metadata.metadataMap"),
    ]
    for value, title in cases:
        body = contact(metadata={"metadataMap": value})
        assert titles(await client.post(EMAIL, json=body, headers=auth())) == [title], value


async def test_every_problem_of_a_body_is_listed(client: httpx.AsyncClient) -> None:
    body = without(with_value(contact(), "data.lang", "xx"), "data.msgId")
    body = with_value(body, "data.sub", "s" * 79)
    listed = titles(await client.post(EMAIL, json=body, headers=auth()))
    assert sorted(listed) == ["data.lang", "data.msgId", "data.sub"]


async def test_unknown_fields_are_ignored(client: httpx.AsyncClient) -> None:
    body = contact(extra="ignored")
    body["metadata"]["contactType"] = "Email"
    assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202


async def test_client_garbage_is_never_500(client: httpx.AsyncClient) -> None:
    cases = [
        (b"{not json", "application/json", 400, "body"),
        (b"[1, 2]", "application/json", 400, "body"),
        (b"", "application/json", 400, "body"),
        (b'{"metadata": 1, "data": "x"}', "application/json", 400, "metadata"),
        (b'{"a": NaN}', "application/json", 400, "body"),
        (b"<contact/>", "application/xml", 415, "content-type"),
        (b"\xff\xfe\x00", "application/json", 400, "body"),
        (b'{"data": ' * 300 + b"1" + b"}" * 300, "application/json", 400, "body"),
    ]
    for content, content_type, status, title in cases:
        response = await client.post(
            EMAIL, content=content, headers={**auth(), "Content-Type": content_type}
        )
        assert titles(response, status)[0] == title, content[:40]
