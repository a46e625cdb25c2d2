"""Read a request body of any eGain content type into one dict shape, within a byte limit.

Routes validate one shape whatever arrived: JSON objects, eGain XML (via `codecs.xml`),
multipart/form-data (eGain v12 create activity: a `data` part holding the activity as JSON or
XML, a `data-type` part naming which, and attachment parts), form-urlencoded fields, and
text/plain (which the v3 specs list as a request content type; its body is JSON or XML).

Refusals are domain errors, so every dialect renders them in its own envelope: an unsupported
or missing Content-Type is 415-100 naming the types the route accepts; a body over the limit is
413-100, refused on its Content-Length before reading and otherwise as soon as the streamed
bytes pass the limit (the rest is never read); unreadable JSON/XML/multipart is 400-2000; a
missing or empty body is REQUIRED_ATTRIBUTE with attribute `body` (400-2001): every endpoint
that reads a body requires one (eGain: "The request body is mandatory"), and naming what is
missing tells the client more than calling nothing "malformed".

The body can be read once: `read_body` must be the only reader of the request's stream.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Message

from emaildesk.api.codecs.xml import DEFAULT_MAX_DEPTH, parse_xml
from emaildesk.domain import errors


class MediaKind(Enum):
    """The request body formats emaildesk reads; the value is the canonical media type."""

    JSON = "application/json"
    XML = "application/xml"
    MULTIPART = "multipart/form-data"
    FORM = "application/x-www-form-urlencoded"
    TEXT = "text/plain"


# Media type (lower case, without parameters) → kind. text/xml is XML's older registration
# (RFC 7303 §4.1), still sent by SOAP-era clients.
MEDIA_KINDS: Final[dict[str, MediaKind]] = {
    "application/json": MediaKind.JSON,
    "application/xml": MediaKind.XML,
    "text/xml": MediaKind.XML,
    "multipart/form-data": MediaKind.MULTIPART,
    "application/x-www-form-urlencoded": MediaKind.FORM,
    "text/plain": MediaKind.TEXT,
}

# eGain v12 create activity, multipart/form-data: the activity part and the part naming its type.
DATA_PART: Final = "data"
DATA_TYPE_PART: Final = "data-type"
DATA_TYPES: Final[dict[str, MediaKind]] = {
    "application/json": MediaKind.JSON,
    "application/xml": MediaKind.XML,
}
# Attachments per request. eGain publishes no count limit ([U] api-notes §1.5); the size limits
# of the partition settings are what really bound a request, this only stops a flood of parts.
DEFAULT_MAX_FILES: Final = 100
# Non-file parts: `data` and `data-type`, with room for a client that repeats one by mistake
# (which is then refused by name rather than as "too many fields").
MAX_FORM_FIELDS: Final = 32
DEFAULT_OCTET_STREAM: Final = "application/octet-stream"

_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([A-Za-z0-9._:-]+)\"?", re.IGNORECASE)
_UTF8_NAMES: Final = frozenset({"utf-8", "utf8"})
_DECLARED_XML_ENCODING = re.compile(
    r"\A\ufeff?<\?xml[ \t\r\n][^>]*?encoding[ \t\r\n]*=[ \t\r\n]*"
    r"[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']"
)


@dataclass(frozen=True)
class UploadedPart:
    """One file part of a multipart body (an attachment), read into memory."""

    field_name: str
    file_name: str
    content_type: str
    data: bytes
    content_id: str | None  # from the part's Content-ID header, without the angle brackets


@dataclass(frozen=True)
class ParsedBody:
    """A request body in the dict shape of eGain's JSON.

    `kind` is what the Content-Type said (TEXT stays TEXT whether JSON or XML was inside);
    `root` is the XML root element's local name when the data came from XML, else None.
    """

    kind: MediaKind
    data: dict[str, Any]
    root: str | None = None
    parts: list[UploadedPart] = field(default_factory=list)


async def read_body(
    request: Request,
    *,
    allowed: frozenset[MediaKind],
    max_bytes: int,
    max_files: int = DEFAULT_MAX_FILES,
) -> ParsedBody:
    """Read and parse the body of `request`, refusing what the route does not accept."""
    _refuse_declared_length(request, max_bytes)
    header = request.headers.get("content-type", "")
    media_type, _, _ = header.partition(";")
    kind = MEDIA_KINDS.get(media_type.strip().lower())
    if kind is None or kind not in allowed:
        if not header.strip() and not (await _read_all(request, max_bytes)).strip():
            raise errors.REQUIRED_ATTRIBUTE(attribute="body")
        raise errors.UNSUPPORTED_CONTENT_TYPE(value=header, values=_media_types(allowed))
    charset = _charset(header)
    if kind is MediaKind.MULTIPART:
        return await _read_multipart(request, max_bytes, max_files)
    if kind is MediaKind.FORM:
        return ParsedBody(kind, await _read_form(request, max_bytes))
    body = await _read_all(request, max_bytes)
    if not body.strip():
        raise errors.REQUIRED_ATTRIBUTE(attribute="body")
    if kind is MediaKind.JSON:
        return ParsedBody(kind, parse_json_object(body, charset))
    if kind is MediaKind.XML:
        root, data = parse_xml(body)
        return ParsedBody(kind, data, root)
    # text/plain: JSON or XML. A JSON text never starts with "<", an XML document always does
    # (after its BOM and whitespace), so the first character decides and errors name the
    # format the client evidently meant.
    if body.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
        root, data = parse_xml(body)
        return ParsedBody(kind, data, root)
    return ParsedBody(kind, parse_json_object(body, charset))


def decode_base64(value: str, attribute: str) -> bytes:
    """Strict base64 (RFC 4648 §4) of a body attribute; line breaks and spaces are allowed.

    Anything else outside the alphabet, or wrong padding, is INVALID_ATTRIBUTE naming the
    attribute, rather than bytes silently dropped by a lenient decoder.
    """
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise errors.INVALID_ATTRIBUTE(attribute=attribute) from None


def parse_json_object(body: bytes, charset: str | None = None) -> dict[str, Any]:
    """A JSON object (RFC 8259), or MALFORMED_BODY: arrays, scalars, NaN and bad text included.

    RFC 8259 §8.1: JSON is UTF-8 and a leading BOM may be ignored; another `charset` parameter
    is honoured rather than refused, since it says exactly how to read the bytes.
    """
    encoding = "utf-8-sig" if charset is None or charset.lower() in _UTF8_NAMES else charset
    try:
        data = json.loads(body.decode(encoding), parse_constant=_refuse_constant)
    except (ValueError, LookupError, RecursionError) as exc:
        raise errors.MALFORMED_BODY(format=MediaKind.JSON.value) from exc
    if not isinstance(data, dict) or _depth(data) > DEFAULT_MAX_DEPTH:
        raise errors.MALFORMED_BODY(format=MediaKind.JSON.value)
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 §6)")


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, counted without recursion (the root object is 1)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _refuse_declared_length(request: Request, max_bytes: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise errors.PAYLOAD_TOO_LARGE(limit=max_bytes)


def _charset(header: str) -> str | None:
    match = _CHARSET.search(header)
    return match.group(1) if match else None


def _media_types(allowed: frozenset[MediaKind]) -> str:
    return ", ".join(media for media, kind in MEDIA_KINDS.items() if kind in allowed)


async def _chunks(request: Request, max_bytes: int) -> AsyncGenerator[bytes, None]:
    """The body as it streams in; PAYLOAD_TOO_LARGE the moment it passes `max_bytes`."""
    received = 0
    async with aclosing(request.stream()) as stream:
        async for chunk in stream:
            received += len(chunk)
            if received > max_bytes:
                raise errors.PAYLOAD_TOO_LARGE(limit=max_bytes)
            yield chunk


async def _read_all(request: Request, max_bytes: int) -> bytes:
    return b"".join([chunk async for chunk in _chunks(request, max_bytes)])


def _limited_request(request: Request, chunks: AsyncIterator[bytes]) -> Request:
    """A view of `request` whose receive channel is the size-limited stream `chunks`.

    Starlette's form parsers pull from the request's receive channel; handing them this request
    makes them stop at the limit instead of spooling whatever the client sends.
    """

    async def receive() -> Message:
        try:
            body = await anext(chunks)
        except StopAsyncIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": body, "more_body": True}

    return Request(request.scope, receive)


async def _read_form(request: Request, max_bytes: int) -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        async with (
            aclosing(_chunks(request, max_bytes)) as chunks,
            _limited_request(request, chunks).form(
                max_fields=MAX_FORM_FIELDS, max_part_size=max_bytes
            ) as form,
        ):
            for name, value in form.multi_items():
                # RFC 6749 §3.1 (the form-bodied endpoints are OAuth's): a parameter sent twice
                # is ambiguous, so it is refused by name.
                if name in fields or not isinstance(value, str):
                    raise errors.INVALID_ATTRIBUTE(attribute=name)
                fields[name] = value
    except (MultiPartException, HTTPException) as exc:
        raise errors.MALFORMED_BODY(format=MediaKind.FORM.value) from exc
    if not fields:
        raise errors.REQUIRED_ATTRIBUTE(attribute="body")
    return fields


async def _read_multipart(request: Request, max_bytes: int, max_files: int) -> ParsedBody:
    data_parts: list[str | UploadFile] = []
    data_types: list[str | UploadFile] = []
    parts: list[UploadedPart] = []
    try:
        async with (
            aclosing(_chunks(request, max_bytes)) as chunks,
            _limited_request(request, chunks).form(
                max_files=max_files, max_fields=MAX_FORM_FIELDS, max_part_size=max_bytes
            ) as form,
        ):
            for name, value in form.multi_items():
                if name == DATA_PART:
                    data_parts.append(value)
                elif name == DATA_TYPE_PART:
                    data_types.append(value)
                elif isinstance(value, UploadFile):
                    parts.append(await _uploaded_part(name, value))
                else:
                    # Attachments are file parts (a filename in Content-Disposition); a stray
                    # text field would otherwise be an attachment silently dropped.
                    raise errors.INVALID_ATTRIBUTE(attribute=name)
            data = await _single_part(data_parts, DATA_PART)
            data_kind = await _data_kind(data_types)
    except (MultiPartException, HTTPException) as exc:
        detail = exc.message if isinstance(exc, MultiPartException) else str(exc.detail)
        if detail.startswith("Too many files"):
            raise errors.LIMIT_EXCEEDED(limit="attachments", value=max_files) from exc
        raise errors.MALFORMED_BODY(format=MediaKind.MULTIPART.value) from exc
    if data_kind is MediaKind.JSON:
        return ParsedBody(MediaKind.MULTIPART, parse_json_object(_as_bytes(data)), None, parts)
    root, content = parse_xml(_as_xml_bytes(data))
    return ParsedBody(MediaKind.MULTIPART, content, root, parts)


async def _uploaded_part(name: str, upload: UploadFile) -> UploadedPart:
    content_id = upload.headers.get("content-id")
    if content_id is not None:
        content_id = content_id.strip().removeprefix("<").removesuffix(">").strip() or None
    return UploadedPart(
        field_name=name,
        file_name=upload.filename or "",
        content_type=upload.content_type or DEFAULT_OCTET_STREAM,
        data=await upload.read(),
        content_id=content_id,
    )


async def _single_part(values: list[str | UploadFile], name: str) -> str | bytes:
    if not values:
        raise errors.REQUIRED_ATTRIBUTE(attribute=name)
    if len(values) > 1:
        raise errors.INVALID_ATTRIBUTE(attribute=name)
    value = values[0]
    return await value.read() if isinstance(value, UploadFile) else value


async def _data_kind(values: list[str | UploadFile]) -> MediaKind:
    raw = await _single_part(values, DATA_TYPE_PART)
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    kind = DATA_TYPES.get(text.partition(";")[0].strip().lower())
    if kind is None:
        raise errors.INVALID_ENUM_VALUE(attribute=DATA_TYPE_PART, values=", ".join(DATA_TYPES))
    return kind


def _as_bytes(data: str | bytes) -> bytes:
    return data if isinstance(data, bytes) else data.encode("utf-8")


def _as_xml_bytes(data: str | bytes) -> bytes:
    """The `data` part's bytes as the client sent them, for the XML parser to decode.

    A part without a filename reaches us as text Starlette decoded as UTF-8, or as Latin-1
    when the bytes were not UTF-8. An XML document declaring another encoding (Shift_JIS from a
    Japanese client) was not UTF-8, so its Latin-1 text maps back to the original bytes and the
    parser then honours the declaration.
    """
    if isinstance(data, bytes):
        return data
    declared = _DECLARED_XML_ENCODING.match(data)
    if declared is not None and declared.group(1).lower() not in _UTF8_NAMES:
        try:
            return data.encode("latin-1")
        except UnicodeEncodeError:
            pass
    return data.encode("utf-8")
