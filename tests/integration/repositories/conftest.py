"""Fixtures of the repository tests (helpers live in repository_support.py)."""

from __future__ import annotations

import pytest
from repository_support import Departments, seed_departments

from emaildesk.db.database import Database


@pytest.fixture
async def departments(database: Database) -> Departments:
    return await seed_departments(database)
