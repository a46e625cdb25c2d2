"""Password and client-secret hashing: Argon2id behind a small port.

Why a port: the use cases (login, token grants, the site file) need to hash and check secrets,
but tests must not pay production key-derivation costs on every seed user, and a future
deployment may need another scheme. Why Argon2id: it is the memory-hard function RFC 9106
recommends; the production parameters are its "second recommended option" for memory-constrained
environments (RFC 9106 §4: t=3, m=64 MiB, p=4), which argon2-cffi ships as `RFC_9106_LOW_MEMORY`.

Checking never raises: a wrong password and an unreadable stored hash (say, a user provisioned
without a password) both answer False, so callers have a single failure path that cannot leak
which case occurred.
"""

from __future__ import annotations

from typing import Protocol

from argon2 import PasswordHasher as _Argon2
from argon2 import Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError

# Cheapest parameters argon2 accepts (memory ≥ 8 KiB per lane, RFC 9106 §3.1): tests only.
_TEST_TIME_COST = 1
_TEST_MEMORY_COST_KIB = 8
_TEST_PARALLELISM = 1


class PasswordHasher(Protocol):
    """Hash a secret for storage, check a secret against a stored hash, and tell whether a
    stored hash was made with outdated parameters (so a successful login can upgrade it)."""

    def hash(self, password: str) -> str: ...

    def verify(self, hash: str, password: str) -> bool: ...

    def needs_rehash(self, hash: str) -> bool: ...


class Argon2PasswordHasher:
    """Argon2id via argon2-cffi; the no-argument constructor uses production parameters."""

    def __init__(
        self,
        *,
        time_cost: int = profiles.RFC_9106_LOW_MEMORY.time_cost,
        memory_cost: int = profiles.RFC_9106_LOW_MEMORY.memory_cost,
        parallelism: int = profiles.RFC_9106_LOW_MEMORY.parallelism,
    ) -> None:
        self._hasher = _Argon2(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=Type.ID,
        )

    @classmethod
    def for_tests(cls) -> Argon2PasswordHasher:
        """Real Argon2id with the cheapest legal parameters, so test suites stay fast while
        still exercising the real format, salts and verification."""
        return cls(
            time_cost=_TEST_TIME_COST,
            memory_cost=_TEST_MEMORY_COST_KIB,
            parallelism=_TEST_PARALLELISM,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, hash: str, password: str) -> bool:
        """True only for the right password; a mismatch or an unreadable hash is False."""
        try:
            return self._hasher.verify(hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hash: str) -> bool:
        """True when the hash was made with other parameters (or cannot be read at all)."""
        try:
            return self._hasher.check_needs_rehash(hash)
        except InvalidHashError:
            return True
