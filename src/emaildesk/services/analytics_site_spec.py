"""The `[analytics]` part of a site file as plain immutable data (see services/site_spec.py for
why the file's shape and the use case meet in plain dataclasses).

Tenants, their organizations and categories are the names contacts must use at this server's
ingestion API; API keys arrive in plain text and are stored hashed. The export section says where
this server posts its own finished conversations, and which receiver tenant / organization /
category each department reports to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Report sections of the analytics part, in the order they are applied (services/site_spec.py).
ANALYTICS_SECTIONS = (
    "analytics_tenants",
    "analytics_organizations",
    "analytics_categories",
    "analytics_api_keys",
    "analytics_export",
    "analytics_export_routes",
)


@dataclass(frozen=True)
class AnalyticsOrganizationSpec:
    """`[[analytics.tenants.organizations]]`: categories are only ever added."""

    name: str
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnalyticsApiKeySpec:
    """`[[analytics.tenants.api_keys]]`, identified by name within the tenant."""

    name: str
    key: str = field(repr=False)


@dataclass(frozen=True)
class AnalyticsTenantSpec:
    """`[[analytics.tenants]]`, identified by name. `restricted_metadata_keys` None: the file
    does not say (a new tenant gets the default list)."""

    name: str
    organizations: tuple[AnalyticsOrganizationSpec, ...] = ()
    api_keys: tuple[AnalyticsApiKeySpec, ...] = ()
    restricted_metadata_keys: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ExportRouteSpec:
    """`[[analytics.export.departments]]`: the receiver's names for one department's mail."""

    department: str
    tenant: str
    organization: str
    category: str


@dataclass(frozen=True)
class AnalyticsExportSpec:
    """`[analytics.export]`: the Uniphore-compatible endpoint and its bearer token."""

    url: str
    token: str = field(repr=False)
    enabled: bool | None = None
    conversation_prefix: str | None = None
    default_lang: str | None = None
    departments: tuple[ExportRouteSpec, ...] = ()


@dataclass(frozen=True)
class AnalyticsSiteSpec:
    tenants: tuple[AnalyticsTenantSpec, ...] = ()
    export: AnalyticsExportSpec | None = None
