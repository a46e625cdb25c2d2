"""Checking who is knocking: a user's password, a client application's secret.

Shared by every way in that takes credentials (v12 session login, the OAuth2 token endpoint,
later GWS Basic auth), so the rules live once:

- An unknown login, an inactive account and a wrong password fail with the same error, and take
  the same time: for an unknown login we still run one key derivation (hashing the offered
  password costs what verifying it would), so response timing does not reveal which logins exist.
- A stored hash made with outdated parameters is upgraded on the next successful check (the only
  moment the plain secret is at hand); the caller's commit makes it stick.
- Key derivation is deliberately slow (tens of milliseconds, memory-hard) and releases the GIL,
  so it runs in a worker thread instead of stalling every other request on the event loop.
"""

from __future__ import annotations

import asyncio

from emaildesk.domain import errors
from emaildesk.domain.users import ClientApplication, User
from emaildesk.services.passwords import PasswordHasher
from emaildesk.services.ports import UnitOfWork


async def check_user_password(
    uow: UnitOfWork, hasher: PasswordHasher, login_id: str, password: str
) -> User:
    """The active user with this login and password, else `WRONG_CREDENTIALS` (same error and
    same cost whether the login is unknown, inactive or the password wrong)."""
    user = await uow.directory.user_by_login(login_id)
    if user is None or not user.password_hash:
        await _spend_one_derivation(hasher, password)
        raise errors.WRONG_CREDENTIALS()
    matches = await asyncio.to_thread(hasher.verify, user.password_hash, password)
    if not matches or not user.active:
        raise errors.WRONG_CREDENTIALS()
    if hasher.needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(hasher.hash, password)
    return user


async def authenticate_client(
    uow: UnitOfWork, hasher: PasswordHasher, client_id: str | None, client_secret: str | None
) -> ClientApplication:
    """The active client application with this id and secret, else `INVALID_CLIENT`
    (RFC 6749 §5.2: missing, unknown, wrong secret and inactive all fail alike)."""
    if not client_id or client_secret is None:
        raise errors.INVALID_CLIENT()
    client = await uow.directory.client_by_client_id(client_id)
    if client is None or not client.secret_hash:
        await _spend_one_derivation(hasher, client_secret)
        raise errors.INVALID_CLIENT()
    matches = await asyncio.to_thread(hasher.verify, client.secret_hash, client_secret)
    if not matches or not client.active:
        raise errors.INVALID_CLIENT()
    if hasher.needs_rehash(client.secret_hash):
        client.secret_hash = await asyncio.to_thread(hasher.hash, client_secret)
    return client


async def _spend_one_derivation(hasher: PasswordHasher, secret: str) -> None:
    """Burn the time a real check would take. Hashing costs one key derivation with the
    hasher's current parameters, exactly what `verify` against a current hash costs; verifying
    against a fixed dummy hash would not, since its parameters could differ from the hasher's."""
    await asyncio.to_thread(hasher.hash, secret)
