"""Composition root for HTTP: build the runtime from settings, mount every dialect, and run the
in-process workers for the lifetime of the app.

`create_app` does no I/O; the lifespan migrates the schema and starts workers, so importing the
module (OpenAPI generation, tests) never touches a database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from emaildesk import __version__
from emaildesk.api.health import router as health_router
from emaildesk.api.i18n import Translator
from emaildesk.api.oauth import router as oauth_router
from emaildesk.api.request_log import RequestLogMiddleware
from emaildesk.api.runtime import Runtime
from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.services.passwords import Argon2PasswordHasher, PasswordHasher
from emaildesk.settings import Settings


def build_runtime(settings: Settings, hasher: PasswordHasher | None = None) -> Runtime:
    """Every long-lived part, built once. Loading the catalogs here makes a deployment without
    compiled catalogs fail at start-up rather than on its first error response."""
    return Runtime(
        settings=settings,
        database=Database(settings.effective_database_url),
        blobs=FileBlobStore(settings.blob_dir),
        hasher=hasher or Argon2PasswordHasher(),
        translator=Translator(),
    )


def create_app(settings: Settings, runtime: Runtime | None = None, migrate: bool = True) -> FastAPI:
    runtime = runtime or build_runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await runtime.database.migrate()
        try:
            yield
        finally:
            await runtime.database.dispose()

    app = FastAPI(
        title="emaildesk",
        version=__version__,
        summary="Contact-center email server: eGain, Genesys and Uniphore compatible APIs.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.add_middleware(RequestLogMiddleware)
    app.include_router(health_router)
    app.include_router(oauth_router)
    return app
