"""Analytics tenants, API keys, conversations and messages; and the export connector's settings.

Two statements here are written for concurrency rather than with the ORM's add-and-flush:
storing a message and creating a conversation are `INSERT … ON CONFLICT DO NOTHING` on their
unique keys (both SQLite ≥ 3.24 and PostgreSQL have it), so two requests racing with the same
msgId or the first two messages of a conversation never fail on a unique violation: one row
wins and the other request sees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import undefer

from emaildesk.db import tables as t
from emaildesk.db.repositories.base import SqlRepository
from emaildesk.domain.activities import ActivityType, Substatus
from emaildesk.domain.analytics import (
    AnalyticsApiKey,
    AnalyticsCategory,
    AnalyticsConversation,
    AnalyticsMessage,
    AnalyticsOrganization,
    AnalyticsTenant,
    ExportRoute,
    ExportSettings,
    MessageState,
)
from emaildesk.domain.analytics_metrics import ConversationFact, MessageFact

# Activities a backfill exports: closed ones (sent, or completed), as a finished case's are.
_CLOSED = (Substatus.SENT, Substatus.COMPLETED)


# PostgreSQL `FOR NO KEY UPDATE`: a message insert takes `KEY SHARE` on the category and the
# conversation it references (its foreign keys), which `FOR UPDATE` would conflict with: two
# contacts of one category, each holding its insert's share lock and waiting for the other's to
# lock the row, deadlock. We never change those rows' keys, so the weaker lock is exact; two
# such locks still exclude each other, which is the serialization wanted.
_NO_KEY_UPDATE = {"key_share": True}


def _row_values(table: Table, entity: object) -> dict[str, Any]:
    """The entity's column values for a Core INSERT (the id comes from the database)."""
    return {c.name: getattr(entity, c.name) for c in table.columns if c.name != "id"}


