"""Response bodies of the Uniphore dialect: the seed's `{"status": 202, "message": "accepted"}`
(as valid JSON: the seed's sample lacks a comma, api-notes §3), the error envelope (for the
OpenAPI document), and emaildesk's read side (conversation and metrics), in camelCase like the
contacts themselves. Times are epoch milliseconds, as `ts` is on the way in; durations are
milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from emaildesk.domain.analytics import AnalyticsMessage
from emaildesk.domain.analytics_metrics import Distribution, Volume
from emaildesk.services.analytics_queries import ConversationView, MetricsResult

EXTENSION_NOTE = "emaildesk extension: not part of the Uniphore API, which publishes no read side. "


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Accepted(_Out):
    status: int = Field(examples=[202])
    message: str = Field(examples=["accepted"])


class Problem(_Out):
    type: str = Field(examples=["/errors/contact-payload"])
    title: str = Field(examples=["entity-identifier"])
    detail: str = Field(examples=["tenant/org/cat not found!"])


class ErrorEnvelope(_Out):
    status: int = Field(examples=[400])
    errors: list[Problem]


class MessageCount(_Out):
    agent: int
    participant: int
    total: int


class MessageOut(_Out):
    msg_id: str
    ts: int
    direction: str = Field(description="agent (from == agentEmailId) or participant")
    from_address: str = Field(alias="from")
    to: list[str]
    cc: list[str]
    bcc: list[str]
    sub: str
    lang: str
    body: str
    agent_id: str
    agent_email_id: str
    ps_id: str
    ps_email_id: str
    journey_id: str | None
    metadata_map: dict[str, str]
    response_ms: int | None = Field(
        description="For an agent message answering a waiting participant: the wait."
    )


class ConversationOut(_Out):
    conv_id: str
    tenant_name: str
    org_name: str
    cat_name: str
    journey_id: str | None
    metadata_map: dict[str, str]
    message_count: MessageCount
    first_ts: int | None
    last_activity_ts: int | None
    duration_ms: int | None
    first_response_ms: int | None
    average_agent_response_ms: float | None
    response_count: int
    participants: list[str] = Field(description="Participant addresses (psEmailId, their from).")
    agents: list[str] = Field(description="The agentIds of the conversation's contacts.")
    pending_messages: int = Field(description="Accepted, not processed yet.")
    messages: list[MessageOut] = Field(description="Processed messages, in order of ts.")


class DistributionOut(_Out):
    count: int
    average: float | None
    p50: int | None
    p90: int | None
    p95: int | None
    p99: int | None


class VolumeOut(_Out):
    conversations: int
    messages: int
    agent_messages: int
    participant_messages: int
    response_time_ms: DistributionOut


class CategoryVolumeOut(VolumeOut):
    org_name: str
    cat_name: str


class AgentVolumeOut(VolumeOut):
    agent_id: str


class MetricsFilters(_Out):
    org_name: str | None
    cat_name: str | None
    agent_id: str | None


class MetricsOut(_Out):
    tenant_name: str
    from_ts: int = Field(alias="from")
    to_ts: int = Field(alias="to")
    filters: MetricsFilters
    totals: VolumeOut
    first_response_time_ms: DistributionOut
    by_category: list[CategoryVolumeOut]
    by_agent: list[AgentVolumeOut]


def _message(m: AnalyticsMessage) -> MessageOut:
    return MessageOut(
        msg_id=m.msg_id,
        ts=m.ts,
        direction=m.direction.value,
        from_address=m.from_address,
        to=list(m.to),
        cc=list(m.cc),
        bcc=list(m.bcc),
        sub=m.subject,
        lang=m.lang,
        body=m.body,
        agent_id=m.agent_id,
        agent_email_id=m.agent_email,
        ps_id=m.participant_id,
        ps_email_id=m.participant_email,
        journey_id=m.journey_id,
        metadata_map=dict(m.metadata_map),
        response_ms=m.response_ms,
    )


def conversation_out(view: ConversationView) -> ConversationOut:
    c = view.conversation
    return ConversationOut(
        conv_id=c.conv_id,
        tenant_name=view.tenant_name,
        org_name=view.organization_name,
        cat_name=view.category_name,
        journey_id=c.journey_id,
        metadata_map=dict(c.metadata_map),
        message_count=MessageCount(
            agent=c.agent_messages, participant=c.participant_messages, total=c.message_count
        ),
        first_ts=c.first_ts,
        last_activity_ts=c.last_ts,
        duration_ms=c.duration_ms,
        first_response_ms=c.first_response_ms,
        average_agent_response_ms=c.average_response_ms,
        response_count=c.response_count,
        participants=list(c.participants),
        agents=list(c.agents),
        pending_messages=view.pending,
        messages=[_message(m) for m in view.messages],
    )


def _distribution(d: Distribution) -> DistributionOut:
    p = d.percentiles
    return DistributionOut(
        count=d.count, average=d.average, p50=p[50], p90=p[90], p95=p[95], p99=p[99]
    )


def _volume_fields(v: Volume) -> dict[str, object]:
    return {
        "conversations": v.conversations,
        "messages": v.messages,
        "agent_messages": v.agent_messages,
        "participant_messages": v.participant_messages,
        "response_time_ms": _distribution(v.response_times),
    }


def metrics_out(tenant_name: str, result: MetricsResult) -> MetricsOut:
    query, report = result.query, result.report
    by_category: Iterable[tuple[tuple[int, int], Volume]] = report.by_category.items()
    agents: Mapping[str, Volume] = report.by_agent
    return MetricsOut(
        tenant_name=tenant_name,
        from_ts=query.since,
        to_ts=query.until,
        filters=MetricsFilters(
            org_name=query.organization_name,
            cat_name=query.category_name,
            agent_id=query.agent_id,
        ),
        totals=VolumeOut.model_validate(_volume_fields(report.totals)),
        first_response_time_ms=_distribution(report.first_response_times),
        by_category=[
            CategoryVolumeOut.model_validate(
                {
                    **_volume_fields(volume),
                    "org_name": result.names[key].organization,
                    "cat_name": result.names[key].category,
                }
            )
            for key, volume in by_category
        ],
        by_agent=[
            AgentVolumeOut.model_validate({**_volume_fields(volume), "agent_id": agent})
            for agent, volume in agents.items()
        ],
    )
