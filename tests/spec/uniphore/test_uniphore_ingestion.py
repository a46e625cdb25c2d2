"""POST /contacts/email over real HTTP: 202 after the commit, processing through the outbox,
idempotency on (tenant, convId, msgId), and the read side of what was ingested."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import Table, func, select
from uniphore_support import (
    AGENT,
    CUSTOMER,
    EMAIL,
    T0,
    auth,
    contact,
    problems,
    with_value,
)

from emaildesk.db import tables as t
from emaildesk.db.database import Database
from emaildesk.domain.analytics import MessageState
from emaildesk.domain.outbox import JobState

RunWorker = Callable[[], Awaitable[int]]


async def count(database: Database, table: Table) -> int:
    async with database.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def test_seed_example_is_accepted_with_202(
    client: httpx.AsyncClient, demo_database: Database
) -> None:
    response = await client.post(EMAIL, json=contact(), headers=auth())
    assert response.status_code == 202
    assert response.json() == {"status": 202, "message": "accepted"}
    assert await count(demo_database, t.analytics_messages) == 1


async def test_202_means_stored_durably_and_queued_for_processing(
    client: httpx.AsyncClient, demo_database: Database
) -> None:
    body = contact()
    response = await client.post(EMAIL, json=body, headers=auth())
    assert response.status_code == 202
    # A fresh connection (another session) sees the committed message and its pending job.
    async with demo_database.uow() as uow:
        tenant = await uow.analytics.tenant_by_name("Acme Corp")
        assert tenant is not None and tenant.id is not None
        conversation = await uow.analytics.conversation(tenant.id, body["data"]["convId"])
        assert conversation is not None and conversation.id is not None
        (message,) = await uow.analytics.messages_with_bodies(conversation.id)
        jobs = await uow.outbox.in_state(JobState.PENDING)
    assert message.msg_id == body["data"]["msgId"]
    assert message.body == body["data"]["body"]
    assert message.state is MessageState.RECEIVED
    assert [(j.kind, j.payload) for j in jobs] == [
        ("analytics.contact", {"message_id": message.id})
    ]


async def test_processing_is_asynchronous_visible_after_the_worker_ran(
    client: httpx.AsyncClient, run_worker: RunWorker
) -> None:
    body = contact()
    conv_id = body["data"]["convId"]
    assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202

    before = (await client.get(f"{EMAIL}/{conv_id}", headers=auth())).json()
    assert before["pendingMessages"] == 1
    assert before["messages"] == []
    assert before["messageCount"] == {"agent": 0, "participant": 0, "total": 0}

    assert await run_worker() == 1

    after = (await client.get(f"{EMAIL}/{conv_id}", headers=auth())).json()
    assert after["pendingMessages"] == 0
    assert after["messageCount"] == {"agent": 0, "participant": 1, "total": 1}
    (message,) = after["messages"]
    assert message["msgId"] == body["data"]["msgId"]
    assert message["direction"] == "participant"
    assert message["body"] == body["data"]["body"]


async def test_repeated_msg_id_in_the_same_conversation_is_idempotent(
    client: httpx.AsyncClient, demo_database: Database, run_worker: RunWorker
) -> None:
    body = contact()
    first = await client.post(EMAIL, json=body, headers=auth())
    again = await client.post(EMAIL, json=body, headers=auth())
    changed = contact(conv_id=body["data"]["convId"], msg_id=body["data"]["msgId"], sub="other")
    third = await client.post(EMAIL, json=changed, headers=auth())
    assert [r.status_code for r in (first, again, third)] == [202, 202, 202]
    assert again.json() == {"status": 202, "message": "accepted"}
    assert await count(demo_database, t.analytics_messages) == 1
    assert await run_worker() == 1  # one job, not three
    view = (await client.get(f"{EMAIL}/{body['data']['convId']}", headers=auth())).json()
    assert [m["sub"] for m in view["messages"]] == ["Goods Delivary Status"]  # the first wins


async def test_concurrent_repeats_of_one_msg_id_store_it_once(
    client: httpx.AsyncClient, demo_database: Database
) -> None:
    body = contact()
    responses = await asyncio.gather(
        *(client.post(EMAIL, json=body, headers=auth()) for _ in range(8))
    )
    assert {r.status_code for r in responses} == {202}
    assert await count(demo_database, t.analytics_messages) == 1
    assert await count(demo_database, t.analytics_conversations) == 1


async def test_same_msg_id_in_another_conversation_is_another_message(
    client: httpx.AsyncClient, demo_database: Database
) -> None:
    first = contact(msg_id="0238f22a-4252-11ea-b77f-2e728ce88125")
    second = contact(msg_id="0238f22a-4252-11ea-b77f-2e728ce88125")
    for body in (first, second):
        assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202
    assert await count(demo_database, t.analytics_messages) == 2
    assert await count(demo_database, t.analytics_conversations) == 2


async def test_messages_group_by_conv_id_with_direction_from_agent_email_id(
    client: httpx.AsyncClient, run_worker: RunWorker
) -> None:
    conv_id = "conv-grouping"
    bodies = [
        contact(conv_id=conv_id, ts=T0, inbound=True),
        contact(conv_id=conv_id, ts=T0 + 60_000, inbound=False),
        # The agent's address in another case still makes it the agent's message.
        with_value(
            contact(conv_id=conv_id, ts=T0 + 90_000, inbound=False), "data.from", AGENT.upper()
        ),
    ]
    for body in bodies:
        assert (await client.post(EMAIL, json=body, headers=auth())).status_code == 202
    await run_worker()
    view = (await client.get(f"{EMAIL}/{conv_id}", headers=auth())).json()
    assert [m["direction"] for m in view["messages"]] == ["participant", "agent", "agent"]
    assert view["messageCount"] == {"agent": 2, "participant": 1, "total": 3}
    assert view["participants"] == [CUSTOMER]
    assert view["agents"] == ["Agent1"]


async def test_unknown_conversation_is_404_in_the_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{EMAIL}/no-such-conversation", headers=auth())
    (problem,) = problems(response, 404)
    assert problem["type"] == "/errors/not-found"
    assert problem["title"] == "convId"


async def test_conversation_ids_with_slashes_round_trip(
    client: httpx.AsyncClient, run_worker: RunWorker
) -> None:
    conv_id = "mailbox/2024/thread 7"
    assert (
        await client.post(EMAIL, json=contact(conv_id=conv_id), headers=auth())
    ).status_code == 202
    await run_worker()
    response = await client.get(f"{EMAIL}/{conv_id}", headers=auth())
    assert response.status_code == 200
    assert response.json()["convId"] == conv_id