class SqlAnalyticsRepository(SqlRepository):
    # --- tenants, organizations, categories, keys

    async def tenant(self, tenant_id: int) -> AnalyticsTenant | None:
        return await self.session.get(AnalyticsTenant, tenant_id)

    async def tenant_by_name(self, name: str) -> AnalyticsTenant | None:
        stmt = select(AnalyticsTenant).where(t.analytics_tenants.c.name == name)
        return (await self.session.scalars(stmt)).first()

    async def tenants(self) -> list[AnalyticsTenant]:
        stmt = select(AnalyticsTenant).order_by(t.analytics_tenants.c.name)
        return list(await self.session.scalars(stmt))

    async def organization(self, organization_id: int) -> AnalyticsOrganization | None:
        return await self.session.get(AnalyticsOrganization, organization_id)

    async def organization_by_name(self, tenant_id: int, name: str) -> AnalyticsOrganization | None:
        c = t.analytics_organizations.c
        stmt = select(AnalyticsOrganization).where(c.tenant_id == tenant_id, c.name == name)
        return (await self.session.scalars(stmt)).first()

    async def category(self, category_id: int) -> AnalyticsCategory | None:
        return await self.session.get(AnalyticsCategory, category_id)

    async def category_by_name(self, organization_id: int, name: str) -> AnalyticsCategory | None:
        c = t.analytics_categories.c
        stmt = select(AnalyticsCategory).where(c.organization_id == organization_id, c.name == name)
        return (await self.session.scalars(stmt)).first()

    async def lock_category(self, category_id: int) -> AnalyticsCategory | None:
        """Re-read with a row lock: two contacts adding keys at once must not lose one."""
        return await self.session.get(
            AnalyticsCategory, category_id, with_for_update=_NO_KEY_UPDATE, populate_existing=True
        )

    async def tenant_by_key_hash(self, key_hash: str) -> AnalyticsTenant | None:
        """The tenant of a live (unrevoked) key: one query, on every request's path."""
        k = t.analytics_api_keys.c
        stmt = (
            select(AnalyticsTenant)
            .join(t.analytics_api_keys, k.tenant_id == t.analytics_tenants.c.id)
            .where(k.key_hash == key_hash, k.revoked_at.is_(None))
        )
        return (await self.session.scalars(stmt)).first()

    async def category_by_names(
        self, tenant_id: int, organization_name: str, category_name: str
    ) -> AnalyticsCategory | None:
        """A category of the tenant by its organization's name and its own: one query."""
        o, c = t.analytics_organizations.c, t.analytics_categories.c
        stmt = (
            select(AnalyticsCategory)
            .join(t.analytics_organizations, c.organization_id == o.id)
            .where(o.tenant_id == tenant_id, o.name == organization_name, c.name == category_name)
        )
        return (await self.session.scalars(stmt)).first()

    async def api_key(self, key_id: int) -> AnalyticsApiKey | None:
        return await self.session.get(AnalyticsApiKey, key_id)

    async def api_key_by_hash(self, key_hash: str) -> AnalyticsApiKey | None:
        stmt = select(AnalyticsApiKey).where(t.analytics_api_keys.c.key_hash == key_hash)
        return (await self.session.scalars(stmt)).first()

    async def api_key_by_name(self, tenant_id: int, name: str) -> AnalyticsApiKey | None:
        c = t.analytics_api_keys.c
        stmt = select(AnalyticsApiKey).where(c.tenant_id == tenant_id, c.name == name)
        return (await self.session.scalars(stmt)).first()

    async def api_keys(self, tenant_id: int | None = None) -> list[AnalyticsApiKey]:
        c = t.analytics_api_keys.c
        stmt = select(AnalyticsApiKey).order_by(c.id)
        if tenant_id is not None:
            stmt = stmt.where(c.tenant_id == tenant_id)
        return list(await self.session.scalars(stmt))

    # --- conversations and messages

    async def conversation(self, tenant_id: int, conv_id: str) -> AnalyticsConversation | None:
        c = t.analytics_conversations.c
        stmt = select(AnalyticsConversation).where(c.tenant_id == tenant_id, c.conv_id == conv_id)
        return (await self.session.scalars(stmt)).first()

    async def lock_conversation(self, conversation_id: int) -> AnalyticsConversation | None:
        """The conversation, locked until commit: its aggregates are recomputed from all its
        messages, so two contact jobs of one conversation must take turns."""
        return await self.session.get(
            AnalyticsConversation,
            conversation_id,
            with_for_update=_NO_KEY_UPDATE,
            populate_existing=True,
        )

    async def conversation_id_for(self, conversation: AnalyticsConversation) -> int:
        """The id of the stored conversation with this tenant and convId, storing `conversation`
        when there is none yet (race-safe: see the module docstring)."""
        c = t.analytics_conversations.c
        where = (c.tenant_id == conversation.tenant_id, c.conv_id == conversation.conv_id)
        found = await self.session.scalar(select(c.id).where(*where))
        if found is not None:
            return int(found)
        insert = await self._insert(t.analytics_conversations)
        stmt = (
            insert.values(_row_values(t.analytics_conversations, conversation))
            .on_conflict_do_nothing(index_elements=["tenant_id", "conv_id"])
            .returning(c.id)
        )
        created = await self.session.scalar(stmt)
        if created is None:  # another transaction stored it first
            created = await self.session.scalar(select(c.id).where(*where))
        if created is None:
            raise RuntimeError("conversation vanished between insert and select")
        return int(created)

    async def add_message_if_new(self, message: AnalyticsMessage) -> bool:
        """Store the message unless (tenant, convId, msgId) is stored; say whether it was new.
        A new message gets its id; an old one is left alone (the first copy wins)."""
        c = t.analytics_messages.c
        insert = await self._insert(t.analytics_messages)
        stmt = (
            insert.values(_row_values(t.analytics_messages, message))
            .on_conflict_do_nothing(index_elements=["tenant_id", "conv_id", "msg_id"])
            .returning(c.id)
        )
        new_id = await self.session.scalar(stmt)
        if new_id is None:
            return False
        message.id = int(new_id)
        return True

    async def lock_message(self, message_id: int) -> AnalyticsMessage | None:
        return await self.session.get(
            AnalyticsMessage, message_id, with_for_update=True, populate_existing=True
        )

    async def processed_messages(self, conversation_id: int) -> list[AnalyticsMessage]:
        """The conversation's processed messages, without their bodies, oldest first."""
        c = t.analytics_messages.c
        stmt = (
            select(AnalyticsMessage)
            .where(c.conversation_id == conversation_id, c.state == MessageState.PROCESSED)
            .order_by(c.ts, c.id)
        )
        return list(await self.session.scalars(stmt))

    async def messages_with_bodies(self, conversation_id: int) -> list[AnalyticsMessage]:
        """Every message of the conversation (processed or not), bodies included."""
        c = t.analytics_messages.c
        stmt = (
            select(AnalyticsMessage)
            .options(undefer(inspect(AnalyticsMessage).attrs["body"].class_attribute))
            .where(c.conversation_id == conversation_id)
            .order_by(c.ts, c.id)
        )
        return list(await self.session.scalars(stmt))

    async def message_facts(
        self,
        tenant_id: int,
        since: int,
        until: int,
        *,
        organization_id: int | None = None,
        category_id: int | None = None,
        agent_id: str | None = None,
    ) -> list[MessageFact]:
        """Processed messages with `since ≤ ts < until` (epoch ms), as metrics facts."""
        c = t.analytics_messages.c
        stmt = select(
            c.conversation_id,
            c.organization_id,
            c.category_id,
            c.direction,
            c.agent_id,
            c.ts,
            c.response_ms,
        ).where(
            c.tenant_id == tenant_id,
            c.ts >= since,
            c.ts < until,
            c.state == MessageState.PROCESSED,
        )
        if organization_id is not None:
            stmt = stmt.where(c.organization_id == organization_id)
        if category_id is not None:
            stmt = stmt.where(c.category_id == category_id)
        if agent_id is not None:
            stmt = stmt.where(c.agent_id == agent_id)
        rows = await self.session.execute(stmt)
        return [MessageFact(*row) for row in rows]

    async def conversation_facts(
        self,
        tenant_id: int,
        since: int,
        until: int,
        *,
        organization_id: int | None = None,
        category_id: int | None = None,
    ) -> list[ConversationFact]:
        """Conversations whose first processed message has `since ≤ ts < until`."""
        c = t.analytics_conversations.c
        stmt = select(c.id, c.organization_id, c.category_id, c.first_response_ms).where(
            c.tenant_id == tenant_id, c.first_ts >= since, c.first_ts < until
        )
        if organization_id is not None:
            stmt = stmt.where(c.organization_id == organization_id)
        if category_id is not None:
            stmt = stmt.where(c.category_id == category_id)
        rows = await self.session.execute(stmt)
        return [ConversationFact(*row) for row in rows]

    async def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """The dialect's INSERT, which has `on_conflict_do_nothing` on both backends."""
        connection = await self.session.connection()
        if connection.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)


