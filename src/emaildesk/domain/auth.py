"""Authentication records: server-side sessions (eGain v12, GWS) and bearer tokens (eGain v3).

Only hashes of secrets are stored: a stolen database does not yield live sessions. Sessions
expire after an idle period; a user holds at most five at once (eGain `forceLogin`, api-notes
§1.2): the sixth login fails unless forced, which ends the oldest.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from emaildesk.domain import errors
from emaildesk.domain.clock import as_utc, utcnow

MAX_SESSIONS_PER_USER = 5  # eGain v12 login: "max 5 concurrent sessions per user"


def new_secret() -> str:
    """A random opaque token (GUID-like length, URL-safe)."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(eq=False)
class AuthSession:
    token_hash: str
    actor_type: str
    actor_id: int
    created_at: datetime = field(default_factory=utcnow)
    last_seen_at: datetime = field(default_factory=utcnow)
    csrf_token: str = ""
    id: int | None = None

    def expired(self, idle: timedelta, now: datetime | None = None) -> bool:
        return (now or utcnow()) - as_utc(self.last_seen_at) > idle

    def touch(self, now: datetime | None = None) -> None:
        self.last_seen_at = now or utcnow()


def sessions_to_end(live: list[AuthSession], force: bool) -> list[AuthSession]:
    """Which live sessions a new login must end: none below the cap; the oldest when forced;
    otherwise the login is refused (eGain: sixth login fails unless `forceLogin=yes`)."""
    if len(live) < MAX_SESSIONS_PER_USER:
        return []
    if not force:
        raise errors.SESSION_LIMIT_REACHED(limit=MAX_SESSIONS_PER_USER)
    oldest_first = sorted(live, key=lambda s: as_utc(s.created_at))
    return oldest_first[: len(live) - MAX_SESSIONS_PER_USER + 1]


@dataclass(eq=False)
class AccessToken:
    token_hash: str
    actor_type: str
    actor_id: int
    scopes: list[str] = field(default_factory=list)
    issued_at: datetime = field(default_factory=utcnow)
    expires_at: datetime = field(default_factory=utcnow)
    id: int | None = None

    def valid(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) < as_utc(self.expires_at)
