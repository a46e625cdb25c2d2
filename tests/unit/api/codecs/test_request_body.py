"""Reading request bodies (api/codecs/body.py): every content type, its failures, the size limit.

Requests are real Starlette requests over a scripted ASGI receive channel, so the tests can see
how much of a body was pulled before a refusal. Multipart bodies are encoded by httpx, as a
client would send them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.types import Message

from emaildesk.api.codecs.body import (
    MediaKind,
    ParsedBody,
    UploadedPart,
    decode_base64,
    read_body,
)
from emaildesk.domain import errors
from emaildesk.domain.errors import DomainError, ErrorSpec

ALL_KINDS = frozenset(MediaKind)
LIMIT = 64 * 1024


class ScriptedRequest:
    """A Starlette Request whose body arrives in the given chunks; records what was pulled."""

    def __init__(self, chunks: Iterable[bytes], headers: dict[str, str]) -> None:
        self._chunks = list(chunks)
        self.pulled: list[int] = []
        scope: dict[str, Any] = {
            "type": "http",
            "method": "POST",
            "path": "/system/ws/v12/interaction/activity",
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()],
            "app": object(),  # as in a real app: Starlette turns form errors into HTTPException
        }
        self.request = Request(scope, self._receive)

    async def _receive(self) -> Message:
        if not self._chunks:
            return {"type": "http.disconnect"}
        chunk = self._chunks.pop(0)
        self.pulled.append(len(chunk))
        return {"type": "http.request", "body": chunk, "more_body": bool(self._chunks)}


def scripted(body: bytes, content_type: str | None, **headers: str) -> ScriptedRequest:
    all_headers = {"content-length": str(len(body)), **headers}
    if content_type is not None:
        all_headers["content-type"] = content_type
    return ScriptedRequest([body], all_headers)


async def read(
    body: bytes,
    content_type: str | None,
    *,
    allowed: frozenset[MediaKind] = ALL_KINDS,
    max_bytes: int = LIMIT,
    **options: Any,
) -> ParsedBody:
    return await read_body(
        scripted(body, content_type).request, allowed=allowed, max_bytes=max_bytes, **options
    )


async def refused(
    spec: ErrorSpec, body: bytes, content_type: str | None, **options: Any
) -> DomainError:
    with pytest.raises(DomainError) as raised:
        await read(body, content_type, **options)
    assert raised.value.spec is spec, raised.value
    return raised.value


def multipart(
    fields: dict[str, str] | None = None,
    files: list[tuple[str, tuple[Any, ...]]] | None = None,
) -> tuple[bytes, str]:
    """A multipart/form-data body as httpx encodes it (`files` as httpx takes them)."""
    if not files:
        # httpx sends fields alone as form-urlencoded; a `data` part alone is still multipart.
        return _fields_only(fields or {})
    request = httpx.Request("POST", "http://egain.test/", data=fields, files=files)
    return request.read(), request.headers["content-type"]


def _fields_only(fields: dict[str, str], boundary: str = "emaildesk-test") -> tuple[bytes, str]:
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


# --- JSON ---------------------------------------------------------------------------------


async def test_json_object_is_read() -> None:
    parsed = await read(b'{"subject": "Hi", "case": {"id": "1060"}}', "application/json")
    assert parsed == ParsedBody(MediaKind.JSON, {"subject": "Hi", "case": {"id": "1060"}})


async def test_json_with_a_bom_or_another_declared_charset_is_read() -> None:
    assert (await read(b'\xef\xbb\xbf{"a": "b"}', "application/json")).data == {"a": "b"}
    body = '{"s": "日本"}'.encode("utf-16")
    assert (await read(body, "application/json; charset=UTF-16")).data == {"s": "日本"}


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b'"text"',
        b"42",
        b"null",
        b'{"a": }',
        b'{"a": "\xff"}',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": 1' + b"0" * 5000 + b"}",  # beyond Python's int-parsing limit
        b"[" * 100_000 + b"]" * 100_000,  # beyond the interpreter's recursion limit
        b'{"a": ' * 65 + b"1" + b"}" * 65,  # deeper than the codecs' depth limit
    ],
)
async def test_json_that_is_not_one_object_is_malformed(body: bytes) -> None:
    error = await refused(errors.MALFORMED_BODY, body, "application/json", max_bytes=10**6)
    assert error.params == {"format": "application/json"}


async def test_json_at_the_depth_limit_is_read() -> None:
    body = b'{"a": ' * 63 + b"{}" + b"}" * 63
    assert (await read(body, "application/json")).kind is MediaKind.JSON


async def test_an_unknown_json_charset_is_malformed() -> None:
    await refused(errors.MALFORMED_BODY, b"{}", "application/json; charset=x-unknown")


# --- XML and text/plain -------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/xml", "text/xml; charset=UTF-8"])
async def test_xml_records_its_root(content_type: str) -> None:
    body = b'<login xmlns="urn:p"><userName>agent1</userName><password>s</password></login>'
    parsed = await read(body, content_type)
    assert parsed == ParsedBody(
        MediaKind.XML, {"userName": "agent1", "password": "s"}, root="login"
    )


async def test_hostile_xml_is_malformed() -> None:
    body = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    error = await refused(errors.MALFORMED_BODY, body, "application/xml")
    assert error.params == {"format": "application/xml"}


async def test_text_plain_holding_json_is_json() -> None:
    parsed = await read(b'  {"subject": "s"}', "text/plain")
    assert parsed == ParsedBody(MediaKind.TEXT, {"subject": "s"}, root=None)


@pytest.mark.parametrize("lead", [b"", b"\n ", b"\xef\xbb\xbf"])
async def test_text_plain_holding_xml_is_xml(lead: bytes) -> None:
    parsed = await read(lead + b"<activity><subject>s</subject></activity>", "text/plain")
    assert parsed == ParsedBody(MediaKind.TEXT, {"subject": "s"}, root="activity")


@pytest.mark.parametrize(
    ("body", "reported"),
    [(b"subject=hello", "application/json"), (b"<activity>", "application/xml")],
)
async def test_text_plain_that_is_neither_is_malformed_as_what_it_looks_like(
    body: bytes, reported: str
) -> None:
    error = await refused(errors.MALFORMED_BODY, body, "text/plain")
    assert error.params == {"format": reported}


# --- form-urlencoded ----------------------------------------------------------------------


async def test_form_fields_are_a_flat_dict() -> None:
    body = b"grant_type=client_credentials&scope=a+b&client_id=%C3%A9"
    parsed = await read(body, "application/x-www-form-urlencoded")
    assert parsed == ParsedBody(
        MediaKind.FORM, {"grant_type": "client_credentials", "scope": "a b", "client_id": "é"}
    )


async def test_a_form_field_sent_twice_is_refused_by_name() -> None:
    error = await refused(
        errors.INVALID_ATTRIBUTE, b"scope=a&scope=b", "application/x-www-form-urlencoded"
    )
    assert error.params == {"attribute": "scope"}


# --- multipart/form-data (eGain v12 create activity) --------------------------------------


async def test_multipart_reads_the_data_part_and_every_attachment() -> None:
    body, content_type = multipart(
        {"data-type": "application/json", "data": '{"subject": "Invoice"}'},
        [
            ("attachment1", ("invoice.pdf", b"%PDF-1.7 binary\x00\xff", "application/pdf")),
            ("inline", ("logo.png", b"\x89PNG", "image/png", {"Content-ID": " <logo@site> "})),
            ("noType", ("notes", b"plain")),
        ],
    )
    parsed = await read(body, content_type)
    assert parsed.kind is MediaKind.MULTIPART
    assert parsed.data == {"subject": "Invoice"}
    assert parsed.root is None
    assert parsed.parts == [
        UploadedPart(
            "attachment1", "invoice.pdf", "application/pdf", b"%PDF-1.7 binary\x00\xff", None
        ),
        UploadedPart("inline", "logo.png", "image/png", b"\x89PNG", "logo@site"),
        UploadedPart("noType", "notes", "application/octet-stream", b"plain", None),
    ]


async def test_multipart_xml_data_records_its_root() -> None:
    body, content_type = multipart(
        {"data": "<activity><subject>s</subject></activity>", "data-type": "application/xml"}
    )
    parsed = await read(body, content_type)
    assert (parsed.root, parsed.data, parsed.parts) == ("activity", {"subject": "s"}, [])


async def test_multipart_data_sent_as_a_file_part_is_read() -> None:
    body, content_type = multipart(
        {"data-type": "application/json; charset=UTF-8"},
        [("data", ("activity.json", b'{"subject": "s"}', "application/json"))],
    )
    parsed = await read(body, content_type)
    assert (parsed.data, parsed.parts) == ({"subject": "s"}, [])


async def test_multipart_xml_data_in_shift_jis_keeps_its_text() -> None:
    document = (
        '<?xml version="1.0" encoding="Shift_JIS"?><activity><subject>件名</subject></activity>'
    )
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="data-type"\r\n\r\n'
            f"application/xml\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="data"\r\n\r\n'
        ).encode()
        + document.encode("shift_jis")
        + f"\r\n--{boundary}--\r\n".encode()
    )
    parsed = await read(body, f"multipart/form-data; boundary={boundary}")
    assert parsed.data == {"subject": "件名"}


async def test_multipart_without_data_is_refused() -> None:
    body, content_type = multipart({"data-type": "application/json"})
    error = await refused(errors.REQUIRED_ATTRIBUTE, body, content_type)
    assert error.params == {"attribute": "data"}
    # With neither part, the activity is what is reported missing.
    body, content_type = multipart({})
    error = await refused(errors.REQUIRED_ATTRIBUTE, body, content_type)
    assert error.params == {"attribute": "data"}


async def test_multipart_without_data_type_is_refused() -> None:
    body, content_type = multipart({"data": "{}"})
    error = await refused(errors.REQUIRED_ATTRIBUTE, body, content_type)
    assert error.params == {"attribute": "data-type"}


@pytest.mark.parametrize(
    "data_type", ["text/plain", "json", "", "application/x-www-form-urlencoded"]
)
async def test_multipart_with_another_data_type_is_refused(data_type: str) -> None:
    body, content_type = multipart({"data": "{}", "data-type": data_type})
    error = await refused(errors.INVALID_ENUM_VALUE, body, content_type)
    assert error.params == {
        "attribute": "data-type",
        "values": "application/json, application/xml",
    }


async def test_multipart_data_sent_twice_is_refused() -> None:
    body, content_type = multipart(
        {"data-type": "application/json"},
        [("data", ("a.json", b"{}", "application/json")), ("data", ("b.json", b"{}", "x/y"))],
    )
    error = await refused(errors.INVALID_ATTRIBUTE, body, content_type)
    assert error.params == {"attribute": "data"}


async def test_multipart_text_field_that_is_not_data_is_refused_by_name() -> None:
    body, content_type = multipart({"data": "{}", "data-type": "application/json", "note": "x"})
    error = await refused(errors.INVALID_ATTRIBUTE, body, content_type)
    assert error.params == {"attribute": "note"}


async def test_multipart_with_malformed_data_is_malformed_in_its_data_type() -> None:
    body, content_type = multipart({"data": "[1]", "data-type": "application/json"})
    error = await refused(errors.MALFORMED_BODY, body, content_type)
    assert error.params == {"format": "application/json"}


async def test_multipart_with_too_many_attachments_is_a_limit() -> None:
    files = [(f"f{n}", (f"{n}.txt", b"x", "text/plain")) for n in range(4)]
    body, content_type = multipart({"data": "{}", "data-type": "application/json"}, files)
    error = await refused(errors.LIMIT_EXCEEDED, body, content_type, max_files=3)
    assert error.params == {"limit": "attachments", "value": "3"}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"--x\r\nno headers here", "multipart/form-data; boundary=x"),
        (
            b"--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--\r\n",
            "multipart/form-data; boundary=x",
        ),
        (b"anything", "multipart/form-data"),  # no boundary
    ],
)
async def test_broken_multipart_is_malformed(body: bytes, content_type: str) -> None:
    error = await refused(errors.MALFORMED_BODY, body, content_type)
    assert error.params == {"format": "multipart/form-data"}


# --- content types and presence -----------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/html", "application/octet-stream", "json", ";"])
async def test_unsupported_content_type_names_the_allowed_ones(content_type: str) -> None:
    error = await refused(
        errors.UNSUPPORTED_CONTENT_TYPE,
        b"{}",
        content_type,
        allowed=frozenset({MediaKind.JSON, MediaKind.XML}),
    )
    assert error.params == {
        "value": content_type,
        "values": "application/json, application/xml, text/xml",
    }


async def test_a_supported_type_the_route_does_not_accept_is_unsupported() -> None:
    error = await refused(
        errors.UNSUPPORTED_CONTENT_TYPE,
        b"<a/>",
        "application/xml",
        allowed=frozenset({MediaKind.FORM}),
    )
    assert error.params == {
        "value": "application/xml",
        "values": "application/x-www-form-urlencoded",
    }


async def test_a_body_without_content_type_is_unsupported() -> None:
    error = await refused(errors.UNSUPPORTED_CONTENT_TYPE, b"{}", None)
    assert error.params["value"] == ""


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "application/xml", "text/plain"]
)
async def test_a_missing_body_is_required(content_type: str | None) -> None:
    error = await refused(errors.REQUIRED_ATTRIBUTE, b"", content_type)
    assert error.params == {"attribute": "body"}
    await refused(errors.REQUIRED_ATTRIBUTE, b"  \r\n", content_type)


async def test_an_empty_form_is_a_missing_body() -> None:
    error = await refused(errors.REQUIRED_ATTRIBUTE, b"", "application/x-www-form-urlencoded")
    assert error.params == {"attribute": "body"}


# --- size limit ---------------------------------------------------------------------------


async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    chunks = ScriptedRequest(
        [b"{}"], {"content-type": "application/json", "content-length": str(LIMIT + 1)}
    )
    with pytest.raises(DomainError) as raised:
        await read_body(chunks.request, allowed=ALL_KINDS, max_bytes=LIMIT)
    assert raised.value.spec is errors.PAYLOAD_TOO_LARGE
    assert raised.value.params == {"limit": str(LIMIT)}
    assert chunks.pulled == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/xml", "text/plain", "application/x-www-form-urlencoded"],
)
async def test_a_streamed_body_over_the_limit_is_refused_while_streaming(content_type: str) -> None:
    # No Content-Length (chunked transfer): the limit is enforced on the bytes as they arrive.
    stream = ScriptedRequest([b"a" * 1024] * 1000, {"content-type": content_type})
    with pytest.raises(DomainError) as raised:
        await read_body(stream.request, allowed=ALL_KINDS, max_bytes=4096)
    assert raised.value.spec is errors.PAYLOAD_TOO_LARGE
    assert len(stream.pulled) == 5  # the chunk that crossed the limit is the last one pulled


async def test_a_streamed_multipart_over_the_limit_is_refused_while_streaming() -> None:
    body, content_type = multipart(
        {"data": "{}", "data-type": "application/json"},
        [("big", ("big.bin", b"x" * 200_000, "application/octet-stream"))],
    )
    chunks = [body[i : i + 1024] for i in range(0, len(body), 1024)]
    stream = ScriptedRequest(chunks, {"content-type": content_type})
    with pytest.raises(DomainError) as raised:
        await read_body(stream.request, allowed=ALL_KINDS, max_bytes=8192)
    assert raised.value.spec is errors.PAYLOAD_TOO_LARGE
    assert len(stream.pulled) == 9
    assert len(stream.pulled) < len(chunks)


async def test_a_body_of_exactly_the_limit_is_read() -> None:
    body = json.dumps({"s": "x" * 100}).encode()
    parsed = await read(body, "application/json", max_bytes=len(body))
    assert parsed.data == {"s": "x" * 100}


# --- base64 -------------------------------------------------------------------------------


def test_base64_with_line_breaks_is_decoded() -> None:
    assert decode_base64("aGVs\r\nbG8g\n d29y bGQ=", "attachments.attachment.content") == (
        b"hello world"
    )


@pytest.mark.parametrize("value", ["aGVsbG8", "aGVs*G8=", "aGVsbG8==", "aGVsbG8=x", "é===", "a"])
def test_invalid_base64_names_the_attribute(value: str) -> None:
    with pytest.raises(DomainError) as raised:
        decode_base64(value, "attachments.attachment.content")
    assert raised.value.spec is errors.INVALID_ATTRIBUTE
    assert raised.value.params == {"attribute": "attachments.attachment.content"}
