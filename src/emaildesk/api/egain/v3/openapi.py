"""OpenAPI documentation of the v3 routes: error envelope, `201 + Location`, request bodies.

The routes read their bodies themselves (`bodies.read_v3_body`: five content types, one dict
shape), so FastAPI cannot infer the request bodies; they are declared here through
`openapi_extra`, with the JSON Schema of the pydantic models the routes validate against
(inlined, so each body stands alone in the document) and the seeds' request samples as
examples (api-notes §1.5 reconstructions). Errors are documented with eGain's envelope
(api-notes §1.4) in JSON and XML.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

from pydantic import BaseModel, Field

from emaildesk.api.codecs.body import DATA_PART, DATA_TYPE_PART, MediaKind
from emaildesk.api.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES
from emaildesk.api.negotiation import ResponseFormat

Json = dict[str, Any]
TAGS: Final[list[str | Any]] = ["eGain v3"]
LOCATION_HEADER: Final = "Location"


class EgainErrorDetail(BaseModel):
    key: str = Field(max_length=255)
    value: str = Field(max_length=255)


class EgainErrorBody(BaseModel):
    """eGain's error envelope (api-notes §1.4); XML root `error` in the v12 common namespace."""

    code: str = Field(
        description="`<http status>-<number>`, unique as a whole.",
        pattern=r"^[0-9]{3}-[0-9]+$",
        examples=["400-101"],
    )
    developerMessage: str = Field(  # noqa: N815 - eGain name
        max_length=2048,
        description="The message, in the language negotiated by Accept-Language.",
        examples=["Unsupported query parameter(s) supplied: 'foo'."],
    )
    userMessage: str | None = Field(  # noqa: N815 - eGain name
        default=None,
        max_length=1024,
        description="Only when the request carries `X-egain-error-message: yes`.",
    )
    details: list[EgainErrorDetail] | None = Field(default=None, max_length=30)


_ERROR_TEXT: Final[Mapping[int, str]] = {
    400: "Bad request: a query parameter, the path, or the body breaks a rule "
    "(400-101, 400-102, 400-105, 400-108, 400-112, 400-152, 400-196, 400-10424, 400-2xxx).",
    401: "Missing, unknown or expired bearer token (401-101).",
    403: "Wrong actor type for this URL (403-112), missing permission or licence (403-178, "
    "403-2xxx), or the token lacks the scope (403-197).",
    404: "An id in the path does not exist or is not visible to the caller (404-101).",
    406: "`Accept` names no format we send (406-101) or `Accept-Language` no supported "
    "locale (406-100).",
    413: "The request body exceeds the server's limit (413-100).",
    415: "Unsupported `Content-Type` (415-100).",
    500: "Internal server error (500-100).",
}


def inline_schema(model: type[BaseModel]) -> Json:
    """The model's JSON Schema with every `$ref` replaced by its definition, so the schema can
    sit inside an operation (a `#/$defs/…` reference would resolve against the whole document)."""
    schema = model.model_json_schema(ref_template="#/$defs/{model}")
    definitions: Json = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = resolve(definitions[str(node["$ref"]).rsplit("/", 1)[-1]])
                rest = {k: resolve(v) for k, v in node.items() if k != "$ref"}
                return {**target, **rest}
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: Json = resolve(schema)
    return resolved


def error_responses(*statuses: int) -> dict[int | str, Json]:
    """`responses=` entries for these error statuses, in eGain's envelope (JSON and XML)."""
    xml_schema = {**inline_schema(EgainErrorBody), "xml": {"name": "error"}}
    return {
        status: {
            "model": EgainErrorBody,
            "description": _ERROR_TEXT.get(status, HTTPStatus(status).phrase),
            "content": {MediaKind.XML.value: {"schema": xml_schema}},
        }
        for status in statuses
    }


def created_response(what: str, *, with_body: Json | None = None) -> dict[int | str, Json]:
    """The 201 entry: `Location` of the new resource; a body only when `with_body` is given."""
    response: Json = {
        "description": f"Created. `Location` names the new {what}.",
        "headers": {
            LOCATION_HEADER: {
                "description": f"Path of the new {what}.",
                "schema": {"type": "string"},
            }
        },
    }
    if with_body is not None:
        response["content"] = {
            MediaKind.JSON.value: {"schema": with_body},
            MediaKind.XML.value: {"schema": with_body},
        }
    return {201: response}


def v3_request_body(model: type[BaseModel], xml_root: str, examples: Mapping[str, Json]) -> Json:
    """`openapi_extra` declaring the body in the five content types `read_v3_body` accepts."""
    schema = inline_schema(model)
    wrapped = {
        "type": "object",
        "properties": {
            DATA_PART: {
                "type": "string",
                "description": "The JSON or XML document (the application/json or "
                "application/xml body).",
            },
            DATA_TYPE_PART: {
                "type": "string",
                "enum": [MediaKind.JSON.value, MediaKind.XML.value],
                "description": "Which of the two `data` is.",
            },
        },
    }
    return {
        "requestBody": {
            "required": True,
            "description": "JSON or XML. `text/plain` carries the JSON or XML document itself; "
            "`application/x-www-form-urlencoded` a field `data` with the document and an "
            "optional `data-type`; `multipart/form-data` the parts `data` and `data-type` "
            "(as eGain v12). Attachments are referenced by `altId` (uploaded first with "
            "`POST /core/casemgr/v3/activity/attachment`); multipart file parts are refused.",
            "content": {
                MediaKind.JSON.value: {
                    "schema": schema,
                    "examples": {name: {"value": value} for name, value in examples.items()},
                },
                MediaKind.XML.value: {"schema": {**schema, "xml": {"name": xml_root}}},
                MediaKind.TEXT.value: {"schema": {"type": "string"}},
                MediaKind.FORM.value: {"schema": {**wrapped, "required": [DATA_PART]}},
                MediaKind.MULTIPART.value: {
                    "schema": {**wrapped, "required": [DATA_PART, DATA_TYPE_PART]}
                },
            },
        }
    }


def parameter(
    name: str,
    description: str,
    *,
    where: str = "query",
    required: bool = False,
    enum: list[str] | None = None,
) -> Json:
    """One OpenAPI parameter object of type string."""
    schema: Json = {"type": "string"}
    if enum is not None:
        schema["enum"] = enum
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": schema,
    }


ACCEPT_LANGUAGE: Final = parameter(
    "Accept-Language",
    f"Language of error messages and display values (default {DEFAULT_LOCALE}); another "
    "value is 406-100.",
    where="header",
    enum=list(SUPPORTED_LOCALES),
)
ACCEPT: Final = parameter(
    "Accept",
    "Response format (default application/json); another value is 406-101.",
    where="header",
    enum=[f.media_type for f in ResponseFormat],
)


def parameters(*declared: Json, negotiated: bool = True) -> Json:
    """`openapi_extra` declaring the query parameters a route reads itself, and the
    negotiation headers (the seeds list `Accept` and `Accept-Language` on every operation)."""
    headers = [ACCEPT_LANGUAGE, ACCEPT] if negotiated else [ACCEPT_LANGUAGE]
    return {"parameters": [*declared, *headers]}
