"""`emaildesk init --demo` and `emaildesk site apply`, run as an operator runs them: a real
process against a SQLite data directory, with the production password hashing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emaildesk.db.database import Database
from emaildesk.services.passwords import Argon2PasswordHasher

TIMEOUT_SECONDS = 120

EXTRA_SITE = """
[[departments]]
name = "Billing"

[[aliases]]
address = "Billing@Example.com"
department = "Billing"
"""


def emaildesk(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAILDESK_")}
    return subprocess.run(
        [sys.executable, "-m", "emaildesk.cli", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=data_dir.parent,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def database_of(data_dir: Path) -> Database:
    return Database(f"sqlite+aiosqlite:///{data_dir / 'emaildesk.sqlite3'}")


@pytest.mark.slow
async def test_init_demo_if_new_creates_the_demo_once_and_then_reuses_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"

    first = emaildesk(data_dir, "init", "--demo", "--if-new")
    second = emaildesk(data_dir, "init", "--demo", "--if-new")

    assert first.returncode == 0, first.stderr
    assert "site applied: 38 created, 0 updated, 0 unchanged" in first.stdout
    assert "demo site created" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "reusing the existing site" in second.stdout
    assert "site applied" not in second.stdout
    database = database_of(data_dir)
    try:
        async with database.uow() as uow:
            admin = await uow.directory.user_by_login("admin")
            assert admin is not None
            # Production parameters, not the test ones.
            assert not Argon2PasswordHasher().needs_rehash(admin.password_hash)
            assert Argon2PasswordHasher().verify(admin.password_hash, "Admin-demo")
    finally:
        await database.dispose()


@pytest.mark.slow
async def test_site_apply_prints_the_summary_and_is_idempotent(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    site = tmp_path / "site.toml"
    site.write_text(EXTRA_SITE, encoding="utf-8")

    dry = emaildesk(data_dir, "site", "apply", "--dry-run", str(site))
    first = emaildesk(data_dir, "site", "apply", str(site))
    second = emaildesk(data_dir, "site", "apply", str(site))

    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing was saved" in dry.stdout
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0] == "site applied: 3 created, 0 updated, 0 unchanged"
    assert "departments" in first.stdout and "aliases" in first.stdout
    assert second.stdout.splitlines()[0] == "site applied: 0 created, 0 updated, 3 unchanged"
    database = database_of(data_dir)
    try:
        async with database.uow() as uow:
            alias = await uow.directory.alias_by_address("billing@example.com")
            assert alias is not None and alias.address == "billing@example.com"
    finally:
        await database.dispose()


def test_site_apply_names_the_entry_of_an_invalid_file(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text('[[users]]\nlogin_id = "a"\nhome_department = "S"\nnick = "x"\n')

    result = emaildesk(tmp_path / "var", "site", "apply", str(site))

    assert result.returncode == 1
    assert "users[0].nick: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_site_apply_names_the_entry_of_an_unknown_reference(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text('[[users]]\nlogin_id = "a"\nhome_department = "Marketing"\n')

    result = emaildesk(tmp_path / "var", "site", "apply", str(site))

    assert result.returncode == 1
    assert "users[0].home_department: Department 'Marketing' does not exist." in result.stderr
    assert "Traceback" not in result.stderr
