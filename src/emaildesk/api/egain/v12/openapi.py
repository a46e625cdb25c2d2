"""OpenAPI documentation of the eGain v12 routes: request bodies, response headers, errors.

The routes read their bodies themselves (`codecs.body`: JSON, XML and multipart into one shape),
so FastAPI cannot infer the request schemas; they are written here, once, from the spec
(seed 001 and api-notes §1.2/§1.5) and attached with `openapi_extra`. The OpenAPI document is
the contract fuzzing runs against (DESIGN.md "HTTP dialects"), so it names every content type a
route accepts and every status it answers with.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, Field

from emaildesk.api.egain import xml_names
from emaildesk.domain.activities import MAX_SUBJECT_LENGTH
from emaildesk.domain.addresses import MAX_ADDRESS_LENGTH
from emaildesk.domain.attachments import MAX_CONTENT_TYPE_LENGTH, MAX_FILE_NAME_LENGTH
from emaildesk.services.sessions import SESSION_HEADER

Schema = dict[str, Any]
Responses = dict[int | str, dict[str, Any]]

JSON: Final = "application/json"
XML: Final = "application/xml"
MULTIPART: Final = "multipart/form-data"


class V12ErrorDetail(BaseModel):
    key: str = Field(max_length=255)
    value: str = Field(max_length=255)


class V12Error(BaseModel):
    """The eGain error envelope (api-notes §1.4); XML root `error` in the common namespace."""

    code: str = Field(description="`<http status>-<number>`, e.g. `401-101`.")
    developerMessage: str = Field(max_length=2048)  # noqa: N815 - eGain name
    userMessage: str | None = Field(  # noqa: N815 - eGain name
        default=None,
        max_length=1024,
        description="Only when the request carries `X-egain-error-message: yes`.",
    )
    details: list[V12ErrorDetail] | None = Field(default=None, max_length=30)


SESSION_HEADER_DOC: Final[Schema] = {
    "description": "The current session id (api-notes §1.2: echoed on every v12 response).",
    "schema": {"type": "string"},
}
LOCATION_HEADER_DOC: Final[Schema] = {
    "description": "`/system/ws/v12/interaction/activity/{id}` (api-notes §1.8).",
    "schema": {"type": "string"},
}

_ERROR_DESCRIPTIONS: Final = {
    400: "A rule of the request was broken; `code` and `developerMessage` name it.",
    401: "`401-101`: missing, invalid or expired `X-egain-session`; log in again.",
    403: "Not allowed: no licence or permission, or the session limit was reached.",
    404: "`404-101`: the ids named in the path were not found (or are not visible).",
    406: "`406-101` unsupported `Accept`, `406-100` unsupported `Accept-Language`.",
    413: "`413-100`: the request body exceeds the server's limit.",
    415: "`415-100`: unsupported `Content-Type`.",
}


def error_responses(*statuses: int) -> Responses:
    """The eGain error envelope, JSON or XML, for each status."""
    xml_schema = {
        "$ref": f"#/components/schemas/{V12Error.__name__}",
        "xml": {"name": "error", "namespace": xml_names.COMMON},
    }
    return {
        status: {
            "model": V12Error,
            "description": _ERROR_DESCRIPTIONS[status],
            "headers": {SESSION_HEADER: SESSION_HEADER_DOC},
            "content": {XML: {"schema": xml_schema}},
        }
        for status in statuses
    }


def _text(description: str = "", **extra: Any) -> Schema:
    schema: Schema = {"type": "string", **extra}
    if description:
        schema["description"] = description
    return schema


def _object(properties: Schema, required: list[str] | None = None, **extra: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    return schema


_FLAG: Final = {"enum": ["true", "false", True, False], "description": "`true` or `false`."}
_ADDRESS: Final = _text("One email address (api-notes §1.7).", maxLength=MAX_ADDRESS_LENGTH)
_ADDRESS_LIST: Final[Schema] = {
    "description": 'A string ("a@x.com, b@y.com"), a list, or `{"address": [...]}`.',
    "oneOf": [
        {"type": "string"},
        {"type": "array", "items": _ADDRESS},
        _object({"address": {"type": "array", "items": _ADDRESS}}),
    ],
}
_CUSTOM_ATTRIBUTES: Final = _object(
    {
        "customAttribute": {
            "type": "array",
            "items": _object(
                {
                    "attribName": _text("A configured custom attribute of activities."),
                    "attribValues": _object(
                        {"attribValue": {"type": "array", "items": _object({"value": _text()})}}
                    ),
                },
                ["attribName", "attribValues"],
            ),
        }
    }
)
_ATTACHMENT: Final = _object(
    {
        "contentType": _text("Media type.", maxLength=MAX_CONTENT_TYPE_LENGTH),
        "content": _text("The bytes, base64 (RFC 4648 §4).", contentEncoding="base64"),
        "isInline": _FLAG,
        "contentId": _text("Required when inline; `cid:` references in the HTML name it."),
        "fileName": _text(
            "File name; blocked extensions are refused.", maxLength=MAX_FILE_NAME_LENGTH
        ),
    },
    ["contentType", "content"],
)
_CUSTOMER: Final = _object(
    {
        "contacts": _object(
            {
                "contact": {
                    "type": "array",
                    "maxItems": 1,
                    "items": _object(
                        {
                            "firstName": _text(),
                            "lastName": _text(),
                            "email": {
                                "type": "array",
                                "items": _object({"emailAddress": _ADDRESS}),
                            },
                            "phone": {
                                "type": "array",
                                "items": _object(
                                    {
                                        "phoneNumber": _text(),
                                        "type": {"enum": ["home", "mobile", "office"]},
                                    },
                                    ["phoneNumber", "type"],
                                ),
                            },
                            "social": {
                                "type": "array",
                                "items": _object(
                                    {
                                        "facebookId": _text(),
                                        "twitterId": _text(),
                                        "instagramId": _text(),
                                    }
                                ),
                            },
                        }
                    ),
                }
            }
        )
    },
    description="Used only to create the customer when no customer has the sender's address; "
    "`department` is not allowed here (seed 001).",
)


def activity_schema(*, with_attachments: bool = True) -> Schema:
    """The create-incoming-email activity (seed 001; api-notes §1.5 Example 1)."""
    email = _object(
        {
            "date": _object(
                {
                    "date": _text(
                        "When the email was sent: `yyyy-MM-ddTHH:mm:ss.SSSZ` (api-notes §1.7).",
                        format="date-time",
                    )
                },
                ["date"],
            ),
            "contents": _object(
                {
                    "content": {
                        "type": "array",
                        "maxItems": 2,
                        "items": _object(
                            {"type": {"enum": ["text", "html"]}, "value": _text()},
                            ["type"],
                        ),
                    }
                }
            ),
            "emailAddresses": _object(
                {
                    "from": _ADDRESS,
                    "receiver": _text(
                        "An active email alias of the department.", maxLength=MAX_ADDRESS_LENGTH
                    ),
                    "to": _ADDRESS_LIST,
                    "cc": _ADDRESS_LIST,
                    "replyTo": _ADDRESS,
                },
                ["from", "receiver"],
            ),
        },
        ["date", "emailAddresses"],
    )
    properties: Schema = {
        "department": _object({"name": _text("Department name (case-insensitive).")}, ["name"]),
        "type": _object(
            {
                "value": {"enum": ["email"]},
                "subtype": _object({"value": {"enum": ["general"]}}, ["value"]),
            },
            ["value", "subtype"],
        ),
        "case": _object(
            {"id": _text("An existing case; omitted: a new case.", pattern="^[0-9]+$")}
        ),
        "isSecure": _FLAG,
        "subject": _text("At most 255 characters.", maxLength=MAX_SUBJECT_LENGTH),
        "payload": _object({"email": email}, ["email"]),
        "customAttributes": _CUSTOM_ATTRIBUTES,
        "customer": _CUSTOMER,
    }
    if with_attachments:
        properties["attachments"] = _object({"attachment": {"type": "array", "items": _ATTACHMENT}})
    return _object(properties, ["department", "type", "payload"])


def _xml(schema: Schema, root: str, namespace: str) -> Schema:
    return {**schema, "xml": {"name": root, "namespace": namespace}}


LOGIN_SCHEMA: Final = _object(
    {
        "userName": _text("Login id (`username` is accepted too)."),
        "password": _text(format="password"),
    },
    ["userName", "password"],
)

LOGIN_REQUEST_BODY: Final[Schema] = {
    "requestBody": {
        "required": True,
        "content": {
            JSON: {"schema": LOGIN_SCHEMA},
            XML: {"schema": _xml(LOGIN_SCHEMA, "login", xml_names.PLATFORM)},
        },
    }
}

ACTIVITY_REQUEST_BODY: Final[Schema] = {
    "requestBody": {
        "required": True,
        "content": {
            JSON: {"schema": activity_schema()},
            XML: {"schema": _xml(activity_schema(), "activity", xml_names.ACTIVITY)},
            MULTIPART: {
                "schema": _object(
                    {
                        "data": _text(
                            "The activity as JSON or XML, without `attachments` (seed 001)."
                        ),
                        "data-type": {"enum": [JSON, XML]},
                    },
                    ["data", "data-type"],
                    additionalProperties={
                        "type": "string",
                        "format": "binary",
                        "description": "An attachment part (with a filename); a `Content-ID` "
                        "part header makes it inline.",
                    },
                ),
                "encoding": {"data": {"contentType": f"{JSON}, {XML}"}},
            },
        },
    }
}

ACTIVITIES_SCHEMA: Final = _object(
    {
        "activity": {
            "type": "array",
            "items": _object(
                {
                    "id": _text("Activity id."),
                    "link": _object({"rel": _text(), "href": _text()}),
                    "subject": _text(),
                    "isSecure": {"type": "boolean"},
                    "payload": {"type": "object"},
                    "attachments": _object(
                        {"count": {"type": "integer"}, "attachment": {"type": "array"}}
                    ),
                },
                additionalProperties=True,
            ),
        }
    },
    ["activity"],
)

ACTIVITIES_RESPONSE: Final[Responses] = {
    200: {
        "description": "The activities in the order asked (api-notes §1.6).",
        "headers": {SESSION_HEADER: SESSION_HEADER_DOC},
        "content": {
            JSON: {"schema": ACTIVITIES_SCHEMA},
            XML: {"schema": _xml(ACTIVITIES_SCHEMA, "activities", xml_names.ACTIVITY)},
        },
    }
}

ATTACHMENT_RESPONSE: Final[Responses] = {
    200: {
        "description": "The attachment's bytes, with the media type it was stored with.",
        "headers": {
            SESSION_HEADER: SESSION_HEADER_DOC,
            "Content-Disposition": {
                "description": "`attachment` (inline ones: `inline`) with `filename*=UTF-8''…` "
                "(RFC 6266, RFC 8187).",
                "schema": {"type": "string"},
            },
            "Content-Length": {"schema": {"type": "integer"}},
        },
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}

CREATED_RESPONSE: Final[Responses] = {
    201: {
        "description": "Created and durably stored; no body.",
        "headers": {"Location": LOCATION_HEADER_DOC, SESSION_HEADER: SESSION_HEADER_DOC},
    }
}


def no_content(description: str, session_description: str | None = None) -> Responses:
    header = dict(SESSION_HEADER_DOC)
    if session_description:
        header["description"] = session_description
    return {204: {"description": description, "headers": {SESSION_HEADER: header}}}
