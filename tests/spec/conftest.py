"""Fixtures for the spec conformance tests: the bundled demo site in a fresh database (both
backends), served by the real app over a real loopback socket.

Users, passwords, customers and aliases are those of src/emaildesk/demo/site.toml (README "Demo
site"); passwords are hashed with cheap Argon2 parameters so logins stay fast.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from emaildesk.app import build_runtime, create_app
from emaildesk.cli import DEMO_SITE
from emaildesk.db.database import Database
from emaildesk.services.passwords import Argon2PasswordHasher
from emaildesk.services.site import apply_site
from emaildesk.settings import Settings
from emaildesk.sitefile import load_site_file
from support.live_server import live_client


@pytest.fixture
async def demo_database(database: Database) -> Database:
    """The migrated test database with the demo site applied."""
    async with database.uow() as uow:
        await apply_site(
            uow, load_site_file(DEMO_SITE, self_contained=True), Argon2PasswordHasher.for_tests()
        )
        await uow.commit()
    return database


@pytest.fixture
def demo_settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, worker_enabled=False)


@pytest.fixture
async def demo_app(demo_database: Database, demo_settings: Settings) -> FastAPI:
    runtime = build_runtime(demo_settings, hasher=Argon2PasswordHasher.for_tests())
    return create_app(demo_settings, runtime=runtime, migrate=False)


@pytest.fixture
async def client(demo_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the demo site over a real socket."""
    async with live_client(demo_app) as http:
        yield http
