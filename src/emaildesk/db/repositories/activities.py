"""Cases, activities and attachments."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from emaildesk.db import tables as t
from emaildesk.db.repositories.base import SqlRepository
from emaildesk.domain.activities import Activity, Case
from emaildesk.domain.attachments import Attachment


class SqlCaseRepository(SqlRepository):
    async def get(self, case_id: int) -> Case | None:
        return await self.session.get(Case, case_id)

    async def get_many(self, ids: Sequence[int]) -> list[Case]:
        if not ids:
            return []
        return list(await self.session.scalars(select(Case).where(t.cases.c.id.in_(ids))))


class SqlActivityRepository(SqlRepository):
    async def get(self, activity_id: int) -> Activity | None:
        return await self.session.get(Activity, activity_id)

    async def get_many(self, ids: Sequence[int]) -> list[Activity]:
        """Activities with these ids, in the order asked (missing ids are simply absent)."""
        if not ids:
            return []
        found = {
            a.id: a
            for a in await self.session.scalars(select(Activity).where(t.activities.c.id.in_(ids)))
        }
        return [found[i] for i in ids if i in found]

    async def by_message_id(self, message_id: str) -> list[Activity]:
        """Email activities whose Message-ID is this one (threading, duplicates)."""
        ids = select(t.email_payloads.c.activity_id).where(
            t.email_payloads.c.message_id == message_id
        )
        stmt = select(Activity).where(t.activities.c.id.in_(ids)).order_by(t.activities.c.id)
        return list(await self.session.scalars(stmt))

    async def in_case(self, case_id: int) -> list[Activity]:
        stmt = select(Activity).where(t.activities.c.case_id == case_id).order_by(t.activities.c.id)
        return list(await self.session.scalars(stmt))


class SqlAttachmentRepository(SqlRepository):
    async def get(self, attachment_id: int) -> Attachment | None:
        return await self.session.get(Attachment, attachment_id)

    async def by_alt_id(self, alt_id: str) -> Attachment | None:
        stmt = select(Attachment).where(t.attachments.c.alt_id == alt_id)
        return (await self.session.scalars(stmt)).first()
