"""The Uniphore error handlers on a bare app (no database): a busy or lost database is 503 with
Retry-After on /contacts/ paths, an unexpected error 500 in the envelope, and every other path
keeps whatever handled it before."""

from __future__ import annotations

import sqlite3

import httpx
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError, OperationalError

from emaildesk.api.uniphore.errors import (
    install_uniphore_error_handlers,
    is_transient_database_error,
)
from emaildesk.domain import errors

LOCKED = OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
DUPLICATE = IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))


def app_raising(exc: Exception) -> FastAPI:
    app = FastAPI()

    @app.get("/contacts/boom")
    async def contacts() -> None:
        raise exc

    @app.get("/elsewhere/boom")
    async def elsewhere() -> None:
        raise exc

    install_uniphore_error_handlers(app)
    return app


async def get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


def test_transient_database_errors_are_recognised() -> None:
    assert is_transient_database_error(LOCKED)
    assert not is_transient_database_error(DUPLICATE)
    assert not is_transient_database_error(ValueError("x"))


async def test_busy_database_is_503_with_retry_after() -> None:
    response = await get(app_raising(LOCKED), "/contacts/boom")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["errors"][0]["type"] == "/errors/unavailable"


async def test_other_database_errors_are_500_in_the_envelope() -> None:
    response = await get(app_raising(DUPLICATE), "/contacts/boom")
    assert response.status_code == 500
    assert response.json() == {
        "status": 500,
        "errors": [
            {
                "type": "/errors/internal",
                "title": "internal",
                "detail": errors.INTERNAL_ERROR().english(),
            }
        ],
    }


async def test_other_paths_are_left_to_earlier_handlers() -> None:
    for exc in (LOCKED, DUPLICATE, errors.INVALID_AUTHORIZATION()):
        response = await get(app_raising(exc), "/elsewhere/boom")
        assert response.status_code == 500
        assert response.text == "Internal Server Error"  # Starlette's own, untouched
