"""Sessions and bearer tokens are found by the hash of their secret, never by the secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from repository_support import store

from emaildesk.db.database import Database
from emaildesk.domain.auth import AccessToken, AuthSession, digest

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


async def test_session_by_hash(database: Database) -> None:
    await store(database, AuthSession(digest("raw-token"), "user", 7, created_at=T0))
    async with database.uow() as uow:
        found = await uow.auth.session_by_hash(digest("raw-token"))
        assert found is not None
        assert (found.actor_type, found.actor_id) == ("user", 7)
        assert await uow.auth.session_by_hash("raw-token") is None
        assert await uow.auth.session_by_hash(digest("other")) is None


async def test_sessions_of_an_actor_oldest_first(database: Database) -> None:
    await store(
        database,
        AuthSession(digest("b"), "user", 7, created_at=T0 + timedelta(minutes=2)),
        AuthSession(digest("a"), "user", 7, created_at=T0),
        AuthSession(digest("c"), "user", 8, created_at=T0),
        AuthSession(digest("d"), "customer", 7, created_at=T0),
    )
    async with database.uow() as uow:
        mine = await uow.auth.sessions_of("user", 7)
    assert [s.token_hash for s in mine] == [digest("a"), digest("b")]


async def test_end_session_deletes_it(database: Database) -> None:
    await store(database, AuthSession(digest("a"), "user", 7), AuthSession(digest("b"), "user", 7))
    async with database.uow() as uow:
        found = await uow.auth.session_by_hash(digest("a"))
        assert found is not None
        await uow.auth.end_session(found)
        await uow.commit()
    async with database.uow() as uow:
        assert await uow.auth.session_by_hash(digest("a")) is None
        assert [s.token_hash for s in await uow.auth.sessions_of("user", 7)] == [digest("b")]


async def test_token_by_hash_and_purge_of_expired_tokens(database: Database) -> None:
    await store(
        database,
        AccessToken(digest("old"), "client_app", 1, ["s"], T0, expires_at=T0 + timedelta(hours=1)),
        AccessToken(digest("new"), "user", 2, ["s"], T0, expires_at=T0 + timedelta(hours=3)),
    )
    async with database.uow() as uow:
        found = await uow.auth.token_by_hash(digest("new"))
        assert found is not None
        assert found.scopes == ["s"]
        await uow.auth.purge_expired_tokens(T0 + timedelta(hours=2))
        await uow.commit()
    async with database.uow() as uow:
        assert await uow.auth.token_by_hash(digest("old")) is None
        assert await uow.auth.token_by_hash(digest("new")) is not None
