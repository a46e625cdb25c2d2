"""conversation analytics: tenants, API keys, conversations, messages, export connector

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:20:25.144724
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import emaildesk.db.tables

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_export_settings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("token", sa.String(length=1024), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("conversation_prefix", sa.String(length=64), nullable=False),
        sa.Column("default_lang", sa.String(length=5), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_export_settings")),
    )
    op.create_table(
        "analytics_tenants",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("restricted_metadata_keys", sa.JSON(), nullable=False),
        sa.Column("created_at", emaildesk.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_tenants")),
        sa.UniqueConstraint("name", name=op.f("uq_analytics_tenants_name")),
    )
    op.create_table(
        "analytics_api_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", emaildesk.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", emaildesk.db.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["analytics_tenants.id"],
            name=op.f("fk_analytics_api_keys_tenant_id_analytics_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_analytics_api_keys_key_hash")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_analytics_api_keys_tenant_id_name")),
    )
    op.create_table(
        "analytics_export_routes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "department_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("tenant_name", sa.String(length=128), nullable=False),
        sa.Column("organization_name", sa.String(length=128), nullable=False),
        sa.Column("category_name", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_analytics_export_routes_department_id_departments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_export_routes")),
        sa.UniqueConstraint("department_id", name=op.f("uq_analytics_export_routes_department_id")),
    )
    op.create_table(
        "analytics_organizations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["analytics_tenants.id"],
            name=op.f("fk_analytics_organizations_tenant_id_analytics_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_organizations")),
        sa.UniqueConstraint(
            "tenant_id", "name", name=op.f("uq_analytics_organizations_tenant_id_name")
        ),
    )
    op.create_table(
        "analytics_categories",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("metadata_keys", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["analytics_organizations.id"],
            name=op.f("fk_analytics_categories_organization_id_analytics_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["analytics_tenants.id"],
            name=op.f("fk_analytics_categories_tenant_id_analytics_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_categories")),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_analytics_categories_organization_id_name")
        ),
    )
    op.create_table(
        "analytics_conversations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("conv_id", sa.String(length=256), nullable=False),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("journey_id", sa.String(length=256), nullable=True),
        sa.Column("metadata_map", sa.JSON(), nullable=False),
        sa.Column("agent_messages", sa.Integer(), nullable=False),
        sa.Column("participant_messages", sa.Integer(), nullable=False),
        sa.Column("first_ts", sa.BigInteger(), nullable=True),
        sa.Column("last_ts", sa.BigInteger(), nullable=True),
        sa.Column("first_response_ms", sa.BigInteger(), nullable=True),
        sa.Column("average_response_ms", sa.Float(), nullable=True),
        sa.Column("response_count", sa.Integer(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("agents", sa.JSON(), nullable=False),
        sa.Column("created_at", emaildesk.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", emaildesk.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["analytics_categories.id"],
            name=op.f("fk_analytics_conversations_category_id_analytics_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["analytics_organizations.id"],
            name=op.f("fk_analytics_conversations_organization_id_analytics_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["analytics_tenants.id"],
            name=op.f("fk_analytics_conversations_tenant_id_analytics_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_conversations")),
        sa.UniqueConstraint(
            "tenant_id", "conv_id", name=op.f("uq_analytics_conversations_tenant_id_conv_id")
        ),
    )
    op.create_index(
        "ix_analytics_conversations_journey",
        "analytics_conversations",
        ["tenant_id", "journey_id"],
        unique=False,
    )
    op.create_index(
        "ix_analytics_conversations_started",
        "analytics_conversations",
        ["tenant_id", "first_ts"],
        unique=False,
    )

    op.create_table(
        "analytics_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("conv_id", sa.String(length=256), nullable=False),
        sa.Column("msg_id", sa.String(length=36), nullable=False),
        sa.Column(
            "direction",
            sa.Enum("agent", "participant", name="direction", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum("received", "processed", name="messagestate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("subject", sa.String(length=78), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.String(length=50), nullable=False),
        sa.Column("agent_email", sa.String(length=256), nullable=False),
        sa.Column("participant_id", sa.String(length=50), nullable=False),
        sa.Column("participant_email", sa.String(length=256), nullable=False),
        sa.Column("from_address", sa.String(length=256), nullable=False),
        sa.Column("to", sa.JSON(), nullable=False),
        sa.Column("cc", sa.JSON(), nullable=False),
        sa.Column("bcc", sa.JSON(), nullable=False),
        sa.Column("journey_id", sa.String(length=256), nullable=True),
        sa.Column("metadata_map", sa.JSON(), nullable=False),
        sa.Column("response_ms", sa.BigInteger(), nullable=True),
        sa.Column("received_at", emaildesk.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", emaildesk.db.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["analytics_categories.id"],
            name=op.f("fk_analytics_messages_category_id_analytics_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["analytics_conversations.id"],
            name=op.f("fk_analytics_messages_conversation_id_analytics_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["analytics_organizations.id"],
            name=op.f("fk_analytics_messages_organization_id_analytics_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["analytics_tenants.id"],
            name=op.f("fk_analytics_messages_tenant_id_analytics_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_messages")),
        sa.UniqueConstraint(
            "tenant_id",
            "conv_id",
            "msg_id",
            name=op.f("uq_analytics_messages_tenant_id_conv_id_msg_id"),
        ),
    )
    op.create_index(
        "ix_analytics_messages_agent",
        "analytics_messages",
        ["tenant_id", "agent_id", "ts"],
        unique=False,
    )
    op.create_index(
        "ix_analytics_messages_conversation",
        "analytics_messages",
        ["conversation_id", "ts"],
        unique=False,
    )
    op.create_index(
        "ix_analytics_messages_range", "analytics_messages", ["tenant_id", "ts"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_analytics_messages_range", table_name="analytics_messages")
    op.drop_index("ix_analytics_messages_conversation", table_name="analytics_messages")
    op.drop_index("ix_analytics_messages_agent", table_name="analytics_messages")

    op.drop_table("analytics_messages")
    op.drop_index("ix_analytics_conversations_started", table_name="analytics_conversations")
    op.drop_index("ix_analytics_conversations_journey", table_name="analytics_conversations")

    op.drop_table("analytics_conversations")
    op.drop_table("analytics_categories")
    op.drop_table("analytics_organizations")
    op.drop_table("analytics_export_routes")
    op.drop_table("analytics_api_keys")
    op.drop_table("analytics_tenants")
    op.drop_table("analytics_export_settings")
