"""Server-side sessions and bearer tokens, looked up by the hash of their secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from emaildesk.db import tables as t
from emaildesk.db.repositories.base import SqlRepository
from emaildesk.domain.auth import AccessToken, AuthSession


class SqlAuthRepository(SqlRepository):
    async def session_by_hash(self, token_hash: str) -> AuthSession | None:
        stmt = select(AuthSession).where(t.auth_sessions.c.token_hash == token_hash)
        return (await self.session.scalars(stmt)).first()

    async def sessions_of(self, actor_type: str, actor_id: int) -> list[AuthSession]:
        c = t.auth_sessions.c
        stmt = select(AuthSession).where(c.actor_type == actor_type, c.actor_id == actor_id)
        return list(await self.session.scalars(stmt.order_by(c.created_at, c.id)))

    async def end_session(self, auth_session: AuthSession) -> None:
        await self.session.delete(auth_session)
        await self.session.flush()

    async def token_by_hash(self, token_hash: str) -> AccessToken | None:
        stmt = select(AccessToken).where(t.access_tokens.c.token_hash == token_hash)
        return (await self.session.scalars(stmt)).first()

    async def purge_expired_tokens(self, now: datetime) -> None:
        await self.session.execute(
            delete(t.access_tokens).where(t.access_tokens.c.expires_at < now)
        )
