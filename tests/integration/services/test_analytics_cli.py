"""`emaildesk analytics keys create | list | revoke` as an operator runs them (a subprocess on
a data directory), and the key they print working against the use case."""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from emaildesk.cli_analytics import parse_since
from emaildesk.db.database import Database
from emaildesk.domain.analytics import AnalyticsTenant
from emaildesk.domain.errors import DomainError
from emaildesk.services.analytics_ingest import authenticate


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emaildesk.cli", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def with_tenant(data_dir: Path) -> None:
    """A migrated site with one analytics tenant, "Acme Corp"."""
    database = Database(f"sqlite+aiosqlite:///{data_dir / 'emaildesk.sqlite3'}")
    try:
        await database.migrate()
        async with database.uow() as uow:
            await uow.analytics.add(AnalyticsTenant("Acme Corp"))
            await uow.commit()
    finally:
        await database.dispose()


async def tenant_of(data_dir: Path, key: str) -> str | None:
    database = Database(f"sqlite+aiosqlite:///{data_dir / 'emaildesk.sqlite3'}")
    try:
        async with database.uow() as uow:
            try:
                return (await authenticate(uow, key)).name
            except DomainError:
                return None
    finally:
        await database.dispose()


async def test_keys_create_list_revoke(tmp_path: Path) -> None:
    data = tmp_path / "var"
    await with_tenant(data)

    created = run(data, "analytics", "keys", "create", "--tenant", "Acme Corp", "--name", "crm")
    assert created.returncode == 0, created.stderr
    header, key = created.stdout.strip().splitlines()
    assert header == "API key 1 'crm' of tenant 'Acme Corp' (shown only now):"
    assert key.startswith("eda_") and len(key) > 40
    assert await tenant_of(data, key) == "Acme Corp"

    listed = run(data, "analytics", "keys", "list")
    assert listed.returncode == 0
    (row,) = listed.stdout.splitlines()[1:]
    assert row.split()[:3] == ["1", "Acme", "Corp"] and row.endswith("live")
    assert key not in listed.stdout

    revoked = run(data, "analytics", "keys", "revoke", "1")
    assert (revoked.returncode, revoked.stdout.strip()) == (0, "API key 1 'crm' revoked")
    assert await tenant_of(data, key) is None


async def test_keys_errors_exit_1_with_the_reason(tmp_path: Path) -> None:
    data = tmp_path / "var"
    unknown = run(data, "analytics", "keys", "create", "--tenant", "Nobody")
    assert unknown.returncode == 1
    assert "tenant/org/cat not found!" in unknown.stderr
    not_configured = run(data, "analytics", "export", "--since", "2024-01-01")
    assert not_configured.returncode == 1
    assert "not configured" in not_configured.stderr


def test_since_is_an_iso_date_in_utc_unless_an_offset_is_given() -> None:
    assert parse_since("2024-03-01") == datetime(2024, 3, 1, tzinfo=UTC)
    assert parse_since("2024-03-01T10:00:00+02:00") == datetime(2024, 3, 1, 8, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_since("last tuesday")
