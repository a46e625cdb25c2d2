"""Tables of the conversation analytics store (Uniphore-compatible ingestion, issue #6).

Kept apart from `tables.py` so each module stays one concern; the tables are defined on the same
`metadata`, and `tables.py` re-exports them, so mappings, repositories and Alembic see one schema.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from emaildesk.db.tables import JsonDict, JsonList, UTCDateTime, _fk, _id, enum_of, metadata
from emaildesk.domain.analytics import Direction, MessageState

# --- conversation analytics (Uniphore-compatible ingestion, issue #6) -------------------------
# Name and field lengths are those of the Uniphore Email API field table (domain/analytics.py).

analytics_tenants: Table = Table(
    "analytics_tenants",
    metadata,
    _id(),
    Column("name", String(128), nullable=False, unique=True),
    Column("restricted_metadata_keys", JsonList, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

analytics_organizations: Table = Table(
    "analytics_organizations",
    metadata,
    _id(),
    _fk("tenant_id", "analytics_tenants.id", nullable=False, ondelete="CASCADE"),
    Column("name", String(128), nullable=False),
    UniqueConstraint("tenant_id", "name"),  # lookup by the contact's orgName
)

analytics_categories: Table = Table(
    "analytics_categories",
    metadata,
    _id(),
    _fk("tenant_id", "analytics_tenants.id", nullable=False, ondelete="CASCADE"),
    _fk("organization_id", "analytics_organizations.id", nullable=False, ondelete="CASCADE"),
    Column("name", String(128), nullable=False),
    Column("metadata_keys", JsonList, nullable=False),
    UniqueConstraint("organization_id", "name"),  # lookup by the contact's catName
)

analytics_api_keys: Table = Table(
    "analytics_api_keys",
    metadata,
    _id(),
    _fk("tenant_id", "analytics_tenants.id", nullable=False, ondelete="CASCADE"),
    Column("name", String(128), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),  # every request's lookup
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    UniqueConstraint("tenant_id", "name"),
)

analytics_conversations: Table = Table(
    "analytics_conversations",
    metadata,
    _id(),
    _fk("tenant_id", "analytics_tenants.id", nullable=False, ondelete="CASCADE"),
    Column("conv_id", String(256), nullable=False),
    _fk("organization_id", "analytics_organizations.id", nullable=False),
    _fk("category_id", "analytics_categories.id", nullable=False),
    Column("journey_id", String(256), nullable=True),
    Column("metadata_map", JsonDict, nullable=False),
    Column("agent_messages", Integer, nullable=False),
    Column("participant_messages", Integer, nullable=False),
    Column("first_ts", BigInteger, nullable=True),  # epoch milliseconds, as on the wire
    Column("last_ts", BigInteger, nullable=True),
    Column("first_response_ms", BigInteger, nullable=True),
    Column("average_response_ms", Float, nullable=True),
    Column("response_count", Integer, nullable=False),
    Column("participants", JsonList, nullable=False),
    Column("agents", JsonList, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "conv_id"),  # GET /contacts/email/{convId}, grouping
    # First-response metrics: conversations started in a range.
    Index("ix_analytics_conversations_started", "tenant_id", "first_ts"),
    Index("ix_analytics_conversations_journey", "tenant_id", "journey_id"),
)

analytics_messages: Table = Table(
    "analytics_messages",
    metadata,
    _id(),
    _fk("tenant_id", "analytics_tenants.id", nullable=False, ondelete="CASCADE"),
    _fk("organization_id", "analytics_organizations.id", nullable=False),
    _fk("category_id", "analytics_categories.id", nullable=False),
    _fk("conversation_id", "analytics_conversations.id", nullable=False, ondelete="CASCADE"),
    Column("conv_id", String(256), nullable=False),
    Column("msg_id", String(36), nullable=False),
    Column("direction", enum_of(Direction, 16), nullable=False),
    Column("state", enum_of(MessageState, 16), nullable=False),
    Column("lang", String(5), nullable=False),
    Column("subject", String(78), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Column("agent_id", String(50), nullable=False),
    Column("agent_email", String(256), nullable=False),
    Column("participant_id", String(50), nullable=False),
    Column("participant_email", String(256), nullable=False),
    Column("from_address", String(256), nullable=False),
    Column("to", JsonList, nullable=False),
    Column("cc", JsonList, nullable=False),
    Column("bcc", JsonList, nullable=False),
    Column("journey_id", String(256), nullable=True),
    Column("metadata_map", JsonDict, nullable=False),
    Column("response_ms", BigInteger, nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime, nullable=True),
    # Idempotency: a repeated msgId in the same conversation is the same message.
    UniqueConstraint("tenant_id", "conv_id", "msg_id"),
    Index("ix_analytics_messages_conversation", "conversation_id", "ts"),
    # Metrics over a date range, in total and per agent.
    Index("ix_analytics_messages_range", "tenant_id", "ts"),
    Index("ix_analytics_messages_agent", "tenant_id", "agent_id", "ts"),
)

analytics_export_settings: Table = Table(
    "analytics_export_settings",
    metadata,
    _id(),
    Column("url", String(2048), nullable=False),
    Column("token", String(1024), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("conversation_prefix", String(64), nullable=False),
    Column("default_lang", String(5), nullable=False),
)

analytics_export_routes: Table = Table(
    "analytics_export_routes",
    metadata,
    _id(),
    _fk("department_id", "departments.id", nullable=False, ondelete="CASCADE"),
    Column("tenant_name", String(128), nullable=False),
    Column("organization_name", String(128), nullable=False),
    Column("category_name", String(128), nullable=False),
    UniqueConstraint("department_id"),
)
