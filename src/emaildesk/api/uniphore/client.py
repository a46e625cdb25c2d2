"""Post a contact to a Uniphore-compatible `POST /contacts/email` over HTTP (the export
connector's `ContactSender`, services/analytics_export.py).

The receiver's answer decides what the outbox does next: 2xx is delivered; a timeout, a
connection failure, 408, 425, 429 or any 5xx is worth retrying (RFC 9110 §15.5.9, RFC 8470 §5.2,
RFC 6585 §4, §15.6); any other status means the receiver refused this contact, and sending it
again cannot help. Log lines carry the status, never the body (STYLE.md habit 15).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

import httpx

from emaildesk.services.analytics_export import ExportPermanentError, ExportTransientError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS: Final = 30.0
RETRYABLE_STATUSES: Final = frozenset({408, 425, 429})
MAX_REASON_BODY: Final = 300  # characters of the receiver's error body kept in the job's reason


class HttpContactSender:
    def __init__(
        self,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = timeout
        self._transport = transport  # tests may route to an in-process app

    async def post_contact(self, url: str, token: str, body: Mapping[str, Any]) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as http:
                response = await http.post(url, json=dict(body), headers=headers)
        except httpx.HTTPError as exc:  # the one place httpx's errors become ours
            raise ExportTransientError(f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        log.info("analytics contact posted", extra={"fields": {"status": status}})
        if 200 <= status < 300:
            return
        reason = f"receiver answered {status}: {response.text[:MAX_REASON_BODY]}"
        if status in RETRYABLE_STATUSES or status >= 500:
            raise ExportTransientError(reason)
        raise ExportPermanentError(reason)
