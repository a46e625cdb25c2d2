"""The analytics use cases on both databases: ingestion and its idempotency, processing, and
what must hold when transactions race (PostgreSQL runs them truly concurrently)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from emaildesk.db.database import Database
from emaildesk.domain.analytics import (
    AnalyticsCategory,
    AnalyticsOrganization,
    AnalyticsTenant,
    EmailContact,
    MessageState,
)
from emaildesk.domain.auth import digest
from emaildesk.domain.errors import DomainError
from emaildesk.domain.outbox import JobState
from emaildesk.services.analytics_ingest import (
    CONTACT_JOB,
    authenticate,
    ingest_email_contact,
)
from emaildesk.services.analytics_keys import create_key, list_keys, revoke_key
from emaildesk.services.analytics_processing import process_contact

CONTACT = EmailContact(
    tenant_name="Acme",
    organization_name="Sales",
    category_name="Leads",
    conv_id="conv-1",
    msg_id="msg-1",
    lang="us-en",
    subject="Hello",
    ts=1_000,
    body="body",
    agent_id="A1",
    participant_id="P1",
    agent_email="agent@xyz.com",
    participant_email="ps@acme.com",
    from_address="ps@acme.com",
    to=("agent@xyz.com",),
)


@dataclass
class Site:
    tenant: AnalyticsTenant
    category: AnalyticsCategory
    key: str


@pytest.fixture
async def site(database: Database) -> Site:
    async with database.uow() as uow:
        tenant = await uow.analytics.add(AnalyticsTenant("Acme"))
        assert tenant.id is not None
        organization = await uow.analytics.add(AnalyticsOrganization(tenant.id, "Sales"))
        assert organization.id is not None
        category = await uow.analytics.add(AnalyticsCategory(tenant.id, organization.id, "Leads"))
        _, key = await create_key(uow, "Acme", "main")
        await uow.commit()
    return Site(tenant, category, key)


async def ingest(database: Database, site: Site, contact: EmailContact) -> int | None:
    async with database.uow() as uow:
        outcome = await ingest_email_contact(uow, site.tenant, contact)
        await uow.commit()
    return outcome.message_id


async def test_ingest_stores_message_conversation_job_and_event(
    database: Database, site: Site
) -> None:
    message_id = await ingest(database, site, CONTACT)
    assert message_id is not None
    async with database.uow() as uow:
        conversation = await uow.analytics.conversation(site.tenant.id or 0, "conv-1")
        assert conversation is not None and conversation.id is not None
        (message,) = await uow.analytics.messages_with_bodies(conversation.id)
        (job,) = await uow.outbox.in_state(JobState.PENDING)
        events = await uow.events.since(0)
    assert (message.id, message.state, message.body) == (message_id, MessageState.RECEIVED, "body")
    assert (job.kind, job.payload) == (CONTACT_JOB, {"message_id": message_id})
    assert [e.kind for e in events] == ["AnalyticsContactAccepted"]
    assert "ps@acme.com" not in str(events[0].payload)  # ids only, never addresses


async def test_repeated_contact_is_a_duplicate_without_a_job(
    database: Database, site: Site
) -> None:
    assert await ingest(database, site, CONTACT) is not None
    assert await ingest(database, site, replace(CONTACT, subject="changed")) is None
    async with database.uow() as uow:
        assert len(await uow.outbox.in_state(JobState.PENDING)) == 1


async def test_concurrent_identical_contacts_store_one_message(
    database: Database, site: Site
) -> None:
    results = await asyncio.gather(*(ingest(database, site, CONTACT) for _ in range(6)))
    assert sum(r is not None for r in results) == 1
    async with database.uow() as uow:
        assert len(await uow.outbox.in_state(JobState.PENDING)) == 1


async def test_concurrent_first_messages_share_one_conversation(
    database: Database, site: Site
) -> None:
    contacts = [replace(CONTACT, msg_id=f"m{i}", ts=i) for i in range(6)]
    await asyncio.gather(*(ingest(database, site, c) for c in contacts))
    async with database.uow() as uow:
        conversation = await uow.analytics.conversation(site.tenant.id or 0, "conv-1")
        assert conversation is not None and conversation.id is not None
        assert len(await uow.analytics.messages_with_bodies(conversation.id)) == 6


async def test_concurrent_new_metadata_keys_are_all_registered(
    database: Database, site: Site
) -> None:
    contacts = [
        replace(CONTACT, msg_id=f"m{i}", metadata_map={f"key{i}": "v", "shared": str(i)})
        for i in range(5)
    ]
    await asyncio.gather(*(ingest(database, site, c) for c in contacts))
    async with database.uow() as uow:
        category = await uow.analytics.category(site.category.id or 0)
        conversation = await uow.analytics.conversation(site.tenant.id or 0, "conv-1")
    assert category is not None and conversation is not None
    assert sorted(category.metadata_keys) == sorted(["shared", *(f"key{i}" for i in range(5))])
    assert set(conversation.metadata_map) == set(category.metadata_keys)


async def test_processing_is_idempotent_and_groups_in_order(database: Database, site: Site) -> None:
    late = await ingest(database, site, replace(CONTACT, msg_id="late", ts=5_000))
    reply = replace(CONTACT, msg_id="reply", ts=65_000, from_address="agent@xyz.com")
    answer = await ingest(database, site, reply)
    first = await ingest(database, site, replace(CONTACT, msg_id="first", ts=1_000))
    for message_id in (answer, late, first, answer):  # out of order, and once again
        assert message_id is not None
        async with database.uow() as uow:
            await process_contact(uow, message_id)
            await uow.commit()
    async with database.uow() as uow:
        conversation = await uow.analytics.conversation(site.tenant.id or 0, "conv-1")
        assert conversation is not None and conversation.id is not None
        messages = await uow.analytics.processed_messages(conversation.id)
        again = await process_contact(uow, first or 0)
    assert again is None
    assert [m.msg_id for m in messages] == ["first", "late", "reply"]
    assert [m.response_ms for m in messages] == [None, None, 64_000]  # waiting since 1 000
    assert (conversation.first_response_ms, conversation.message_count) == (64_000, 3)


async def test_processing_a_missing_message_is_not_found(database: Database) -> None:
    async with database.uow() as uow:
        with pytest.raises(DomainError) as raised:
            await process_contact(uow, 999)
    assert raised.value.code.startswith("404-")


async def test_keys_authenticate_until_revoked(database: Database, site: Site) -> None:
    async with database.uow() as uow:
        assert (await authenticate(uow, site.key)).name == "Acme"
        (listed,) = await list_keys(uow, "Acme")
        assert listed.key.key_hash == digest(site.key) and site.key not in str(listed)
        assert listed.key.id is not None
        await revoke_key(uow, listed.key.id)
        await uow.commit()
    async with database.uow() as uow:
        for key in (site.key, "", None, "other"):
            with pytest.raises(DomainError) as raised:
                await authenticate(uow, key)
            assert raised.value.code == "401-104"


async def test_key_names_are_unique_per_tenant(database: Database, site: Site) -> None:
    async with database.uow() as uow:
        with pytest.raises(DomainError) as raised:
            await create_key(uow, "Acme", "main")
        assert raised.value.code == "400-2034"
        with pytest.raises(DomainError):
            await create_key(uow, "No such tenant")


async def test_every_analytics_lookup_has_an_index(database: Database) -> None:
    wanted = {
        "analytics_api_keys": [["key_hash"]],
        "analytics_organizations": [["tenant_id", "name"]],
        "analytics_categories": [["organization_id", "name"]],
        "analytics_conversations": [["tenant_id", "conv_id"], ["tenant_id", "first_ts"]],
        "analytics_messages": [
            ["tenant_id", "conv_id", "msg_id"],
            ["conversation_id", "ts"],
            ["tenant_id", "ts"],
            ["tenant_id", "agent_id", "ts"],
        ],
        "analytics_export_routes": [["department_id"]],
    }

    def indexed(connection: Connection) -> dict[str, list[list[str]]]:
        inspector = inspect(connection)
        return {
            table: [[str(c) for c in i["column_names"]] for i in inspector.get_indexes(table)]
            + [list(u["column_names"]) for u in inspector.get_unique_constraints(table)]
            for table in wanted
        }

    async with database.engine.connect() as connection:
        found = await connection.run_sync(indexed)
    for table, indexes in wanted.items():
        for columns in indexes:
            assert columns in found[table], (table, columns, found[table])
