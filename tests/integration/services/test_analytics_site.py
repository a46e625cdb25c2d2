"""The `[analytics]` section of the site file: what the file alone refuses, and applying it
(idempotent, keys hashed, rotation, revocation kept, export routes by department)."""

from __future__ import annotations

import pytest

from emaildesk.db.database import Database
from emaildesk.domain.analytics import DEFAULT_RESTRICTED_METADATA_KEYS
from emaildesk.domain.auth import digest
from emaildesk.domain.errors import DomainError
from emaildesk.services.analytics_keys import revoke_key
from emaildesk.services.passwords import Argon2PasswordHasher
from emaildesk.services.site import apply_site
from emaildesk.services.site_spec import SiteReport, SiteSpec
from emaildesk.sitefile import SiteFileError, parse_site

SITE = """
[[departments]]
name = "Service"

[[analytics.tenants]]
name = "Acme Corp"

[[analytics.tenants.organizations]]
name = "Sales"
categories = ["Leads", "Renewals"]

[[analytics.tenants.api_keys]]
name = "main"
key = "first-key-0123456789"

[analytics.export]
url = "https://analytics.example.com/contacts/email"
token = "receiver-token"

[[analytics.export.departments]]
department = "Service"
tenant = "Remote Corp"
organization = "Support"
category = "Email"
"""


async def apply(database: Database, spec: SiteSpec) -> SiteReport:
    async with database.uow() as uow:
        report = await apply_site(uow, spec, Argon2PasswordHasher.for_tests())
        await uow.commit()
    return report


def counts(report: SiteReport) -> dict[str, tuple[int, int, int]]:
    return {
        name: (c.created, c.updated, c.unchanged)
        for name, c in report.sections.items()
        if name.startswith("analytics") and c.total
    }


async def test_analytics_section_is_applied_once_and_then_unchanged(database: Database) -> None:
    first = await apply(database, parse_site(SITE))
    assert counts(first) == {
        "analytics_tenants": (1, 0, 0),
        "analytics_organizations": (1, 0, 0),
        "analytics_categories": (2, 0, 0),
        "analytics_api_keys": (1, 0, 0),
        "analytics_export": (1, 0, 0),
        "analytics_export_routes": (1, 0, 0),
    }
    second = await apply(database, parse_site(SITE))
    assert second.totals.created == second.totals.updated == 0
    async with database.uow() as uow:
        tenant = await uow.analytics.tenant_by_name("Acme Corp")
        assert tenant is not None and tenant.id is not None
        assert tenant.restricted_metadata_keys == list(DEFAULT_RESTRICTED_METADATA_KEYS)
        (key,) = await uow.analytics.api_keys(tenant.id)
        settings = await uow.analytics_export.settings()
        (route,) = await uow.analytics_export.routes()
    assert key.key_hash == digest("first-key-0123456789")
    assert settings is not None and settings.token == "receiver-token" and settings.enabled
    assert (route.tenant_name, route.organization_name, route.category_name) == (
        "Remote Corp",
        "Support",
        "Email",
    )


async def test_changed_key_rotates_and_revocation_survives_reapplying(database: Database) -> None:
    await apply(database, parse_site(SITE))
    async with database.uow() as uow:
        (key,) = await uow.analytics.api_keys()
        assert key.id is not None
        await revoke_key(uow, key.id)
        await uow.commit()
    again = await apply(database, parse_site(SITE))
    assert counts(again)["analytics_api_keys"] == (0, 0, 1)
    async with database.uow() as uow:
        (key,) = await uow.analytics.api_keys()
    assert not key.active  # the same key in the file does not undo a revocation
    rotated = await apply(database, parse_site(SITE.replace("first-key", "second-key")))
    assert counts(rotated)["analytics_api_keys"] == (0, 1, 0)
    async with database.uow() as uow:
        (key,) = await uow.analytics.api_keys()
    assert key.active and key.key_hash == digest("second-key-0123456789")


async def test_stated_values_update_tenant_and_route(database: Database) -> None:
    await apply(database, parse_site(SITE))
    changed = SITE.replace(
        'name = "Acme Corp"\n', 'name = "Acme Corp"\nrestricted_metadata_keys = ["x"]\n'
    )
    changed = changed.replace('tenant = "Remote Corp"', 'tenant = "Other Corp"')
    report = await apply(database, parse_site(changed))
    assert counts(report)["analytics_tenants"] == (0, 1, 0)
    assert counts(report)["analytics_export_routes"] == (0, 1, 0)
    async with database.uow() as uow:
        tenant = await uow.analytics.tenant_by_name("Acme Corp")
        (route,) = await uow.analytics_export.routes()
    assert tenant is not None and tenant.restricted_metadata_keys == ["x"]
    assert route.tenant_name == "Other Corp"


async def test_a_key_of_another_entry_is_refused_naming_the_entry(database: Database) -> None:
    await apply(database, parse_site(SITE))
    other = SITE.replace('name = "main"', 'name = "second"')
    with pytest.raises(DomainError) as raised:
        await apply(database, parse_site(other))
    assert raised.value.details["entry"] == "analytics.tenants[0].api_keys[0].key"


async def test_export_route_of_an_unknown_department_names_the_entry(database: Database) -> None:
    missing = SITE.replace('department = "Service"', 'department = "Billing"')
    with pytest.raises(DomainError) as raised:
        await apply(database, parse_site(missing))
    assert raised.value.details["entry"] == "analytics.export.departments[0].department"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('key = "first-key-0123456789"', 'key = "short"'), "analytics.tenants[0].api_keys[0].key"),
        (("categories = [", "colour = 1\ncategories = ["), "organizations[0].colour: unknown key"),
        (('url = "https://', 'url = "ftp://'), "analytics.export.url"),
        (("[analytics.export]", '[analytics.export]\ndefault_lang = "en-us"'), "default_lang"),
        (
            ('categories = ["Leads", "Renewals"]', 'categories = ["Leads", "Leads"]'),
            "categories[1]: duplicate of analytics.tenants[0].organizations[0].categories[0]",
        ),
    ],
)
def test_file_problems_name_their_place(change: tuple[str, str], problem: str) -> None:
    text = SITE.replace(*change)
    assert text != SITE
    with pytest.raises(SiteFileError) as raised:
        parse_site(text)
    assert any(problem in p for p in raised.value.problems), raised.value.problems


def test_self_contained_file_must_define_routed_departments() -> None:
    text = SITE.replace('[[departments]]\nname = "Service"\n', "")
    parse_site(text)  # the department may exist in the database
    with pytest.raises(SiteFileError) as raised:
        parse_site(text, self_contained=True)
    assert raised.value.problems == [
        "analytics.export.departments[0].department: unknown department 'Service'"
    ]


def test_duplicate_keys_and_tenants_are_refused() -> None:
    doubled = SITE + '\n[[analytics.tenants]]\nname = "Acme Corp"\n'
    doubled += '[[analytics.tenants.api_keys]]\nname = "x"\nkey = "first-key-0123456789"\n'
    with pytest.raises(SiteFileError) as raised:
        parse_site(doubled)
    assert raised.value.problems == [
        "analytics.tenants[1].name: duplicate of analytics.tenants[0]",
        "analytics.tenants[1].api_keys[0].key: the same key as "
        "analytics.tenants[0].api_keys[0].key",
    ]


def test_secrets_do_not_print() -> None:
    spec = parse_site(SITE)
    assert "first-key" not in repr(spec) and "receiver-token" not in repr(spec)
