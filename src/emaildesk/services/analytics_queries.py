"""Read the conversation store back: one conversation with its messages, and metrics over a
date range (emaildesk's extension of the Uniphore API: Uniphore publishes no read side).

Everything is scoped to the tenant of the caller's API key: another tenant's conversation is
not found, exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from emaildesk.domain import errors
from emaildesk.domain.analytics import (
    CONTACT_NOT_FOUND,
    ENTITY_NOT_FOUND,
    AnalyticsConversation,
    AnalyticsMessage,
    AnalyticsTenant,
    MessageState,
)
from emaildesk.domain.analytics_metrics import MetricsReport, compute_metrics
from emaildesk.services.ports import UnitOfWork


@dataclass(frozen=True)
class ConversationView:
    conversation: AnalyticsConversation
    tenant_name: str
    organization_name: str
    category_name: str
    messages: list[AnalyticsMessage]  # processed, in conversation order, with bodies
    pending: int  # accepted but not processed yet


@dataclass(frozen=True)
class MetricsQuery:
    since: int  # epoch ms, inclusive
    until: int  # epoch ms, exclusive
    organization_name: str | None = None
    category_name: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True)
class CategoryName:
    organization: str
    category: str


@dataclass(frozen=True)
class MetricsResult:
    query: MetricsQuery
    report: MetricsReport
    names: dict[tuple[int, int], CategoryName]  # (organization id, category id) → names


async def conversation_view(
    uow: UnitOfWork, tenant: AnalyticsTenant, conv_id: str
) -> ConversationView:
    assert tenant.id is not None
    conversation = await uow.analytics.conversation(tenant.id, conv_id)
    if conversation is None or conversation.id is None:
        raise CONTACT_NOT_FOUND({"field": "convId"}, contact_id=conv_id)
    messages = await uow.analytics.messages_with_bodies(conversation.id)
    processed = [m for m in messages if m.state is MessageState.PROCESSED]
    names = await _names(uow, [(conversation.organization_id, conversation.category_id)])
    name = names[conversation.organization_id, conversation.category_id]
    return ConversationView(
        conversation=conversation,
        tenant_name=tenant.name,
        organization_name=name.organization,
        category_name=name.category,
        messages=processed,
        pending=len(messages) - len(processed),
    )


async def conversation_metrics(
    uow: UnitOfWork, tenant: AnalyticsTenant, query: MetricsQuery
) -> MetricsResult:
    """Volumes and response times of the tenant's processed messages in the range, optionally
    of one organization, one category of it, or one agent."""
    assert tenant.id is not None
    if query.since >= query.until:
        raise errors.INVALID_ATTRIBUTE({"field": "from"}, attribute="from")
    organization_id, category_id = await _filters(uow, tenant.id, query)
    messages = await uow.analytics.message_facts(
        tenant.id,
        query.since,
        query.until,
        organization_id=organization_id,
        category_id=category_id,
        agent_id=query.agent_id,
    )
    conversations = await uow.analytics.conversation_facts(
        tenant.id,
        query.since,
        query.until,
        organization_id=organization_id,
        category_id=category_id,
    )
    if query.agent_id is not None:  # first responses of the conversations the agent had
        mine = {m.conversation_id for m in messages}
        conversations = [c for c in conversations if c.conversation_id in mine]
    report = compute_metrics(messages, conversations)
    return MetricsResult(query, report, await _names(uow, list(report.by_category)))


async def _filters(
    uow: UnitOfWork, tenant_id: int, query: MetricsQuery
) -> tuple[int | None, int | None]:
    if query.organization_name is None:
        if query.category_name is not None:  # category names are unique per organization
            raise errors.REQUIRED_ATTRIBUTE({"field": "orgName"}, attribute="orgName")
        return None, None
    organization = await uow.analytics.organization_by_name(tenant_id, query.organization_name)
    if organization is None or organization.id is None:
        raise ENTITY_NOT_FOUND()
    if query.category_name is None:
        return organization.id, None
    category = await uow.analytics.category_by_name(organization.id, query.category_name)
    if category is None:
        raise ENTITY_NOT_FOUND()
    return organization.id, category.id


async def _names(
    uow: UnitOfWork, keys: list[tuple[int, int]]
) -> dict[tuple[int, int], CategoryName]:
    names: dict[tuple[int, int], CategoryName] = {}
    for organization_id, category_id in keys:
        organization = await uow.analytics.organization(organization_id)
        category = await uow.analytics.category(category_id)
        names[organization_id, category_id] = CategoryName(
            organization.name if organization else "", category.name if category else ""
        )
    return names
