"""Fixtures for the eGain v3 conformance tests: tokens from the real token endpoint (README
"Demo site"), issued once per test and shared by its requests, and the refusal checker."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from egain_v3_support import LEO, MARIA, SAM, Refusals, Tokens

from emaildesk.db.database import Database
from emaildesk.settings import Settings


@pytest.fixture
def tokens(client: httpx.AsyncClient) -> Tokens:
    return Tokens(client)


@pytest.fixture
async def integrator(tokens: Tokens) -> dict[str, str]:
    return await tokens.integrator()


@pytest.fixture
async def agent1(tokens: Tokens) -> dict[str, str]:
    return await tokens.user("agent1")


@pytest.fixture
async def maria(tokens: Tokens) -> dict[str, str]:
    return await tokens.customer(MARIA)


@pytest.fixture
async def leo(tokens: Tokens) -> dict[str, str]:
    return await tokens.customer(LEO)


@pytest.fixture
async def sam(tokens: Tokens) -> dict[str, str]:
    return await tokens.customer(SAM)


@pytest.fixture
def blob_dir(demo_settings: Settings) -> Path:
    """Where the served app keeps attachment bytes."""
    return demo_settings.blob_dir


@pytest.fixture
def refused(client: httpx.AsyncClient, demo_database: Database, blob_dir: Path) -> Refusals:
    return Refusals(client, demo_database, blob_dir)
