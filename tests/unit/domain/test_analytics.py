"""Conversation analytics rules and metrics, checked against examples worked out by hand."""

from __future__ import annotations

import pytest

from emaildesk.domain.analytics import (
    DEFAULT_RESTRICTED_METADATA_KEYS,
    MAX_METADATA_KEYS,
    AnalyticsApiKey,
    AnalyticsCategory,
    AnalyticsConversation,
    AnalyticsMessage,
    Direction,
    MessageState,
    check_metadata_keys,
    direction_of,
    is_valid_contact_address,
    summarize,
)
from emaildesk.domain.analytics_metrics import (
    ConversationFact,
    Distribution,
    MessageFact,
    compute_metrics,
    percentile,
)
from emaildesk.domain.errors import DomainError

A, P = Direction.AGENT, Direction.PARTICIPANT
MINUTE = 60_000


def message(
    direction: Direction,
    ts: int,
    id: int | None = None,
    *,
    agent: str = "Agent1",
    participant: str = "ps1@acmecorp.com",
    journey: str | None = None,
) -> AnalyticsMessage:
    return AnalyticsMessage(
        tenant_id=1,
        organization_id=1,
        category_id=1,
        conversation_id=1,
        conv_id="c",
        msg_id=f"m{id}",
        direction=direction,
        lang="us-en",
        subject="",
        ts=ts,
        body="",
        agent_id=agent,
        agent_email="agent1@xyz.com",
        participant_id="P1",
        participant_email=participant,
        from_address="agent1@xyz.com" if direction is A else participant,
        journey_id=journey,
        id=id,
    )


# --- direction, addresses, metadata ---------------------------------------------------------


def test_direction_is_agent_when_from_is_the_agent_email_id() -> None:
    assert direction_of("agent1@xyz.com", "agent1@xyz.com") is A
    assert direction_of(" Agent1@XYZ.com", "agent1@xyz.com") is A
    assert direction_of("ps1@acmecorp.com", "agent1@xyz.com") is P


def test_contact_addresses_follow_the_emaildesk_rule_without_its_255_cap() -> None:
    long = "a" * 244 + "@example.com"  # 256 characters: Uniphore's limit, over eGain's
    assert len(long) == 256 and is_valid_contact_address(long)
    for bad in [
        "",
        "a",
        "a@b",
        "@example.com",
        "a@.com",
        "a@example.com.",
        "a b@x.com",
        "a@@x.com",
    ]:
        assert not is_valid_contact_address(bad), bad


def test_restricted_metadata_keys_are_refused_case_insensitively() -> None:
    check_metadata_keys(["region", "priority"], DEFAULT_RESTRICTED_METADATA_KEYS)
    with pytest.raises(DomainError) as raised:
        check_metadata_keys(["region", "CONVID"], DEFAULT_RESTRICTED_METADATA_KEYS)
    assert raised.value.params == {"key": "CONVID"}
    check_metadata_keys(["convId"], [])  # a tenant may allow everything


def test_category_allows_50_metadata_keys() -> None:
    category = AnalyticsCategory(1, 1, "Leads")
    assert category.register_metadata_keys([f"k{i}" for i in range(30)])
    assert not category.register_metadata_keys(["k1", "k2"])  # known keys are free
    assert category.register_metadata_keys([f"n{i}" for i in range(20)])
    assert len(category.metadata_keys) == MAX_METADATA_KEYS
    with pytest.raises(DomainError) as raised:
        category.register_metadata_keys(["k0", "one-more"])
    assert raised.value.code == "400-10424"
    assert "one-more" not in category.metadata_keys


def test_conversation_metadata_is_added_or_updated_never_deleted() -> None:
    conversation = AnalyticsConversation(1, "c", 1, 1, metadata_map={"a": "1", "b": "2"})
    assert conversation.merge_metadata({"b": "3", "c": "4"})
    assert conversation.metadata_map == {"a": "1", "b": "3", "c": "4"}
    assert not conversation.merge_metadata({"a": "1"})
    assert not conversation.merge_metadata({})


def test_message_is_processed_once() -> None:
    m = message(P, 0, 1)
    assert m.state is MessageState.RECEIVED
    m.mark_processed()
    assert m.processed_at is not None
    assert m.state.value == "processed"
    with pytest.raises(DomainError) as raised:
        m.mark_processed()
    assert raised.value.params["state"] == "processed"


def test_revoked_key_is_not_active() -> None:
    key = AnalyticsApiKey(1, "k", "hash")
    assert key.active
    key.revoke()
    revoked_at = key.revoked_at
    assert not key.active
    key.revoke()
    assert key.revoked_at == revoked_at


# --- one conversation, by hand ----------------------------------------------------------------

# p@0s, p@60s (the same wait goes on), a@300s (answers the wait from 0s: 300 s),
# a@400s (a follow-up: no response), p@1000s (a new wait), a@1120s (answers it: 120 s).
CONVERSATION = [
    message(P, 0, 1),
    message(P, 1 * MINUTE, 2),
    message(A, 5 * MINUTE, 3),
    message(A, 400_000, 4),
    message(P, 1_000_000, 5),
    message(A, 1_120_000, 6),
]


def test_first_response_time_is_the_first_answer_to_a_waiting_participant() -> None:
    summary = summarize(CONVERSATION)
    assert summary.first_response_ms == 300_000


