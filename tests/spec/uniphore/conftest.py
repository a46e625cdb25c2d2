"""Fixtures for the Uniphore conformance tests: the demo site served over a real socket (the
spec conftest), a way to run the outbox worker once, and direct database checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from fastapi import FastAPI

from emaildesk.app import build_worker


@pytest.fixture
def run_worker(demo_app: FastAPI) -> Callable[[], Awaitable[int]]:
    """Process every due outbox job now (the served app's worker is disabled in spec tests)."""

    async def run() -> int:
        worker = build_worker(demo_app.state.runtime)
        total = 0
        while claimed := await worker.run_once():
            total += claimed
        return total

    return run