class SqlAnalyticsExportRepository(SqlRepository):
    async def settings(self) -> ExportSettings | None:
        stmt = select(ExportSettings).order_by(t.analytics_export_settings.c.id).limit(1)
        return (await self.session.scalars(stmt)).first()

    async def routes(self) -> list[ExportRoute]:
        stmt = select(ExportRoute).order_by(t.analytics_export_routes.c.department_id)
        return list(await self.session.scalars(stmt))

    async def route(self, department_id: int) -> ExportRoute | None:
        stmt = select(ExportRoute).where(t.analytics_export_routes.c.department_id == department_id)
        return (await self.session.scalars(stmt)).first()

    async def email_activity_ids(
        self,
        department_ids: Sequence[int],
        since: datetime,
        *,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[int]:
        """Ids of closed email activities of cases, in these departments, created at or after
        `since` (the backfill's pages, by id)."""
        if not department_ids:
            return []
        c = t.activities.c
        stmt = (
            select(c.id)
            .where(
                c.type == ActivityType.EMAIL,
                c.case_id.is_not(None),
                c.substatus.in_(_CLOSED),
                c.department_id.in_(department_ids),
                c.created_at >= since,
                c.id > after_id,
            )
            .order_by(c.id)
            .limit(limit)
        )
        return [int(i) for i in await self.session.scalars(stmt)]

    async def count_email_activities(self, department_ids: Sequence[int], since: datetime) -> int:
        if not department_ids:
            return 0
        c = t.activities.c
        stmt = select(func.count()).where(
            c.type == ActivityType.EMAIL,
            c.case_id.is_not(None),
            c.substatus.in_(_CLOSED),
            c.department_id.in_(department_ids),
            c.created_at >= since,
        )
        return int(await self.session.scalar(stmt) or 0)
