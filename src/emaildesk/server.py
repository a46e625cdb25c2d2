"""`emaildesk serve`: one process running the HTTP API, the SMTP/LMTP listeners and (through the
app's lifespan) the in-process workers, all on the one event loop we own.

Order matters. The schema is migrated before anything listens: a listener may be asked for mail
the moment it opens. The mail listeners open before HTTP and close first on shutdown, while the
database is still there, so a message being stored gets its commit and its 250.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

import uvicorn

from emaildesk.app import build_runtime, create_app
from emaildesk.logs import configure_logging
from emaildesk.settings import Settings
from emaildesk.transports.smtp_server import MailListeners, start_mail_listeners

BANNER = """\
emaildesk {version} serving on {url}
  data directory : {data_dir}
  database       : {database}
  mail listeners : {mail}
  API docs       : {url}/docs   (OpenAPI: {url}/openapi.json)
  health         : {url}/healthz, {url}/readyz
  log in         : see README.md "Demo site" for users, passwords and a curl session
"""


def banner(settings: Settings, mail: Sequence[str] = ()) -> str:
    """The start-up text; `mail` lists the bound mail listeners (`smtp://127.0.0.1:2525`)."""
    from emaildesk import __version__

    database = settings.effective_database_url
    if "@" in database:  # never print credentials
        scheme, _, rest = database.partition("://")
        database = f"{scheme}://***@{rest.split('@', 1)[1]}"
    return BANNER.format(
        version=__version__,
        url=settings.base_url,
        data_dir=settings.data_dir.resolve(),
        database=database,
        mail=", ".join(mail) or "none (smtp_enabled and lmtp_enabled are off)",
    )


class _Server(uvicorn.Server):
    """uvicorn's server, closing the mail listeners first when it shuts down (before the app's
    lifespan stops the worker and disposes of the database)."""

    def __init__(self, config: uvicorn.Config, listeners: MailListeners) -> None:
        super().__init__(config)
        self.listeners = listeners

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.listeners.close()
        await super().shutdown(sockets)


async def serve(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_json)
    runtime = build_runtime(settings)
    await runtime.database.migrate()
    app = create_app(settings, runtime, migrate=False)

    async def wake_worker() -> None:
        # The lifespan sets app.state.worker once the worker runs (None when disabled); mail
        # that arrives before that is found by the worker's first poll.
        worker = getattr(app.state, "worker", None)
        if worker is not None:
            await worker.wake()

    listeners = await start_mail_listeners(runtime, on_received=wake_worker)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
    )
    print(banner(settings, listeners.describe()), flush=True)
    from emaildesk.workers.send_jobs import outbound_description

    print(f"  {outbound_description(settings)}", flush=True)
    try:
        await _Server(config, listeners).serve()
    finally:
        await listeners.close()
