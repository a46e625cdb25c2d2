"""Receive an email contact (Uniphore `POST /contacts/email`) and add non-speech metadata to an
ingested one (`POST /contacts/nsmeta/insertion`).

Ingestion stores the message durably and enqueues its processing (`analytics.contact`) in the
caller's transaction, so the dialect acknowledges 202 only for what is stored (STYLE.md habit 3);
grouping and metrics happen in the job (services/analytics_processing.py). The conversation row
itself is created here, so a metadata insertion right after the 202 finds the contact.

Rules, in the order a request meets them:
- The bearer key must be a live key of a tenant (401 otherwise).
- `tenantName` must be the key's tenant: another tenant's name is 403, a name no tenant has is
  the seed's 400 "tenant/org/cat not found!", as are an unknown organization of the tenant or an
  unknown category of the organization.
- No restricted metadata key (the tenant's list, case-insensitive); at most 50 distinct keys per
  category over all its contacts.
- A repeated msgId in the same conversation (same tenant) is accepted again and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from emaildesk.domain import errors
from emaildesk.domain.analytics import (
    CONTACT_ACCEPTED,
    CONTACT_NOT_FOUND,
    CONVERSATION_AGGREGATE,
    ENTITY_NOT_FOUND,
    METADATA_INSERTED,
    TENANT_NOT_ALLOWED,
    AnalyticsCategory,
    AnalyticsConversation,
    AnalyticsMessage,
    AnalyticsTenant,
    EmailContact,
    check_metadata_keys,
)
from emaildesk.domain.auth import digest
from emaildesk.domain.events import Event
from emaildesk.services.outbox import enqueue
from emaildesk.services.ports import UnitOfWork

CONTACT_JOB = "analytics.contact"
TENANT_ACTOR_TYPE = "analytics_tenant"


@dataclass(frozen=True)
class IngestOutcome:
    conversation_id: int
    message_id: int | None  # None: a repeated msgId, nothing was stored
    job_id: int | None

    @property
    def duplicate(self) -> bool:
        return self.message_id is None


@dataclass(frozen=True)
class MetadataInsertion:
    """One validated `POST /contacts/nsmeta/insertion` body; `contact_id` is the convId."""

    tenant_name: str
    organization_name: str
    category_name: str
    contact_id: str
    metadata_map: Mapping[str, str]


async def authenticate(uow: UnitOfWork, key: str | None) -> AnalyticsTenant:
    """The tenant of a live API key; 401-104 for a missing, unknown or revoked key."""
    if not key:
        raise errors.INVALID_AUTHORIZATION()
    tenant = await uow.analytics.tenant_by_key_hash(digest(key))
    if tenant is None:
        raise errors.INVALID_AUTHORIZATION()
    return tenant


async def resolve_category(
    uow: UnitOfWork,
    tenant: AnalyticsTenant,
    tenant_name: str,
    organization_name: str,
    category_name: str,
) -> AnalyticsCategory:
    """The category the contact names (by its organization's name and its own), within the
    key's tenant."""
    if tenant_name != tenant.name:
        if await uow.analytics.tenant_by_name(tenant_name) is not None:
            raise TENANT_NOT_ALLOWED({"field": "metadata.tenantName"}, tenant=tenant_name)
        raise ENTITY_NOT_FOUND()
    assert tenant.id is not None
    category = await uow.analytics.category_by_names(tenant.id, organization_name, category_name)
    if category is None or category.id is None:
        raise ENTITY_NOT_FOUND()
    return category


async def ingest_email_contact(
    uow: UnitOfWork, tenant: AnalyticsTenant, contact: EmailContact
) -> IngestOutcome:
    """Store the contact's message and enqueue its processing; never commits."""
    category = await resolve_category(
        uow, tenant, contact.tenant_name, contact.organization_name, contact.category_name
    )
    check_metadata_keys(contact.metadata_map, tenant.restricted_metadata_keys)
    assert tenant.id is not None and category.id is not None
    conversation_id = await uow.analytics.conversation_id_for(
        AnalyticsConversation(tenant.id, contact.conv_id, category.organization_id, category.id)
    )
    message = AnalyticsMessage.from_contact(contact, tenant, category, conversation_id)
    if not await uow.analytics.add_message_if_new(message):
        return IngestOutcome(conversation_id, None, None)
    if contact.metadata_map:
        await _register_keys(uow, category, contact.metadata_map)
        await _merge_metadata(uow, conversation_id, contact.metadata_map)
    job = await enqueue(uow, CONTACT_JOB, {"message_id": message.id})
    await uow.events.append(
        Event(
            kind=CONTACT_ACCEPTED,
            aggregate_type=CONVERSATION_AGGREGATE,
            aggregate_id=conversation_id,
            payload={"message_id": message.id, "tenant_id": tenant.id},
            actor_type=TENANT_ACTOR_TYPE,
            actor_id=tenant.id,
        )
    )
    return IngestOutcome(conversation_id, message.id, job.id)


async def insert_metadata(
    uow: UnitOfWork, tenant: AnalyticsTenant, insertion: MetadataInsertion
) -> AnalyticsConversation:
    """Add or update metadata of an ingested conversation (never delete); never commits.

    Uniphore: "tenant/org/cat must be valid for the contact", so they must be the
    conversation's own; the 50-key limit of the category applies as at ingestion.
    """
    category = await resolve_category(
        uow,
        tenant,
        insertion.tenant_name,
        insertion.organization_name,
        insertion.category_name,
    )
    check_metadata_keys(insertion.metadata_map, tenant.restricted_metadata_keys)
    assert tenant.id is not None
    found = await uow.analytics.conversation(tenant.id, insertion.contact_id)
    if found is None or found.id is None:
        raise CONTACT_NOT_FOUND({"field": "data.contactId"}, contact_id=insertion.contact_id)
    if found.category_id != category.id:
        raise ENTITY_NOT_FOUND()
    await _register_keys(uow, category, insertion.metadata_map)
    conversation = await _merge_metadata(uow, found.id, insertion.metadata_map)
    await uow.events.append(
        Event(
            kind=METADATA_INSERTED,
            aggregate_type=CONVERSATION_AGGREGATE,
            aggregate_id=found.id,
            payload={"keys": len(insertion.metadata_map), "tenant_id": tenant.id},
            actor_type=TENANT_ACTOR_TYPE,
            actor_id=tenant.id,
        )
    )
    return conversation


async def _register_keys(uow: UnitOfWork, category: AnalyticsCategory, keys: Iterable[str]) -> None:
    """Record the category's new metadata keys under a row lock (re-checking the limit with
    what concurrent contacts added meanwhile); nothing is written when no key is new."""
    keys = list(keys)
    if not category.new_metadata_keys(keys):
        return
    assert category.id is not None
    locked = await uow.analytics.lock_category(category.id)
    if locked is None:
        raise ENTITY_NOT_FOUND()
    locked.register_metadata_keys(keys)


async def _merge_metadata(
    uow: UnitOfWork, conversation_id: int, values: Mapping[str, str]
) -> AnalyticsConversation:
    conversation = await uow.analytics.lock_conversation(conversation_id)
    if conversation is None:
        raise RuntimeError("a stored conversation vanished")
    conversation.merge_metadata(values)
    return conversation
