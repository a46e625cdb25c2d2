"""Conversation metrics over a date range (pure): volumes and response-time distributions of
processed messages, in total, per category and per agent (emaildesk's extension of the Uniphore
contact API; see domain/analytics.py for how each message's response time is defined).

Percentiles are nearest-rank: the value at rank ⌈q/100 · n⌉ of the sorted values, so every
reported percentile is a response time that really happened (hand-checked by
tests/unit/domain/test_analytics.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from emaildesk.domain.analytics import Direction


@dataclass(frozen=True)
class MessageFact:
    """The columns of a processed message the metrics need (never its body)."""

    conversation_id: int
    organization_id: int
    category_id: int
    direction: Direction
    agent_id: str
    ts: int
    response_ms: int | None


@dataclass(frozen=True)
class ConversationFact:
    conversation_id: int
    organization_id: int
    category_id: int
    first_response_ms: int | None


PERCENTILES = (50, 90, 95, 99)


def percentile(ordered: Sequence[int], q: int) -> int | None:
    """Nearest-rank percentile of ascending `ordered`; None when there are no values."""
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Distribution:
    count: int
    average: float | None
    percentiles: Mapping[int, int | None]

    @classmethod
    def of(cls, values: Iterable[int]) -> Distribution:
        ordered = sorted(values)
        average = sum(ordered) / len(ordered) if ordered else None
        return cls(len(ordered), average, {q: percentile(ordered, q) for q in PERCENTILES})


@dataclass(frozen=True)
class Volume:
    conversations: int
    messages: int
    agent_messages: int
    participant_messages: int
    response_times: Distribution

    @classmethod
    def of(cls, facts: Sequence[MessageFact]) -> Volume:
        return cls(
            conversations=len({f.conversation_id for f in facts}),
            messages=len(facts),
            agent_messages=sum(f.direction is Direction.AGENT for f in facts),
            participant_messages=sum(f.direction is Direction.PARTICIPANT for f in facts),
            response_times=Distribution.of(
                f.response_ms for f in facts if f.response_ms is not None
            ),
        )


@dataclass(frozen=True)
class MetricsReport:
    """Volumes and response times of the messages in a range: in total, per category
    (organization id, category id) and per agent (a message counts for the agent it names)."""

    totals: Volume
    first_response_times: Distribution
    by_category: Mapping[tuple[int, int], Volume]
    by_agent: Mapping[str, Volume]


def compute_metrics(
    messages: Sequence[MessageFact], conversations: Sequence[ConversationFact]
) -> MetricsReport:
    """`messages`: processed messages with `ts` in the range; `conversations`: those whose first
    message is in the range (a first response belongs to when its conversation started)."""
    by_category: dict[tuple[int, int], list[MessageFact]] = {}
    by_agent: dict[str, list[MessageFact]] = {}
    for fact in messages:
        by_category.setdefault((fact.organization_id, fact.category_id), []).append(fact)
        by_agent.setdefault(fact.agent_id, []).append(fact)
    return MetricsReport(
        totals=Volume.of(messages),
        first_response_times=Distribution.of(
            c.first_response_ms for c in conversations if c.first_response_ms is not None
        ),
        by_category={key: Volume.of(facts) for key, facts in sorted(by_category.items())},
        by_agent={key: Volume.of(facts) for key, facts in sorted(by_agent.items())},
    )
