"""Map the domain dataclasses onto the tables (SQLAlchemy imperative mapping).

The domain never imports SQLAlchemy; this module teaches SQLAlchemy about the domain instead.
Relationships are eager (`selectin`) because async sessions cannot lazy-load, and because every
reader of an activity wants its payload and attachment list anyway (one extra batched query, never
one per row). Other references between aggregates are plain ids.
"""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.orm import deferred, registry, relationship

from emaildesk.db import tables as t
from emaildesk.domain.activities import Activity, Case, EmailPayload, Note, TaskPayload
from emaildesk.domain.analytics import (
    AnalyticsApiKey,
    AnalyticsCategory,
    AnalyticsConversation,
    AnalyticsMessage,
    AnalyticsOrganization,
    AnalyticsTenant,
    ExportRoute,
    ExportSettings,
)
from emaildesk.domain.attachments import Attachment
from emaildesk.domain.auth import AccessToken, AuthSession
from emaildesk.domain.custom_attributes import CustomAttributeDefinition
from emaildesk.domain.customers import Contact, ContactPoint, Customer, CustomerGrant
from emaildesk.domain.directory import (
    Department,
    EmailAlias,
    IssueType,
    MessageCenter,
    PartitionSettings,
    Queue,
)
from emaildesk.domain.events import Event
from emaildesk.domain.ingestion import Ingestion
from emaildesk.domain.outbox import OutboxJob
from emaildesk.domain.users import ClientApplication, Role, User

_SIMPLE = [
    (Department, t.departments),
    (PartitionSettings, t.partition_settings),
    (EmailAlias, t.email_aliases),
    (IssueType, t.issue_types),
    (MessageCenter, t.message_centers),
    (Queue, t.queues),
    (Role, t.roles),
    (User, t.users),
    (ClientApplication, t.client_applications),
    (CustomAttributeDefinition, t.custom_attribute_definitions),
    (ContactPoint, t.contact_points),
    (CustomerGrant, t.customer_grants),
    (Case, t.cases),
    (EmailPayload, t.email_payloads),
    (TaskPayload, t.task_payloads),
    (Note, t.notes),
    (Attachment, t.attachments),
    (Event, t.events),
    (OutboxJob, t.outbox_jobs),
    (Ingestion, t.ingestions),
    (AuthSession, t.auth_sessions),
    (AccessToken, t.access_tokens),
    (AnalyticsTenant, t.analytics_tenants),
    (AnalyticsOrganization, t.analytics_organizations),
    (AnalyticsCategory, t.analytics_categories),
    (AnalyticsApiKey, t.analytics_api_keys),
    (AnalyticsConversation, t.analytics_conversations),
    (ExportSettings, t.analytics_export_settings),
    (ExportRoute, t.analytics_export_routes),
]


def map_domain() -> registry:
    """Map every domain class once; calling again is a no-op (tests and the app both call it)."""
    mapper_registry = registry(metadata=t.metadata)
    if inspect(Department, raiseerr=False) is not None:
        return mapper_registry
    for cls, table in _SIMPLE:
        mapper_registry.map_imperatively(cls, table)
    owned = "all, delete-orphan"
    mapper_registry.map_imperatively(
        Contact,
        t.contacts,
        properties={
            "points": relationship(
                ContactPoint, cascade=owned, lazy="selectin", order_by=t.contact_points.c.id
            )
        },
    )
    mapper_registry.map_imperatively(
        Customer,
        t.customers,
        properties={
            "contacts": relationship(
                Contact, cascade=owned, lazy="selectin", order_by=t.contacts.c.id
            )
        },
    )
    mapper_registry.map_imperatively(
        Activity,
        t.activities,
        properties={
            "email": relationship(EmailPayload, uselist=False, cascade=owned, lazy="selectin"),
            "task": relationship(TaskPayload, uselist=False, cascade=owned, lazy="selectin"),
            "attachments": relationship(
                Attachment, lazy="selectin", order_by=t.attachments.c.id, cascade="all"
            ),
            "notes": relationship(Note, cascade=owned, lazy="selectin", order_by=t.notes.c.id),
        },
    )
    # An analytics message body may be 1 MB and the contact job re-reads every message of a
    # conversation: the body loads only when asked for (`undefer`), and reading it unasked
    # raises instead of lazy-loading (which async sessions cannot do).
    mapper_registry.map_imperatively(
        AnalyticsMessage,
        t.analytics_messages,
        properties={"body": deferred(t.analytics_messages.c.body, raiseload=True)},
    )
    return mapper_registry
