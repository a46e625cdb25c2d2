"""Read a v3 create body in any of the five content types the v3 specs list, as one dict.

Seeds 000 and 004 list `application/json`, `application/xml`, `text/plain`,
`application/x-www-form-urlencoded` and `multipart/form-data` as request media types, but
describe only the JSON/XML body ("Request body can be in either XML or JSON format"). What the
other three carry is our decision [I], chosen to match what eGain v12 clients already send:

- `text/plain`: the JSON or XML document itself (the first character decides, `codecs.body`);
- `application/x-www-form-urlencoded`: a field `data` holding the JSON or XML document, and
  optionally `data-type` (`application/json` | `application/xml`) naming which; without it
  the document's first character decides, as for text/plain. No other field is accepted;
- `multipart/form-data`: the v12 layout (`data` part + `data-type` part). v3 references
  attachments by `altId` only (uploaded before, `POST /core/casemgr/v3/activity/attachment`),
  so a file part is refused (400-152 naming the part) rather than silently dropped.
"""

from __future__ import annotations

import re
from typing import Any, Final

from fastapi import Request

from emaildesk.api.codecs.body import (
    DATA_PART,
    DATA_TYPE_PART,
    DATA_TYPES,
    MediaKind,
    ParsedBody,
    parse_json_object,
)
from emaildesk.api.codecs.xml import parse_xml
from emaildesk.api.egain.common import body_of
from emaildesk.domain import errors

V3_BODY_KINDS: Final = frozenset(
    {MediaKind.JSON, MediaKind.XML, MediaKind.TEXT, MediaKind.FORM, MediaKind.MULTIPART}
)
FORM_FIELDS: Final = frozenset({DATA_PART, DATA_TYPE_PART})
# XML 1.0 §2.8 EncodingDecl, at the very start of the document (after an optional BOM).
_DECLARED_ENCODING = re.compile(
    r"\A\ufeff?<\?xml[ \t\r\n][^>]*?encoding[ \t\r\n]*=[ \t\r\n]*"
    r"[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']"
)


async def read_v3_body(request: Request) -> ParsedBody:
    """The body in eGain's dict shape, whatever of the five content types carried it."""
    body = await body_of(request, V3_BODY_KINDS)
    if body.kind is MediaKind.MULTIPART:
        if body.parts:
            raise errors.INVALID_ATTRIBUTE(attribute=body.parts[0].field_name)
        return body
    if body.kind is MediaKind.FORM:
        return _form_document(body.data)
    return body


def _form_document(fields: dict[str, Any]) -> ParsedBody:
    for name in fields:
        if name not in FORM_FIELDS:
            raise errors.INVALID_ATTRIBUTE(attribute=name)
    document = str(fields.get(DATA_PART) or "")
    if not document.strip():
        raise errors.REQUIRED_ATTRIBUTE(attribute=DATA_PART)
    declared = fields.get(DATA_TYPE_PART)
    if declared is not None:
        kind = DATA_TYPES.get(str(declared).partition(";")[0].strip().lower())
        if kind is None:
            raise errors.INVALID_ENUM_VALUE(attribute=DATA_TYPE_PART, values=", ".join(DATA_TYPES))
    else:
        kind = MediaKind.XML if document.lstrip().startswith("<") else MediaKind.JSON
    if kind is MediaKind.XML:
        root, data = parse_xml(_xml_bytes(document))
        return ParsedBody(MediaKind.FORM, data, root)
    return ParsedBody(MediaKind.FORM, parse_json_object(document.encode("utf-8")))


def _xml_bytes(document: str) -> bytes:
    """A form field is text already (RFC 3986 percent-decoding, UTF-8); an XML declaration
    naming another encoding is honoured by encoding the text in it, so the parser reads the
    characters the client wrote."""
    declared = _DECLARED_ENCODING.match(document)
    if declared is None:
        return document.encode("utf-8")
    try:
        return document.encode(declared.group(1))
    except (LookupError, UnicodeEncodeError):
        raise errors.MALFORMED_BODY(format=MediaKind.XML.value) from None
