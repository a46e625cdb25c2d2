"""Server-side login sessions: eGain v12 `X-egain-session` now, GWS session cookies later.

The rules (api-notes §1.2): a user holds at most five live sessions; the sixth login fails with
403-2001 unless forced (`forceLogin=yes`), which ends the oldest; a session idle longer than the
partition's `session_idle_minutes` is invalid (401-101, "New login is required"). Only the
SHA-256 of the session token is stored, so a copy of the database yields no live session; the
raw token is returned once, to be handed to the client.

Idle timeout: every function takes `idle` from its caller (an edge may cache it) or, when given
None, reads `PartitionSettings.session_idle_minutes` in the same unit of work, so an operator's
change applies to the next request without a restart.

Expired sessions found on the way are deleted. Like every change here the deletion is only
staged: it sticks when the caller commits (login commits on success; an edge that answers 401
may commit its unit of work too, and the next login of the user sweeps them anyway).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from emaildesk.domain import errors
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.auth import AuthSession, digest, new_secret, sessions_to_end
from emaildesk.domain.clock import as_utc, utcnow
from emaildesk.domain.users import User
from emaildesk.services.auth import check_user_password
from emaildesk.services.passwords import PasswordHasher
from emaildesk.services.ports import UnitOfWork

SESSION_HEADER = "X-egain-session"  # eGain v12: the header that carries the session id

# Touching `last_seen_at` on every request would turn every read into a write (and, on SQLite,
# serialize all requests on the database lock). Idle timeouts are counted in minutes, so
# recording activity at most every 30 s changes when a session expires by at most 30 s.
TOUCH_INTERVAL = timedelta(seconds=30)


async def idle_timeout(uow: UnitOfWork) -> timedelta:
    """The partition's idle timeout (`session_idle_minutes`, api-notes §1.2 [U]: default 30)."""
    settings = await uow.directory.settings()
    return timedelta(minutes=settings.session_idle_minutes)


async def login_user(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    login_id: str,
    password: str,
    *,
    force: bool,
    idle: timedelta | None = None,
    now: datetime | None = None,
) -> tuple[str, AuthSession, User]:
    """Check the credentials and open a session; returns (raw token, session, user).

    Raises `WRONG_CREDENTIALS` (unknown login, inactive user, wrong password: indistinguishable)
    or `SESSION_LIMIT_REACHED` when the user already holds five live sessions and `force` is
    False; with `force`, the oldest session ends to make room."""
    now = now or utcnow()
    idle = idle if idle is not None else await idle_timeout(uow)
    user = await check_user_password(uow, hasher, login_id, password)
    assert user.id is not None
    live: list[AuthSession] = []
    for existing in await uow.auth.sessions_of(ActorType.USER.value, user.id):
        if existing.expired(idle, now):
            # Idle sessions do not count toward the cap: sweep them first.
            await uow.auth.end_session(existing)
        else:
            live.append(existing)
    for oldest in sessions_to_end(live, force):
        await uow.auth.end_session(oldest)
    token = new_secret()
    auth_session = AuthSession(
        token_hash=digest(token),
        actor_type=ActorType.USER.value,
        actor_id=user.id,
        created_at=now,
        last_seen_at=now,
        csrf_token=new_secret(),
    )
    await uow.auth.add(auth_session)
    return token, auth_session, user


async def resolve_session(
    uow: UnitOfWork,
    token: str,
    *,
    idle: timedelta | None = None,
    now: datetime | None = None,
    header: str = SESSION_HEADER,
) -> Actor:
    """The actor behind a session token, or `INVALID_SESSION` naming `header` (missing,
    unknown, idle-expired, or its user gone or inactive). Records activity (see TOUCH_INTERVAL)."""
    now = now or utcnow()
    auth_session = await _live_session(uow, token, idle, now, header)
    user = await uow.directory.user(auth_session.actor_id)
    if user is None or not user.active:
        await uow.auth.end_session(auth_session)
        raise errors.INVALID_SESSION(header=header)
    if now - as_utc(auth_session.last_seen_at) >= TOUCH_INTERVAL:
        auth_session.touch(now)
    roles = await uow.directory.roles_named(user.role_names)
    return Actor.for_user(user, roles)


async def logout(
    uow: UnitOfWork,
    token: str,
    *,
    idle: timedelta | None = None,
    now: datetime | None = None,
    header: str = SESSION_HEADER,
) -> None:
    """End the session; an unknown or already idle-expired one is `INVALID_SESSION` (eGain v12
    logout answers 401 on an invalid session)."""
    auth_session = await _live_session(uow, token, idle, now or utcnow(), header)
    await uow.auth.end_session(auth_session)


async def _live_session(
    uow: UnitOfWork, token: str, idle: timedelta | None, now: datetime, header: str
) -> AuthSession:
    if not token:
        raise errors.INVALID_SESSION(header=header)
    auth_session = await uow.auth.session_by_hash(digest(token))
    # Sessions belong to users today; a session of another actor kind is not ours to honour.
    if auth_session is None or auth_session.actor_type != ActorType.USER.value:
        raise errors.INVALID_SESSION(header=header)
    idle = idle if idle is not None else await idle_timeout(uow)
    if auth_session.expired(idle, now):
        await uow.auth.end_session(auth_session)
        raise errors.INVALID_SESSION(header=header)
    return auth_session
