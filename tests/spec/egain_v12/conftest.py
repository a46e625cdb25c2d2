"""Fixtures of the eGain v12 conformance tests: one logged-in agent1 session per test."""

from __future__ import annotations

import httpx
import pytest
from v12_helpers import V12Api, login

from emaildesk.db.database import Database


@pytest.fixture
async def api(client: httpx.AsyncClient, demo_database: Database) -> V12Api:
    """agent1 (Service) logged in on the demo site; every call carries its session."""
    return V12Api(client, demo_database, await login(client))
