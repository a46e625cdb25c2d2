"""Authentication records: hashed secrets, idle expiry, token validity, and the eGain login cap
(api-notes §1.2: at most 5 concurrent sessions; the 6th login fails unless `forceLogin=yes`,
which ends the earliest session)."""

from __future__ import annotations

import hashlib
import random
import re
from datetime import UTC, datetime, timedelta

import pytest

from emaildesk.domain import errors
from emaildesk.domain.auth import (
    MAX_SESSIONS_PER_USER,
    AccessToken,
    AuthSession,
    digest,
    new_secret,
    sessions_to_end,
)
from emaildesk.domain.errors import DomainError

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


def sessions(count: int) -> list[AuthSession]:
    """`count` sessions created a minute apart, handed over in shuffled order."""
    made = [
        AuthSession(f"hash{i}", "user", 1, created_at=T0 + timedelta(minutes=i), id=i)
        for i in range(count)
    ]
    random.Random(count).shuffle(made)
    return made


def test_session_limit_is_five() -> None:
    assert MAX_SESSIONS_PER_USER == 5


@pytest.mark.parametrize("live", range(MAX_SESSIONS_PER_USER))
@pytest.mark.parametrize("force", [False, True])
def test_sessions_to_end_fewer_than_five_ends_none(live: int, force: bool) -> None:
    assert sessions_to_end(sessions(live), force=force) == []


def test_sessions_to_end_five_without_force_is_session_limit_reached() -> None:
    with pytest.raises(DomainError) as caught:
        sessions_to_end(sessions(5), force=False)
    assert caught.value.spec is errors.SESSION_LIMIT_REACHED
    assert caught.value.params == {"limit": "5"}


def test_sessions_to_end_five_with_force_ends_exactly_the_oldest() -> None:
    ended = sessions_to_end(sessions(5), force=True)
    assert [s.id for s in ended] == [0]


def test_sessions_to_end_over_the_cap_with_force_leaves_room_for_one() -> None:
    """If the cap was lowered or raced past, a forced login brings the count back to the cap."""
    ended = sessions_to_end(sessions(7), force=True)
    assert [s.id for s in ended] == [0, 1, 2]


def test_sessions_to_end_compares_naive_and_aware_creation_times_as_utc() -> None:
    live = sessions(5)
    oldest = next(s for s in live if s.id == 0)
    oldest.created_at = oldest.created_at.replace(tzinfo=None)  # as SQLite would hand it back
    assert sessions_to_end(live, force=True) == [oldest]


def test_session_expires_after_the_idle_period() -> None:
    idle = timedelta(minutes=30)
    session = AuthSession("h", "user", 1, created_at=T0, last_seen_at=T0)
    assert not session.expired(idle, now=T0 + idle)
    assert session.expired(idle, now=T0 + idle + timedelta(seconds=1))


def test_session_touch_postpones_expiry() -> None:
    idle = timedelta(minutes=30)
    session = AuthSession("h", "user", 1, created_at=T0, last_seen_at=T0)
    session.touch(now=T0 + timedelta(minutes=20))
    assert not session.expired(idle, now=T0 + timedelta(minutes=45))


def test_session_expiry_reads_naive_last_seen_as_utc() -> None:
    session = AuthSession("h", "user", 1, last_seen_at=T0.replace(tzinfo=None))
    assert session.expired(timedelta(minutes=1), now=T0 + timedelta(minutes=2))


def test_access_token_valid_until_expiry() -> None:
    token = AccessToken("h", "client_app", 1, issued_at=T0, expires_at=T0 + timedelta(hours=1))
    assert token.valid(now=T0 + timedelta(minutes=59))
    assert not token.valid(now=T0 + timedelta(hours=1))


def test_digest_is_the_sha256_hex_of_the_secret() -> None:
    assert digest("secret") == hashlib.sha256(b"secret").hexdigest()
    assert digest("secret") != digest("Secret")
    assert re.fullmatch(r"[0-9a-f]{64}", digest("x"))


def test_new_secret_is_random_url_safe_and_long() -> None:
    made = {new_secret() for _ in range(50)}
    assert len(made) == 50
    for secret in made:
        assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", secret)
