"""Composition root for HTTP: build the runtime from settings, mount every dialect, and run the
in-process workers for the lifetime of the app.

`create_app` does no I/O; the lifespan migrates the schema and starts workers, so importing the
module (OpenAPI generation, tests) never touches a database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from fastapi import FastAPI

from emaildesk import __version__
from emaildesk.api.egain.errors import install_egain_error_handlers
from emaildesk.api.egain.v3.routes import router as egain_v3_router
from emaildesk.api.egain.v12.routes import router as egain_v12_router
from emaildesk.api.egain.v12.session_echo import SessionEchoMiddleware
from emaildesk.api.health import router as health_router
from emaildesk.api.i18n import Translator
from emaildesk.api.oauth import router as oauth_router
from emaildesk.api.request_log import RequestLogMiddleware
from emaildesk.api.runtime import Runtime
from emaildesk.api.uniphore.client import HttpContactSender
from emaildesk.api.uniphore.conversations import router as uniphore_read_router
from emaildesk.api.uniphore.errors import install_uniphore_error_handlers
from emaildesk.api.uniphore.jobs import analytics_job_handlers
from emaildesk.api.uniphore.routes import router as uniphore_router
from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.secrets_file import site_secret
from emaildesk.services.mail_config import MailConfig
from emaildesk.services.passwords import Argon2PasswordHasher, PasswordHasher
from emaildesk.settings import Settings
from emaildesk.workers import JobHandlers, OutboxWorker, build_outbox_worker, default_worker_id


def build_runtime(settings: Settings, hasher: PasswordHasher | None = None) -> Runtime:
    """Every long-lived part, built once. Loading the catalogs here makes a deployment without
    compiled catalogs fail at start-up rather than on its first error response."""
    return Runtime(
        settings=settings,
        database=Database(settings.effective_database_url),
        blobs=FileBlobStore(settings.blob_dir),
        hasher=hasher or Argon2PasswordHasher(),
        translator=Translator(),
        mail=MailConfig(
            secret=site_secret(settings),
            domain=settings.mail_domain,
            subject_token=settings.subject_token,
            sender_rate_per_hour=settings.sender_rate_per_hour,
        ),
    )


def job_handlers(runtime: Runtime) -> JobHandlers:
    """The outbox job kinds this node can run, by kind. Each feature registers its kinds here
    (outbound email, analytics contacts, webhooks) as it lands; a job of a kind no handler
    knows is failed permanently with that reason, visibly, rather than lost."""
    from emaildesk.services.mail_receive import INGEST_JOB
    from emaildesk.transports.dkim import dkim_signer_from_settings
    from emaildesk.workers.mail_jobs import mail_ingest_handler
    from emaildesk.workers.send_jobs import SEND_JOB, email_send_handler, outbound_sender

    settings = runtime.settings
    return {
        # A relay when `relay_host` is set, else the maildir in the data directory; a DKIM key
        # that is configured but unusable stops the start-up here (transports/dkim.py).
        SEND_JOB: email_send_handler(
            runtime.blobs, outbound_sender(settings), dkim_signer_from_settings(settings)
        ),
        # Received mail (SMTP, LMTP, IMAP, `mail import`): parse, thread, store or quarantine.
        INGEST_JOB: mail_ingest_handler(runtime.blobs, runtime.mail),
        # analytics.contact (process an ingested contact), analytics.export (post one email).
        **analytics_job_handlers(runtime.database.uow, HttpContactSender()),
    }


def build_worker(runtime: Runtime) -> OutboxWorker:
    settings = runtime.settings
    return build_outbox_worker(
        runtime.database,
        job_handlers(runtime),
        worker_id=default_worker_id(),
        lease=timedelta(seconds=settings.worker_lease_seconds),
        poll_interval=settings.worker_poll_seconds,
    )


@asynccontextmanager
async def running_worker(runtime: Runtime) -> AsyncIterator[OutboxWorker | None]:
    """Run the in-process outbox worker while the block runs (when enabled in settings)."""
    if not runtime.settings.worker_enabled:
        yield None
        return
    worker = build_worker(runtime)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name="outbox-worker")
    try:
        yield worker
    finally:
        stop.set()
        await worker.wake()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=10)
        except TimeoutError:
            # The job in progress rolls back and is retried after its lease, as after a crash.
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


def create_app(settings: Settings, runtime: Runtime | None = None, migrate: bool = True) -> FastAPI:
    runtime = runtime or build_runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await runtime.database.migrate()
        try:
            async with running_worker(runtime) as worker:
                app.state.worker = worker
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
    app.add_middleware(SessionEchoMiddleware)
    app.include_router(health_router)
    app.include_router(oauth_router)
    app.include_router(egain_v12_router)
    app.include_router(egain_v3_router)
    install_egain_error_handlers(app, runtime.translator, default_locale=settings.default_locale)
    app.include_router(uniphore_router)
    app.include_router(uniphore_read_router)
    install_uniphore_error_handlers(app)  # only /contacts/ paths; others keep their handlers
    return app