def test_average_agent_response_time_counts_each_answered_wait_once() -> None:
    summary = summarize(CONVERSATION)
    assert summary.response_ms == (None, None, 300_000, None, None, 120_000)
    assert summary.response_count == 2
    assert summary.average_response_ms == 210_000


def test_counts_duration_and_last_activity() -> None:
    summary = summarize(CONVERSATION)
    assert (summary.agent_messages, summary.participant_messages) == (3, 3)
    assert (summary.first_ts, summary.last_ts) == (0, 1_120_000)
    conversation = AnalyticsConversation(1, "c", 1, 1)
    conversation.apply(summary)
    assert conversation.duration_ms == 1_120_000
    assert conversation.message_count == 6


def test_outbound_first_mail_is_no_response() -> None:
    summary = summarize([message(A, 0, 1), message(P, 10_000, 2), message(A, 70_000, 3)])
    assert summary.response_ms == (None, None, 60_000)
    assert summary.first_response_ms == 60_000


def test_order_is_by_ts_whatever_the_arrival_order() -> None:
    shuffled = [CONVERSATION[i] for i in (5, 2, 0, 4, 3, 1)]
    summary = summarize(shuffled)
    assert summary.response_ms == (120_000, 300_000, None, None, None, None)
    assert summary.first_response_ms == 300_000


def test_equal_timestamps_keep_arrival_order() -> None:
    summary = summarize([message(A, 5, 2), message(P, 5, 1)])
    assert summary.response_ms == (0, None)


def test_unanswered_conversation_has_no_response_times() -> None:
    summary = summarize([message(P, 0, 1), message(P, 10, 2)])
    assert summary.first_response_ms is None
    assert summary.average_response_ms is None
    assert summary.response_count == 0
    empty = summarize([])
    assert (empty.first_ts, empty.last_ts, empty.agent_messages) == (None, None, 0)


def test_participants_agents_and_journey() -> None:
    summary = summarize(
        [
            message(P, 0, 1, participant="PS1@acmecorp.com", journey="j-1"),
            message(A, 5, 2, agent="Agent2", journey="j-2"),
            message(P, 9, 3, participant="ps2@acmecorp.com"),
        ]
    )
    assert summary.participants == ("ps1@acmecorp.com", "ps2@acmecorp.com")
    assert summary.agents == ("Agent1", "Agent2")
    assert summary.journey_id == "j-2"  # the latest message naming one


# --- metrics over a range, by hand --------------------------------------------------------------


def test_percentiles_are_nearest_rank() -> None:
    values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert [percentile(values, q) for q in (50, 90, 95, 99)] == [50, 90, 100, 100]
    assert percentile([7], 50) == percentile([7], 99) == 7
    assert percentile([], 50) is None
    assert percentile([1, 2, 3, 4], 50) == 2  # rank ⌈2⌉ = 2
    assert percentile([1, 2, 3], 50) == 2  # rank ⌈1.5⌉ = 2


def test_distribution_of_response_times() -> None:
    d = Distribution.of([300, 100, 200])
    assert d.count == 3 and d.average == 200
    assert dict(d.percentiles) == {50: 200, 90: 300, 95: 300, 99: 300}
    empty = Distribution.of([])
    assert empty.count == 0 and empty.average is None and empty.percentiles[50] is None


def fact(
    conv: int, cat: int, direction: Direction, agent: str, response: int | None
) -> MessageFact:
    return MessageFact(conv, 1, cat, direction, agent, 0, response)


def test_volumes_and_response_times_per_category_and_agent() -> None:
    facts = [
        fact(1, 10, P, "ann", None),
        fact(1, 10, A, "ann", 60_000),
        fact(1, 10, P, "ann", None),
        fact(1, 10, A, "bob", 180_000),  # bob answered in ann's conversation
        fact(2, 20, P, "bob", None),
        fact(2, 20, A, "bob", 120_000),
        fact(3, 20, P, "bob", None),
    ]
    conversations = [ConversationFact(1, 1, 10, 60_000), ConversationFact(2, 1, 20, 120_000)]
    report = compute_metrics(facts, conversations)

    totals = report.totals
    assert (totals.conversations, totals.messages) == (3, 7)
    assert (totals.agent_messages, totals.participant_messages) == (3, 4)
    assert totals.response_times.count == 3
    assert totals.response_times.average == 120_000
    assert dict(totals.response_times.percentiles) == {
        50: 120_000,
        90: 180_000,
        95: 180_000,
        99: 180_000,
    }
    assert report.first_response_times.average == 90_000
    assert report.first_response_times.percentiles[50] == 60_000

    assert list(report.by_category) == [(1, 10), (1, 20)]
    leads, email = report.by_category[1, 10], report.by_category[1, 20]
    assert (leads.conversations, leads.messages, leads.response_times.average) == (1, 4, 120_000)
    assert (email.conversations, email.messages, email.participant_messages) == (2, 3, 2)

    assert list(report.by_agent) == ["ann", "bob"]
    ann, bob = report.by_agent["ann"], report.by_agent["bob"]
    assert (ann.messages, ann.agent_messages, ann.response_times.average) == (3, 1, 60_000)
    assert (bob.conversations, bob.messages, bob.agent_messages) == (3, 4, 2)
    assert bob.response_times.average == 150_000


def test_metrics_of_nothing_are_zero_and_none() -> None:
    report = compute_metrics([], [])
    assert report.totals.messages == 0 and report.totals.response_times.average is None
    assert report.by_agent == {} and report.by_category == {}
