"""Analytics API keys: create (the key is shown once), list, revoke; and store a key a site
file names. Only the SHA-256 of a key is kept (domain/analytics.py `AnalyticsApiKey`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from emaildesk.domain import errors
from emaildesk.domain.analytics import ENTITY_NOT_FOUND, AnalyticsApiKey, AnalyticsTenant
from emaildesk.domain.auth import digest, new_secret
from emaildesk.domain.clock import utcnow
from emaildesk.services.ports import UnitOfWork

# A recognisable prefix lets secret scanners (and people) tell an emaildesk analytics key.
KEY_PREFIX = "eda_"
MIN_KEY_LENGTH = 16  # site-file keys: shorter ones are guessable


@dataclass(frozen=True)
class ListedKey:
    key: AnalyticsApiKey
    tenant_name: str


def new_api_key() -> str:
    return KEY_PREFIX + new_secret()


async def tenant_named(uow: UnitOfWork, name: str) -> AnalyticsTenant:
    tenant = await uow.analytics.tenant_by_name(name)
    if tenant is None:
        raise ENTITY_NOT_FOUND()
    return tenant


async def create_key(
    uow: UnitOfWork, tenant_name: str, name: str | None = None, *, now: datetime | None = None
) -> tuple[AnalyticsApiKey, str]:
    """A new key of the tenant, and its plain text (not stored: show it once)."""
    tenant = await tenant_named(uow, tenant_name)
    assert tenant.id is not None
    now = now or utcnow()
    name = name or f"key-{now:%Y%m%d%H%M%S}"
    if await uow.analytics.api_key_by_name(tenant.id, name) is not None:
        raise errors.DUPLICATE_NAME(entity="API key", name=name)
    plain = new_api_key()
    key = await uow.analytics.add(AnalyticsApiKey(tenant.id, name, digest(plain), created_at=now))
    return key, plain


async def list_keys(uow: UnitOfWork, tenant_name: str | None = None) -> list[ListedKey]:
    tenants = {t.id: t.name for t in await uow.analytics.tenants()}
    tenant_id = None
    if tenant_name is not None:
        tenant_id = (await tenant_named(uow, tenant_name)).id
    return [
        ListedKey(k, tenants.get(k.tenant_id, "")) for k in await uow.analytics.api_keys(tenant_id)
    ]


async def revoke_key(
    uow: UnitOfWork, key_id: int, *, now: datetime | None = None
) -> AnalyticsApiKey:
    """Revoke at once: the next request with the key is 401. Revoking twice changes nothing."""
    key = await uow.analytics.api_key(key_id)
    if key is None:
        raise errors.IDS_NOT_FOUND(ids=key_id)
    key.revoke(now)
    return key
