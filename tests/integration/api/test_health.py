"""Operations endpoints over a real socket: liveness, readiness (database), OpenAPI."""

from __future__ import annotations

from pathlib import Path

from emaildesk.app import create_app
from emaildesk.settings import Settings
from support.live_server import live_client


def _settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url)


async def test_healthz_answers_ok(tmp_path: Path, database_url: str) -> None:
    async with live_client(create_app(_settings(tmp_path, database_url))) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


async def test_readyz_checks_the_database(tmp_path: Path, database_url: str) -> None:
    async with live_client(create_app(_settings(tmp_path, database_url))) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok"}


async def test_readyz_reports_an_unreachable_database(tmp_path: Path) -> None:
    # A PostgreSQL URL on a closed port: the probe must answer 503, not crash.
    settings = _settings(tmp_path, "postgresql+asyncpg://nobody@127.0.0.1:9/none")
    async with live_client(create_app(settings, migrate=False)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "unavailable"}}


async def test_openapi_document_is_served(tmp_path: Path, database_url: str) -> None:
    async with live_client(create_app(_settings(tmp_path, database_url))) as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/readyz" in document["paths"]
