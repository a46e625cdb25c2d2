"""The SQL unit of work: one session, one transaction, every repository sharing it.

The caller (an HTTP request, a worker iteration, an SMTP transaction) opens it, calls use cases,
and commits once; leaving the block without a commit rolls everything back (STYLE.md habit 2).
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emaildesk.db.repositories.activities import (
    SqlActivityRepository,
    SqlAttachmentRepository,
    SqlCaseRepository,
)
from emaildesk.db.repositories.analytics import (
    SqlAnalyticsExportRepository,
    SqlAnalyticsRepository,
)
from emaildesk.db.repositories.auth import SqlAuthRepository
from emaildesk.db.repositories.customers import SqlCustomerRepository
from emaildesk.db.repositories.directory import SqlDirectoryRepository
from emaildesk.db.repositories.events import SqlEventLog, SqlOutbox
from emaildesk.db.repositories.ingestions import SqlIngestionRepository
from emaildesk.services import ports


class SqlUnitOfWork:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        session = self._sessionmaker()
        self._session = session
        # Annotated with the ports so this class satisfies the `UnitOfWork` protocol.
        self.directory: ports.DirectoryRepository = SqlDirectoryRepository(session)
        self.customers: ports.CustomerRepository = SqlCustomerRepository(session)
        self.cases: ports.CaseRepository = SqlCaseRepository(session)
        self.activities: ports.ActivityRepository = SqlActivityRepository(session)
        self.attachments: ports.AttachmentRepository = SqlAttachmentRepository(session)
        self.events: ports.EventLog = SqlEventLog(session)
        self.outbox: ports.Outbox = SqlOutbox(session)
        self.auth: ports.AuthRepository = SqlAuthRepository(session)
        self.ingestions: ports.IngestionRepository = SqlIngestionRepository(session)
        self.analytics: ports.AnalyticsRepository = SqlAnalyticsRepository(session)
        self.analytics_export: ports.AnalyticsExportRepository = SqlAnalyticsExportRepository(
            session
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back what was not committed, but unlike rollback() it does not expire
        # loaded objects: what a read-only unit of work loaded stays readable after the block.
        session = self.session
        self._session = None
        await session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class SqlUnitOfWorkFactory:
    """What the composition root hands to edges: call it to open a unit of work."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessionmaker)
