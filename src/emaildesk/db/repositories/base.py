"""What every SQL repository shares: the session it works in, and `add` that flushes for ids."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class SqlRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entity: T) -> T:
        """Stage an entity and flush, so its id is known (the caller still owns the commit)."""
        self.session.add(entity)
        await self.session.flush()
        return entity
