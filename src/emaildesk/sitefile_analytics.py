"""The `[analytics]` section of the site file: its shape, what the file alone can decide about it,
and its conversion to `AnalyticsSiteSpec` (kept apart from sitefile.py, which it extends).

```toml
[[analytics.tenants]]
name = "Demo Analytics"
restricted_metadata_keys = ["convId", "msgId"]      # optional; default list otherwise
  [[analytics.tenants.organizations]]
  name = "Support"
  categories = ["Email"]
  [[analytics.tenants.api_keys]]
  name = "demo"
  key = "plain text, stored hashed"

[analytics.export]
url = "https://analytics.example.com/contacts/email"
token = "bearer token of the receiver"
  [[analytics.export.departments]]
  department = "Service"
  tenant = "Acme Corp"
  organization = "Support"
  category = "Email"
```

Names follow the Uniphore field limits (128 characters). Problems name their place in the file
the way sitefile.py does (`analytics.tenants[0].api_keys[1].name: duplicate of ...`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from emaildesk.domain.analytics import LANGUAGES, MAX_NAME_LENGTH
from emaildesk.services.analytics_keys import MIN_KEY_LENGTH
from emaildesk.services.analytics_site_spec import (
    AnalyticsApiKeySpec,
    AnalyticsExportSpec,
    AnalyticsOrganizationSpec,
    AnalyticsSiteSpec,
    AnalyticsTenantSpec,
    ExportRouteSpec,
)

AnalyticsName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH)
]
DepartmentName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)
]
ApiKeyText = Annotated[str, StringConstraints(min_length=MIN_KEY_LENGTH, max_length=512)]
# RFC 9110 §4.2: the endpoint is an http(s) URI; the column is String(2048).
ExportUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2048)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Prefix = Annotated[str, StringConstraints(max_length=64)]
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=128)]


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError(f"'{value}' is not one of {', '.join(LANGUAGES)}")
    return value


Language = Annotated[str, AfterValidator(_language)]


class _Entry(BaseModel):
    # As sitefile.py's entries: strict types, unknown keys are typos.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ApiKeyModel(_Entry):
    name: AnalyticsName
    key: ApiKeyText


class OrganizationModel(_Entry):
    name: AnalyticsName
    categories: list[AnalyticsName] = Field(default_factory=list)


class TenantModel(_Entry):
    name: AnalyticsName
    restricted_metadata_keys: list[MetadataKey] | None = None
    organizations: list[OrganizationModel] = Field(default_factory=list)
    api_keys: list[ApiKeyModel] = Field(default_factory=list)


class ExportRouteModel(_Entry):
    department: DepartmentName
    tenant: AnalyticsName
    organization: AnalyticsName
    category: AnalyticsName


class ExportModel(_Entry):
    url: ExportUrl
    token: Token
    enabled: bool | None = None
    conversation_prefix: Prefix | None = None
    default_lang: Language | None = None
    departments: list[ExportRouteModel] = Field(default_factory=list)


class AnalyticsModel(_Entry):
    tenants: list[TenantModel] = Field(default_factory=list)
    export: ExportModel | None = None


def _duplicates(section: str, key: str, values: Iterable[str]) -> list[str]:
    found: list[str] = []
    first: dict[str, int] = {}
    key = f".{key}" if key else ""
    for index, value in enumerate(values):
        if value in first:
            found.append(f"{section}[{index}]{key}: duplicate of {section}[{first[value]}]")
        else:
            first[value] = index
    return found


def analytics_problems(
    model: AnalyticsModel | None, departments: set[str], self_contained: bool
) -> list[str]:
    """Duplicates within the section, and (self-contained files) unknown departments.
    `departments` holds the file's department names, case-folded as sitefile.py keeps them."""
    if model is None:
        return []
    at = "analytics.tenants"
    found = _duplicates(at, "name", (t.name for t in model.tenants))
    keys: dict[str, str] = {}
    for i, tenant in enumerate(model.tenants):
        found += _duplicates(
            f"{at}[{i}].organizations", "name", (o.name for o in tenant.organizations)
        )
        for j, organization in enumerate(tenant.organizations):
            found += _duplicates(
                f"{at}[{i}].organizations[{j}].categories", "", organization.categories
            )
        found += _duplicates(f"{at}[{i}].api_keys", "name", (k.name for k in tenant.api_keys))
        for j, key in enumerate(tenant.api_keys):
            place = f"{at}[{i}].api_keys[{j}].key"
            if key.key in keys:
                found.append(f"{place}: the same key as {keys[key.key]}")
            else:
                keys[key.key] = place
    if model.export is not None:
        routes = model.export.departments
        at = "analytics.export.departments"
        found += _duplicates(at, "department", (r.department.casefold() for r in routes))
        for i, route in enumerate(routes):
            if self_contained and route.department.casefold() not in departments:
                found.append(f"{at}[{i}].department: unknown department '{route.department}'")
    return found


def analytics_spec(model: AnalyticsModel | None) -> AnalyticsSiteSpec | None:
    if model is None:
        return None
    export = model.export
    return AnalyticsSiteSpec(
        tenants=tuple(
            AnalyticsTenantSpec(
                name=t.name,
                organizations=tuple(
                    AnalyticsOrganizationSpec(o.name, tuple(o.categories)) for o in t.organizations
                ),
                api_keys=tuple(AnalyticsApiKeySpec(k.name, k.key) for k in t.api_keys),
                restricted_metadata_keys=(
                    None
                    if t.restricted_metadata_keys is None
                    else tuple(t.restricted_metadata_keys)
                ),
            )
            for t in model.tenants
        ),
        export=None
        if export is None
        else AnalyticsExportSpec(
            url=export.url,
            token=export.token,
            enabled=export.enabled,
            conversation_prefix=export.conversation_prefix,
            default_lang=export.default_lang,
            departments=tuple(
                ExportRouteSpec(r.department, r.tenant, r.organization, r.category)
                for r in export.departments
            ),
        ),
    )
