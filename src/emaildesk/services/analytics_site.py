"""Apply the `[analytics]` part of a site file, like the rest of it (services/site.py):
idempotent, nothing deleted by omission, secrets stored hashed, never commits.

- A tenant is found by name; its restricted metadata keys are updated when the file states them.
- Organizations (by name within the tenant) and categories (by name within the organization)
  are created when missing; nothing else about them is in the file.
- An API key is found by its name within the tenant. A new name is a new key; the same name
  with another key rotates it (the old key stops working at once, and a revoked one is live
  again under its new value); the same key again changes nothing — in particular a key revoked
  with `emaildesk analytics keys revoke` stays revoked.
- The export settings are one record; each department's route is found by its department.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from emaildesk.domain import errors
from emaildesk.domain.analytics import (
    AnalyticsApiKey,
    AnalyticsCategory,
    AnalyticsOrganization,
    AnalyticsTenant,
    ExportRoute,
    ExportSettings,
)
from emaildesk.domain.auth import digest
from emaildesk.domain.errors import DomainError
from emaildesk.services.analytics_site_spec import (
    AnalyticsApiKeySpec,
    AnalyticsExportSpec,
    AnalyticsOrganizationSpec,
    AnalyticsSiteSpec,
    AnalyticsTenantSpec,
)
from emaildesk.services.ports import UnitOfWork
from emaildesk.services.site import ENTRY_DETAIL, PROBLEM_DETAIL
from emaildesk.services.site_spec import Outcome, SiteReport

DepartmentId = Callable[[str, str], Awaitable[int]]
"""Resolve a department name for a file entry (the site applier's, which remembers them)."""

ENTRY = "analytics"


def _problem(entry: str, problem: str) -> DomainError:
    return errors.INVALID_ATTRIBUTE({ENTRY_DETAIL: entry, PROBLEM_DETAIL: problem}, attribute=entry)


def _changed(entity: object, desired: dict[str, object]) -> bool:
    """Set each stated (non-None) field that differs, as services/site.py does."""
    changed = False
    for name, value in desired.items():
        if value is not None and getattr(entity, name) != value:
            setattr(entity, name, value)
            changed = True
    return changed


async def apply_analytics(
    uow: UnitOfWork, spec: AnalyticsSiteSpec, report: SiteReport, department_id: DepartmentId
) -> None:
    for index, tenant in enumerate(spec.tenants):
        await _tenant(uow, tenant, f"{ENTRY}.tenants[{index}]", report)
    if spec.export is not None:
        await _export(uow, spec.export, f"{ENTRY}.export", report, department_id)


async def _tenant(
    uow: UnitOfWork, spec: AnalyticsTenantSpec, entry: str, report: SiteReport
) -> None:
    restricted = (
        None if spec.restricted_metadata_keys is None else list(spec.restricted_metadata_keys)
    )
    tenant = await uow.analytics.tenant_by_name(spec.name)
    if tenant is None:
        tenant = AnalyticsTenant(spec.name)
        _changed(tenant, {"restricted_metadata_keys": restricted})
        await uow.analytics.add(tenant)
        report.record("analytics_tenants", Outcome.CREATED)
    else:
        changed = _changed(tenant, {"restricted_metadata_keys": restricted})
        report.record("analytics_tenants", Outcome.UPDATED if changed else Outcome.UNCHANGED)
    assert tenant.id is not None
    for organization in spec.organizations:
        await _organization(uow, tenant.id, organization, report)
    for index, key in enumerate(spec.api_keys):
        await _api_key(uow, tenant.id, key, f"{entry}.api_keys[{index}]", report)


async def _organization(
    uow: UnitOfWork, tenant_id: int, spec: AnalyticsOrganizationSpec, report: SiteReport
) -> None:
    organization = await uow.analytics.organization_by_name(tenant_id, spec.name)
    if organization is None:
        organization = await uow.analytics.add(AnalyticsOrganization(tenant_id, spec.name))
        report.record("analytics_organizations", Outcome.CREATED)
    else:
        report.record("analytics_organizations", Outcome.UNCHANGED)
    assert organization.id is not None
    for name in spec.categories:
        if await uow.analytics.category_by_name(organization.id, name) is None:
            await uow.analytics.add(AnalyticsCategory(tenant_id, organization.id, name))
            report.record("analytics_categories", Outcome.CREATED)
        else:
            report.record("analytics_categories", Outcome.UNCHANGED)


async def _api_key(
    uow: UnitOfWork, tenant_id: int, spec: AnalyticsApiKeySpec, entry: str, report: SiteReport
) -> None:
    key_hash = digest(spec.key)
    holder = await uow.analytics.api_key_by_hash(key_hash)
    if holder is not None and (holder.tenant_id, holder.name) != (tenant_id, spec.name):
        raise _problem(f"{entry}.key", "this key is already another API key's")
    found = await uow.analytics.api_key_by_name(tenant_id, spec.name)
    if found is None:
        await uow.analytics.add(AnalyticsApiKey(tenant_id, spec.name, key_hash))
        report.record("analytics_api_keys", Outcome.CREATED)
    elif found.key_hash != key_hash:
        found.key_hash = key_hash
        found.revoked_at = None
        report.record("analytics_api_keys", Outcome.UPDATED)
    else:
        report.record("analytics_api_keys", Outcome.UNCHANGED)


async def _export(
    uow: UnitOfWork,
    spec: AnalyticsExportSpec,
    entry: str,
    report: SiteReport,
    department_id: DepartmentId,
) -> None:
    desired: dict[str, object] = {
        "url": spec.url,
        "token": spec.token,
        "enabled": spec.enabled,
        "conversation_prefix": spec.conversation_prefix,
        "default_lang": spec.default_lang,
    }
    settings = await uow.analytics_export.settings()
    if settings is None:
        settings = ExportSettings(spec.url, spec.token)
        _changed(settings, desired)
        await uow.analytics_export.add(settings)
        report.record("analytics_export", Outcome.CREATED)
    else:
        changed = _changed(settings, desired)
        report.record("analytics_export", Outcome.UPDATED if changed else Outcome.UNCHANGED)
    for index, route_spec in enumerate(spec.departments):
        at = f"{entry}.departments[{index}].department"
        department = await department_id(route_spec.department, at)
        names: dict[str, object] = {
            "tenant_name": route_spec.tenant,
            "organization_name": route_spec.organization,
            "category_name": route_spec.category,
        }
        route = await uow.analytics_export.route(department)
        if route is None:
            await uow.analytics_export.add(
                ExportRoute(
                    department, route_spec.tenant, route_spec.organization, route_spec.category
                )
            )
            report.record("analytics_export_routes", Outcome.CREATED)
        else:
            changed = _changed(route, names)
            outcome = Outcome.UPDATED if changed else Outcome.UNCHANGED
            report.record("analytics_export_routes", outcome)
