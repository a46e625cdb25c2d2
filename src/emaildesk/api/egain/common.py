"""Route plumbing every eGain route shares: negotiation with the site's defaults, reading a
body within the size limit, and answering a document in the negotiated format.

Kept apart from the routes so that v12 and v3 differ only in what they translate, not in how
they speak HTTP (Mailman's lesson: API versions differ only in representation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from emaildesk.api.codecs.body import MediaKind, ParsedBody, read_body
from emaildesk.api.negotiation import Negotiated, ResponseFormat, negotiate
from emaildesk.api.runtime import Runtime, runtime_of

XmlRenderer = Callable[[Mapping[str, Any]], bytes]

JSON_OR_XML = frozenset({MediaKind.JSON, MediaKind.XML})


def negotiated(request: Request) -> Negotiated:
    """Format and locale for this request (406 / 406-100 when neither can be met)."""
    runtime = runtime_of(request)
    return negotiate(request, default_locale=runtime.settings.default_locale)


async def body_of(
    request: Request, allowed: frozenset[MediaKind] = JSON_OR_XML, runtime: Runtime | None = None
) -> ParsedBody:
    """The request body parsed per its Content-Type, refused past the configured size."""
    runtime = runtime or runtime_of(request)
    return await read_body(request, allowed=allowed, max_bytes=runtime.settings.max_request_bytes)


def document_response(
    request: Request,
    document: Mapping[str, Any],
    render_xml: XmlRenderer,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Answer `document` as JSON or as XML, whichever the request negotiated."""
    chosen = negotiated(request)
    if chosen.format is ResponseFormat.XML:
        return Response(
            render_xml(document),
            status_code=status_code,
            media_type=ResponseFormat.XML.media_type,
            headers=dict(headers or {}),
        )
    return JSONResponse(dict(document), status_code=status_code, headers=dict(headers or {}))
