"""`emaildesk serve`: one process running the HTTP API (and, through the app's lifespan, the
in-process workers) on the event loop we own, so later listeners (SMTP, LMTP) join the same loop.
"""

from __future__ import annotations

import uvicorn

from emaildesk.app import create_app
from emaildesk.logs import configure_logging
from emaildesk.settings import Settings

BANNER = """\
emaildesk {version} serving on {url}
  data directory : {data_dir}
  database       : {database}
  API docs       : {url}/docs   (OpenAPI: {url}/openapi.json)
  health         : {url}/healthz, {url}/readyz
  log in         : see README.md "Demo site" for users, passwords and a curl session
"""


def banner(settings: Settings) -> str:
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
    )


async def serve(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_json)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
    )
    print(banner(settings), flush=True)
    await uvicorn.Server(config).serve()
