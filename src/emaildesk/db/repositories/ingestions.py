"""Ingestion records of received mail: by state (the worker's queue, the quarantine), by
Message-ID and sender (duplicates), by sender and time (rate limits), by IMAP uid."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text

from emaildesk.db import tables as t
from emaildesk.db.repositories.base import SqlRepository
from emaildesk.domain.ingestion import Ingestion, IngestionState


class SqlIngestionRepository(SqlRepository):
    async def get(self, ingestion_id: int) -> Ingestion | None:
        return await self.session.get(Ingestion, ingestion_id)

    async def lock(self, ingestion_id: int) -> Ingestion | None:
        """Re-read with a row lock: the worker that processes a message holds it."""
        return await self.session.get(
            Ingestion, ingestion_id, with_for_update=True, populate_existing=True
        )

    async def in_state(
        self, state: IngestionState, limit: int = 100, after_id: int = 0
    ) -> list[Ingestion]:
        c = t.ingestions.c
        stmt = select(Ingestion).where(c.state == state, c.id > after_id)
        return list(await self.session.scalars(stmt.order_by(c.id).limit(limit)))

    async def lock_message(self, message_id: str, sender: str) -> None:
        """Serialize the processing of one (Message-ID, sender) until this transaction ends, so
        two workers handling two deliveries of the same message cannot both store it. PostgreSQL:
        a transaction-scoped advisory lock on a hash of the pair. SQLite: nothing to do, every
        writing transaction already holds the database's single write lock."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"{sender} {message_id}"},
        )

    async def first_stored(self, message_id: str, sender: str) -> Ingestion | None:
        """The earliest message with this Message-ID from this sender that became (or was
        recognised as a duplicate of) an activity."""
        c = t.ingestions.c
        stmt = (
            select(Ingestion)
            .where(
                c.message_id == message_id,
                c.sender == sender,
                c.state.in_([IngestionState.STORED, IngestionState.DUPLICATE]),
                c.activity_id.is_not(None),
            )
            .order_by(c.id)
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    async def count_from_since(self, sender: str, since: datetime) -> int:
        c = t.ingestions.c
        stmt = select(func.count()).where(c.sender == sender, c.received_at >= since)
        return int(await self.session.scalar(stmt) or 0)

    async def by_remote(self, mailbox: str, remote_uid: str) -> Ingestion | None:
        c = t.ingestions.c
        stmt = select(Ingestion).where(c.mailbox == mailbox, c.remote_uid == remote_uid)
        return (await self.session.scalars(stmt.limit(1))).first()
