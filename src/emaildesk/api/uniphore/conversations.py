"""Read the conversation store back (emaildesk's extension; Uniphore publishes no read API):
`GET /contacts/email/{convId}` and `GET /contacts/metrics/email`.

Both use the same bearer API key as ingestion and see only the key's tenant.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request

from emaildesk.api.runtime import runtime_of
from emaildesk.api.uniphore.auth import bearer_key
from emaildesk.api.uniphore.representation import (
    EXTENSION_NOTE,
    ConversationOut,
    MetricsOut,
    conversation_out,
    metrics_out,
)
from emaildesk.api.uniphore.routes import ERRORS
from emaildesk.domain.analytics import MAX_AGENT_ID_LENGTH, MAX_NAME_LENGTH
from emaildesk.domain.clock import utcnow
from emaildesk.services.analytics_ingest import authenticate
from emaildesk.services.analytics_queries import (
    MetricsQuery,
    conversation_metrics,
    conversation_view,
)

router = APIRouter(tags=["emaildesk analytics (extension)"])

DEFAULT_RANGE: Final = timedelta(days=30)
MAX_MS: Final = 2**63 - 1
Millis = Annotated[int | None, Query(ge=0, le=MAX_MS)]


@router.get(
    "/contacts/email/{conv_id:path}",
    summary="One conversation: its aggregates and processed messages",
    description=EXTENSION_NOTE
    + "Counts and times cover processed messages; `pendingMessages` are accepted and not "
    "processed yet.",
    response_model=ConversationOut,
    responses=ERRORS,
)
async def get_conversation(request: Request, conv_id: str) -> ConversationOut:
    key = bearer_key(request)
    async with runtime_of(request).database.uow() as uow:
        tenant = await authenticate(uow, key)
        view = await conversation_view(uow, tenant, conv_id)
    return conversation_out(view)


@router.get(
    "/contacts/metrics/email",
    summary="Volumes and response-time percentiles over a date range",
    description=EXTENSION_NOTE
    + "Messages with `from ≤ ts < to` (epoch ms; default: the last 30 days), optionally of "
    "one organization, one category of it, or one agent. Percentiles are nearest-rank; "
    "first response times count for the range in which their conversation started.",
    response_model=MetricsOut,
    responses=ERRORS,
)
async def get_metrics(
    request: Request,
    since: Annotated[Millis, Query(alias="from")] = None,
    until: Annotated[Millis, Query(alias="to")] = None,
    org_name: Annotated[str | None, Query(alias="orgName", max_length=MAX_NAME_LENGTH)] = None,
    cat_name: Annotated[str | None, Query(alias="catName", max_length=MAX_NAME_LENGTH)] = None,
    agent_id: Annotated[str | None, Query(alias="agentId", max_length=MAX_AGENT_ID_LENGTH)] = None,
) -> MetricsOut:
    key = bearer_key(request)
    now_ms = int(utcnow().timestamp() * 1000)
    until = now_ms + 1 if until is None else until
    since = until - int(DEFAULT_RANGE.total_seconds() * 1000) if since is None else since
    query = MetricsQuery(max(since, 0), until, org_name, cat_name, agent_id)
    async with runtime_of(request).database.uow() as uow:
        tenant = await authenticate(uow, key)
        result = await conversation_metrics(uow, tenant, query)
    return metrics_out(tenant.name, result)
