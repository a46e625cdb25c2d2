"""The schema: one `Table` per stored thing, with an index for every lookup path the APIs use.

Why Core tables rather than declarative models: the domain classes stay plain dataclasses and
`mapping.py` maps them onto these tables imperatively, so there is exactly one definition of each
entity (the dataclass) and one of its storage (here). Alembic migrations are checked against this
metadata by the test suite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.mutable import MutableDict, MutableList

from emaildesk.domain.activities import ActivityType, Mode, Substatus
from emaildesk.domain.custom_attributes import AttributeEntity, AttributeType
from emaildesk.domain.customers import ContactPointKind, CustomerType
from emaildesk.domain.ingestion import IngestionSource, IngestionState
from emaildesk.domain.outbox import JobState

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
IdType = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both backends (SQLite hands back naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSON columns that track in-place changes (`user.licenses.append(...)`), so that mutating a
# domain object's list or dict is saved like any other attribute change.
JsonList = MutableList.as_mutable(JSON)
JsonDict = MutableDict.as_mutable(JSON)


def enum_of(enum: type[Enum], length: int = 40) -> SqlEnum:
    """Store an enum by its value as a plain string (no native PG enum: migrations stay simple)."""
    return SqlEnum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def _id() -> Column[Any]:
    return Column("id", IdType, primary_key=True, autoincrement=True)


def _fk(name: str, target: str, nullable: bool = True, ondelete: str | None = None) -> Column[Any]:
    return Column(name, IdType, ForeignKey(target, ondelete=ondelete), nullable=nullable)


departments = Table(
    "departments",
    metadata,
    _id(),
    Column("name", String(255), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
)

partition_settings = Table(
    "partition_settings",
    metadata,
    _id(),
    Column("customer_departmentalization", Boolean, nullable=False),
    Column("secure_messaging_enabled", Boolean, nullable=False),
    Column("max_email_size_mb", Integer, nullable=False),
    Column("max_body_size_kb", Integer, nullable=False),
    Column("blocked_file_types", JsonList, nullable=False),
    Column("session_idle_minutes", Integer, nullable=False),
    Column("task_subtypes", JsonList, nullable=False),
)

email_aliases = Table(
    "email_aliases",
    metadata,
    _id(),
    Column("address", String(255), nullable=False, unique=True),
    _fk("department_id", "departments.id", nullable=False),
    Column("display_name", String(255), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
)

issue_types = Table(
    "issue_types",
    metadata,
    _id(),
    Column("name", String(255), nullable=False, unique=True),
    Column("active", Boolean, nullable=False, default=True),
)

message_centers = Table(
    "message_centers",
    metadata,
    _id(),
    Column("name", String(255), nullable=False, unique=True),
    _fk("department_id", "departments.id", nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("issue_type_ids", JsonList, nullable=False),
)

queues = Table(
    "queues",
    metadata,
    _id(),
    Column("name", String(255), nullable=False, unique=True),
    _fk("department_id", "departments.id", nullable=False),
)

roles = Table(
    "roles",
    metadata,
    _id(),
    Column("name", String(255), nullable=False, unique=True),
    Column("permissions", JsonList, nullable=False),
)

users = Table(
    "users",
    metadata,
    _id(),
    Column("login_id", String(255), nullable=False, unique=True),
    Column("external_id", String(255), nullable=True, unique=True),
    _fk("home_department_id", "departments.id", nullable=False),
    Column("first_name", String(255), nullable=False, default=""),
    Column("last_name", String(255), nullable=False, default=""),
    Column("email", String(255), nullable=False, default=""),
    Column("password_hash", String(255), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("licenses", JsonList, nullable=False),
    Column("role_names", JsonList, nullable=False),
    Column("foreign_department_ids", JsonList, nullable=False),
    Column("custom_attributes", JsonDict, nullable=False),
)

# Lookup path for "target user by customAttributes" (eGain v3 task); kept by the repository.
user_attribute_index = Table(
    "user_attribute_index",
    metadata,
    _fk("user_id", "users.id", nullable=False, ondelete="CASCADE"),
    Column("name", String(255), nullable=False),
    Column("value", String(255), nullable=False),
    UniqueConstraint("user_id", "name"),
    Index("ix_user_attribute_index_lookup", "name", "value"),
)

client_applications = Table(
    "client_applications",
    metadata,
    _id(),
    Column("name", String(255), nullable=False, unique=True),
    Column("client_id", String(255), nullable=False, unique=True),
    Column("secret_hash", String(255), nullable=False),
    Column("scopes", JsonList, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

custom_attribute_definitions = Table(
    "custom_attribute_definitions",
    metadata,
    _id(),
    Column("name", String(255), nullable=False),
    Column("entity", enum_of(AttributeEntity), nullable=False),
    Column("type", enum_of(AttributeType), nullable=False),
    Column("enum_values", JsonList, nullable=False),
    UniqueConstraint("entity", "name"),
)

customers = Table(
    "customers",
    metadata,
    _id(),
    _fk("department_id", "departments.id"),
    Column("type", enum_of(CustomerType), nullable=False),
)

contacts = Table(
    "contacts",
    metadata,
    _id(),
    _fk("customer_id", "customers.id", nullable=False, ondelete="CASCADE"),
    Column("first_name", String(255), nullable=False, default=""),
    Column("last_name", String(255), nullable=False, default=""),
    Index("ix_contacts_customer_id", "customer_id"),
)

contact_points = Table(
    "contact_points",
    metadata,
    _id(),
    _fk("contact_id", "contacts.id", nullable=False, ondelete="CASCADE"),
    _fk("customer_id", "customers.id", nullable=True, ondelete="CASCADE"),
    _fk("department_id", "departments.id"),
    Column("kind", enum_of(ContactPointKind), nullable=False),
    Column("name", String(255), nullable=True),
    Column("value", String(255), nullable=False),
    Column("normalized", String(255), nullable=False),
    # Lookup by contact point (searchContactOnAttribute, sender of an inbound email).
    Index("ix_contact_points_lookup", "kind", "normalized", "department_id"),
    Index("ix_contact_points_contact_id", "contact_id"),
)

customer_grants = Table(
    "customer_grants",
    metadata,
    _id(),
    _fk("grantee_id", "customers.id", nullable=False, ondelete="CASCADE"),
    _fk("grantor_id", "customers.id", nullable=False, ondelete="CASCADE"),
    UniqueConstraint("grantee_id", "grantor_id"),
    Index("ix_customer_grants_grantor_id", "grantor_id"),
)

cases = Table(
    "cases",
    metadata,
    _id(),
    _fk("customer_id", "customers.id"),
    _fk("department_id", "departments.id", nullable=False),
    Column("subject", String(255), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_cases_customer_id", "customer_id"),
)

activities = Table(
    "activities",
    metadata,
    _id(),
    _fk("case_id", "cases.id"),
    Column("type", enum_of(ActivityType), nullable=False),
    Column("subtype", String(64), nullable=False),
    Column("mode", enum_of(Mode), nullable=False),
    Column("substatus", enum_of(Substatus), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("due_date", UTCDateTime, nullable=True),
    Column("subject", String(255), nullable=False, default=""),
    Column("language", String(16), nullable=False),
    _fk("customer_id", "customers.id"),
    _fk("contact_id", "contacts.id"),
    _fk("contact_point_id", "contact_points.id"),
    _fk("department_id", "departments.id", nullable=False),
    _fk("last_department_id", "departments.id"),
    _fk("queue_id", "queues.id"),
    _fk("assigned_user_id", "users.id"),
    _fk("user_last_worked_id", "users.id"),
    _fk("issue_type_id", "issue_types.id"),
    Column("secure", Boolean, nullable=False, default=False),
    Column("sent_on_behalf", Boolean, nullable=False, default=False),
    Column("read", Boolean, nullable=False, default=False),
    Column("custom_attributes", JsonDict, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by_type", String(32), nullable=False, default=""),
    Column("created_by_id", IdType, nullable=True),
    Column("last_modified_at", UTCDateTime, nullable=False),
    Column("last_modified_by_type", String(32), nullable=False, default=""),
    Column("last_modified_by_id", IdType, nullable=True),
    Index("ix_activities_case_id", "case_id"),
    Index("ix_activities_customer_id", "customer_id"),
    Index("ix_activities_assigned_user_id", "assigned_user_id", "substatus"),
    Index("ix_activities_department_id", "department_id", "substatus"),
    Index("ix_activities_queue_id", "queue_id", "substatus"),
)

email_payloads = Table(
    "email_payloads",
    metadata,
    Column(
        "activity_id",
        IdType,
        ForeignKey("activities.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("from_address", String(255), nullable=False, default=""),
    Column("from_name", String(255), nullable=False, default=""),
    Column("to", JsonList, nullable=False),
    Column("cc", JsonList, nullable=False),
    Column("bcc", JsonList, nullable=False),
    Column("reply_to", String(255), nullable=True),
    _fk("receiver_alias_id", "email_aliases.id"),
    _fk("message_center_id", "message_centers.id"),
    Column("sent_date", UTCDateTime, nullable=True),
    Column("text", Text, nullable=True),
    Column("html", Text, nullable=True),
    Column("message_id", String(998), nullable=True),  # RFC 5322 §2.1.1 line limit
    Column("in_reply_to", String(998), nullable=True),
    Column("references", JsonList, nullable=False),
    # How the message was threaded into its case (token, header, subject, new) and why.
    Column("thread_reason", String(255), nullable=True),
    # RFC 3834 auto-submitted / bulk / bounce: stored, flagged, never auto-answered.
    Column("auto_submitted", Boolean, nullable=False, default=False),
    # Outbound delivery: the relay's last reply when a send failed (permanently or for now).
    Column("delivery_error", Text, nullable=True),
    Index("ix_email_payloads_message_id", "message_id"),
)

task_payloads = Table(
    "task_payloads",
    metadata,
    Column(
        "activity_id",
        IdType,
        ForeignKey("activities.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("text", Text, nullable=True),
    Column("html", Text, nullable=True),
)

notes = Table(
    "notes",
    metadata,
    _id(),
    _fk("activity_id", "activities.id", nullable=False, ondelete="CASCADE"),
    Column("text", Text, nullable=False),
    Column("author_type", String(32), nullable=False),
    Column("author_id", IdType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_notes_activity_id", "activity_id"),
)

attachments = Table(
    "attachments",
    metadata,
    _id(),
    _fk("activity_id", "activities.id", ondelete="CASCADE"),
    Column("alt_id", String(64), nullable=True, unique=True),
    Column("file_name", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("inline", Boolean, nullable=False, default=False),
    Column("content_id", String(255), nullable=True),
    Column("owner_type", String(32), nullable=False, default=""),
    Column("owner_id", IdType, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_attachments_activity_id", "activity_id"),
    Index("ix_attachments_sha256", "sha256"),
)

events = Table(
    "events",
    metadata,
    _id(),
    Column("kind", String(64), nullable=False),
    Column("aggregate_type", String(32), nullable=False),
    Column("aggregate_id", IdType, nullable=False),
    _fk("department_id", "departments.id"),
    Column("actor_type", String(32), nullable=False, default=""),
    Column("actor_id", IdType, nullable=True),
    Column("payload", JsonDict, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_events_aggregate", "aggregate_type", "aggregate_id"),
)

outbox_jobs = Table(
    "outbox_jobs",
    metadata,
    _id(),
    Column("kind", String(64), nullable=False),
    Column("payload", JsonDict, nullable=False),
    Column("state", enum_of(JobState), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("run_after", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("leased_by", String(128), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    # The claim query: due pending jobs, and running jobs whose lease ran out.
    Index("ix_outbox_jobs_claim", "state", "run_after"),
)

ingestions = Table(
    "ingestions",
    metadata,
    _id(),
    Column("source", enum_of(IngestionSource), nullable=False),
    Column("raw_sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("envelope_from", String(998), nullable=False),
    Column("recipients", JsonList, nullable=False),
    Column("state", enum_of(IngestionState), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime, nullable=True),
    Column("message_id", String(998), nullable=True),
    Column("sender", String(255), nullable=True),
    _fk("activity_id", "activities.id"),
    Column("reason", Text, nullable=True),
    Column("mailbox", String(255), nullable=True),
    Column("remote_uid", String(64), nullable=True),
    Index("ix_ingestions_state", "state", "received_at"),
    Index("ix_ingestions_message_id", "message_id"),
    # Per-sender rate limit: recent messages from one address.
    Index("ix_ingestions_sender", "sender", "received_at"),
    # IMAP: a message already taken from this mailbox is not taken twice.
    Index("ix_ingestions_remote", "mailbox", "remote_uid"),
)

auth_sessions = Table(
    "auth_sessions",
    metadata,
    _id(),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("actor_type", String(32), nullable=False),
    Column("actor_id", IdType, nullable=False),
    Column("csrf_token", String(64), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Index("ix_auth_sessions_actor", "actor_type", "actor_id"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    _id(),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("actor_type", String(32), nullable=False),
    Column("actor_id", IdType, nullable=False),
    Column("scopes", JsonList, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_access_tokens_expires_at", "expires_at"),
)


# The analytics store's tables live in their own module, on this metadata (imported last: it
# builds on the helpers above). Re-exported so `tables.<name>` keeps working everywhere.
from emaildesk.db import analytics_tables as _analytics  # noqa: E402

analytics_tenants: Table = _analytics.analytics_tenants
analytics_organizations: Table = _analytics.analytics_organizations
analytics_categories: Table = _analytics.analytics_categories
analytics_api_keys: Table = _analytics.analytics_api_keys
analytics_conversations: Table = _analytics.analytics_conversations
analytics_messages: Table = _analytics.analytics_messages
analytics_export_settings: Table = _analytics.analytics_export_settings
analytics_export_routes: Table = _analytics.analytics_export_routes
