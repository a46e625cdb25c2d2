"""Login sessions (eGain v12 `X-egain-session`) against a real database, on both backends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from emaildesk.db import tables as t
from emaildesk.db.database import Database
from emaildesk.domain import errors
from emaildesk.domain.actors import ActorType
from emaildesk.domain.auth import MAX_SESSIONS_PER_USER, digest
from emaildesk.domain.clock import as_utc, utcnow
from emaildesk.domain.directory import Department, PartitionSettings
from emaildesk.domain.errors import DomainError
from emaildesk.domain.users import Action, Permission, Resource, Role, User
from emaildesk.services.passwords import Argon2PasswordHasher, PasswordHasher
from emaildesk.services.sessions import TOUCH_INTERVAL, login_user, logout, resolve_session

PASSWORD = "s3cret-pa55"
IDLE = timedelta(minutes=30)


@dataclass
class Site:
    user_id: int
    department_id: int


@pytest.fixture
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher.for_tests()


@pytest.fixture
async def site(database: Database, hasher: Argon2PasswordHasher) -> Site:
    async with database.uow() as uow:
        department = await uow.directory.add(Department("Service"))
        assert department.id is not None
        await uow.directory.add(Role("agent", ["View:Activity", "Create:Activity"]))
        await uow.directory.add(Role("unused", ["Manage:Partition"]))
        user = await uow.directory.add(
            User(
                "agent1",
                department.id,
                password_hash=hasher.hash(PASSWORD),
                licenses=["agent"],
                role_names=["agent"],
            )
        )
        await uow.directory.add(
            User("retired", department.id, password_hash=hasher.hash(PASSWORD), active=False)
        )
        await uow.commit()
        assert user.id is not None
        return Site(user.id, department.id)


async def login(
    database: Database,
    hasher: PasswordHasher,
    now: datetime,
    *,
    login_id: str = "agent1",
    password: str = PASSWORD,
    force: bool = False,
) -> str:
    async with database.uow() as uow:
        token, _, _ = await login_user(
            uow, hasher, login_id, password, force=force, idle=IDLE, now=now
        )
        await uow.commit()
        return token


async def is_valid(database: Database, token: str, now: datetime) -> bool:
    async with database.uow() as uow:
        try:
            await resolve_session(uow, token, idle=IDLE, now=now)
        except DomainError:
            return False
        return True


async def session_rows(database: Database) -> list[dict[str, object]]:
    async with database.engine.connect() as connection:
        result = await connection.execute(select(t.auth_sessions))
        return [dict(row._mapping) for row in result]


async def session_count(database: Database) -> int:
    async with database.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(t.auth_sessions)) or 0)


async def test_login_stores_only_a_hash_of_the_token(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    token = await login(database, hasher, utcnow())
    rows = await session_rows(database)
    assert len(rows) == 1
    assert rows[0]["token_hash"] == digest(token)
    assert rows[0]["actor_type"] == ActorType.USER.value
    assert rows[0]["actor_id"] == site.user_id
    assert all(token not in str(value) for value in rows[0].values())


async def test_login_issues_a_csrf_token_distinct_from_the_session_token(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    async with database.uow() as uow:
        token, auth_session, user = await login_user(
            uow, hasher, "agent1", PASSWORD, force=False, idle=IDLE
        )
        await uow.commit()
    assert user.id == site.user_id
    assert len(auth_session.csrf_token) >= 32
    assert auth_session.csrf_token != token


async def test_unknown_login_and_wrong_password_give_the_same_error(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    with pytest.raises(DomainError) as unknown:
        await login(database, hasher, utcnow(), login_id="nobody")
    with pytest.raises(DomainError) as wrong:
        await login(database, hasher, utcnow(), password="wrong")
    assert unknown.value.spec is errors.WRONG_CREDENTIALS
    assert wrong.value.spec is errors.WRONG_CREDENTIALS
    assert unknown.value.english() == wrong.value.english()
    assert await session_count(database) == 0


class CountingHasher:
    """A PasswordHasher that counts key derivations (hash and verify each run one)."""

    def __init__(self) -> None:
        self._inner = Argon2PasswordHasher.for_tests()
        self.derivations = 0

    def hash(self, password: str) -> str:
        self.derivations += 1
        return self._inner.hash(password)

    def verify(self, hash: str, password: str) -> bool:
        self.derivations += 1
        return self._inner.verify(hash, password)

    def needs_rehash(self, hash: str) -> bool:
        return self._inner.needs_rehash(hash)


async def test_unknown_login_costs_one_key_derivation_like_a_wrong_password(
    database: Database, site: Site
) -> None:
    costs = {}
    for login_id, password in (("nobody", PASSWORD), ("agent1", "wrong"), ("retired", PASSWORD)):
        counting = CountingHasher()
        with pytest.raises(DomainError):
            await login(database, counting, utcnow(), login_id=login_id, password=password)
        costs[login_id] = counting.derivations
    assert costs == {"nobody": 1, "agent1": 1, "retired": 1}


async def test_inactive_user_cannot_log_in(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    with pytest.raises(DomainError) as failure:
        await login(database, hasher, utcnow(), login_id="retired")
    assert failure.value.spec is errors.WRONG_CREDENTIALS


async def test_sixth_login_fails_with_session_limit_reached(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    start = utcnow()
    for i in range(MAX_SESSIONS_PER_USER):
        await login(database, hasher, start + timedelta(seconds=i))
    with pytest.raises(DomainError) as failure:
        await login(database, hasher, start + timedelta(seconds=10))
    assert failure.value.code == "403-2001"
    assert failure.value.params == {"limit": "5"}
    assert await session_count(database) == MAX_SESSIONS_PER_USER


async def test_forced_sixth_login_ends_exactly_the_oldest(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    start = utcnow()
    tokens = [
        await login(database, hasher, start + timedelta(seconds=i))
        for i in range(MAX_SESSIONS_PER_USER)
    ]
    newest = await login(database, hasher, start + timedelta(seconds=10), force=True)
    later = start + timedelta(seconds=20)
    assert await session_count(database) == MAX_SESSIONS_PER_USER
    assert not await is_valid(database, tokens[0], later)
    for token in [*tokens[1:], newest]:
        assert await is_valid(database, token, later)


async def test_idle_sessions_do_not_count_toward_the_cap(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    start = utcnow()
    for i in range(MAX_SESSIONS_PER_USER):
        await login(database, hasher, start + timedelta(seconds=i))
    after_idle = start + IDLE + timedelta(minutes=1)
    fresh = await login(database, hasher, after_idle)  # not forced, yet allowed
    rows = await session_rows(database)
    assert [row["token_hash"] for row in rows] == [digest(fresh)]


async def test_resolve_session_returns_the_user_actor_with_role_permissions(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    now = utcnow()
    token = await login(database, hasher, now)
    async with database.uow() as uow:
        actor = await resolve_session(uow, token, idle=IDLE, now=now)
    assert actor.type is ActorType.USER
    assert actor.id == site.user_id
    assert actor.name == "agent1"
    assert actor.permissions == frozenset(
        {Permission(Action.VIEW, Resource.ACTIVITY), Permission(Action.CREATE, Resource.ACTIVITY)}
    )
    assert actor.department_ids == frozenset({site.department_id})
    assert actor.licensed is True


async def test_session_expires_after_the_idle_timeout(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    start = utcnow()
    token = await login(database, hasher, start)
    assert await is_valid(database, token, start + IDLE - timedelta(seconds=1))
    async with database.uow() as uow:
        with pytest.raises(DomainError) as failure:
            await resolve_session(uow, token, idle=IDLE, now=start + IDLE + timedelta(seconds=1))
        await uow.commit()  # an edge that commits keeps the sweep
    assert failure.value.spec is errors.INVALID_SESSION
    assert failure.value.english() == (
        "Invalid or expired 'X-egain-session' header provided. New login is required."
    )
    assert await session_count(database) == 0


async def test_idle_timeout_comes_from_partition_settings_when_not_given(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    async with database.uow() as uow:
        await uow.directory.add(PartitionSettings(session_idle_minutes=5))
        await uow.commit()
    start = utcnow()
    async with database.uow() as uow:
        token, _, _ = await login_user(uow, hasher, "agent1", PASSWORD, force=False, now=start)
        await uow.commit()
    async with database.uow() as uow:
        await resolve_session(uow, token, now=start + timedelta(minutes=4))
    async with database.uow() as uow:
        with pytest.raises(DomainError) as failure:
            await resolve_session(uow, token, now=start + timedelta(minutes=6))
    assert failure.value.spec is errors.INVALID_SESSION


async def test_activity_is_recorded_at_most_every_touch_interval(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    start = utcnow()
    token = await login(database, hasher, start)

    async def resolve_at(moment: datetime) -> datetime:
        async with database.uow() as uow:
            await resolve_session(uow, token, idle=IDLE, now=moment)
            await uow.commit()
        rows = await session_rows(database)
        last_seen = rows[0]["last_seen_at"]
        assert isinstance(last_seen, datetime)
        return as_utc(last_seen)

    soon = start + TOUCH_INTERVAL - timedelta(seconds=1)
    assert await resolve_at(soon) == start  # no write for a request this close
    later = start + TOUCH_INTERVAL + timedelta(seconds=5)
    assert await resolve_at(later) == later
    # Activity moved the idle window: still valid past the original deadline.
    assert await is_valid(database, token, start + IDLE + timedelta(seconds=10))


async def test_session_of_a_deactivated_user_is_invalid(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    now = utcnow()
    token = await login(database, hasher, now)
    async with database.uow() as uow:
        user = await uow.directory.user(site.user_id)
        assert user is not None
        user.active = False
        await uow.commit()
    async with database.uow() as uow:
        with pytest.raises(DomainError) as failure:
            await resolve_session(uow, token, idle=IDLE, now=now)
    assert failure.value.spec is errors.INVALID_SESSION


async def test_unknown_token_is_an_invalid_session(database: Database, site: Site) -> None:
    async with database.uow() as uow:
        for token in ("not-a-session", ""):
            with pytest.raises(DomainError) as failure:
                await resolve_session(uow, token, idle=IDLE)
            assert failure.value.spec is errors.INVALID_SESSION


async def test_logout_ends_the_session(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    now = utcnow()
    token = await login(database, hasher, now)
    other = await login(database, hasher, now)
    async with database.uow() as uow:
        await logout(uow, token, idle=IDLE, now=now)
        await uow.commit()
    assert not await is_valid(database, token, now)
    assert await is_valid(database, other, now)
    async with database.uow() as uow:
        with pytest.raises(DomainError) as failure:
            await logout(uow, token, idle=IDLE, now=now)
    assert failure.value.spec is errors.INVALID_SESSION


async def test_login_rehashes_an_outdated_password_hash(
    database: Database, hasher: Argon2PasswordHasher, site: Site
) -> None:
    outdated = Argon2PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    async with database.uow() as uow:
        user = await uow.directory.user(site.user_id)
        assert user is not None
        user.password_hash = outdated.hash(PASSWORD)
        old_hash = user.password_hash
        await uow.commit()
    await login(database, hasher, utcnow())
    async with database.uow() as uow:
        user = await uow.directory.user(site.user_id)
        assert user is not None
        assert user.password_hash != old_hash
        assert hasher.needs_rehash(user.password_hash) is False
        assert hasher.verify(user.password_hash, PASSWORD)
