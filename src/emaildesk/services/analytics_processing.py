"""Process one accepted contact (the `analytics.contact` job): group the message into its
conversation and recompute the conversation's aggregates and every message's response time.

Idempotent: a message already processed is left alone, so a job retried after its commit (its
worker died before marking it done) changes nothing. The conversation row is locked for the
transaction, so two jobs of one conversation take turns and the second sees the first's message.
Aggregates are recomputed from all processed messages rather than updated incrementally, because
a message may arrive out of order (an older `ts`) and change the response times of later ones.
"""

from __future__ import annotations

from datetime import datetime

from emaildesk.domain.analytics import (
    CONTACT_NOT_FOUND,
    CONVERSATION_AGGREGATE,
    CONVERSATION_UPDATED,
    AnalyticsConversation,
    MessageState,
    summarize,
)
from emaildesk.domain.clock import utcnow
from emaildesk.domain.events import Event
from emaildesk.services.ports import UnitOfWork


async def process_contact(
    uow: UnitOfWork, message_id: int, *, now: datetime | None = None
) -> AnalyticsConversation | None:
    """Fold the message into its conversation; None when it was already processed.

    Raises CONTACT_NOT_FOUND (a NOT_FOUND domain error) when no such message exists: the job
    can never succeed then. Never commits.
    """
    now = now or utcnow()
    message = await uow.analytics.lock_message(message_id)
    if message is None:
        raise CONTACT_NOT_FOUND(contact_id=message_id)
    if message.state is MessageState.PROCESSED:
        return None
    conversation = await uow.analytics.lock_conversation(message.conversation_id)
    if conversation is None or conversation.id is None:
        raise RuntimeError("an analytics message without its conversation")
    message.mark_processed(now)
    messages = await uow.analytics.processed_messages(conversation.id)
    summary = summarize(messages)
    for stored, response_ms in zip(messages, summary.response_ms, strict=True):
        if stored.response_ms != response_ms:  # assign only on change: no needless UPDATE
            stored.response_ms = response_ms
    conversation.apply(summary, now)
    await uow.events.append(
        Event(
            kind=CONVERSATION_UPDATED,
            aggregate_type=CONVERSATION_AGGREGATE,
            aggregate_id=conversation.id,
            payload={"message_id": message_id, "messages": conversation.message_count},
        )
    )
    return conversation
