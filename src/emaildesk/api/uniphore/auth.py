"""Uniphore bearer API keys on the wire: `Authorization: Bearer <key>` (RFC 6750 §2.1).

The header's shape is checked before anything else is read (a request without a key is refused
without reading its body); whether the key is live is the use case's question
(services/analytics_ingest.py `authenticate`), asked in the request's unit of work.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request

from emaildesk.api.runtime import runtime_of
from emaildesk.api.uniphore.errors import FIELD_DETAIL
from emaildesk.domain import errors
from emaildesk.domain.analytics import AnalyticsTenant
from emaildesk.services.analytics_ingest import authenticate

BEARER_SCHEME: Final = "bearer"  # RFC 6750 §2.1; auth schemes are case-insensitive (RFC 9110 §11.1)
AUTHORIZATION_TITLE: Final = "authorization"


def bearer_key(request: Request) -> str:
    """The key of an `Authorization: Bearer` header, or 401-104."""
    scheme, _, credentials = request.headers.get("authorization", "").strip().partition(" ")
    key = credentials.strip()
    if scheme.lower() != BEARER_SCHEME or not key or " " in key:
        raise errors.INVALID_AUTHORIZATION({FIELD_DETAIL: AUTHORIZATION_TITLE})
    return key


async def check_key(request: Request, key: str) -> AnalyticsTenant:
    """Authenticate in a unit of work of its own (for requests refused before their own)."""
    async with runtime_of(request).database.uow() as uow:
        return await authenticate(uow, key)
