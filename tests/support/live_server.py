"""Run an ASGI app under a real uvicorn server on an ephemeral loopback port, inside the test's
event loop, so tests speak real HTTP over a real socket (lifespan included)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn


@contextlib.asynccontextmanager
async def live_server(app: Any) -> AsyncIterator[str]:
    """Yield the base URL (`http://127.0.0.1:PORT`) while the server runs."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="on", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # surface the start-up error
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@contextlib.asynccontextmanager
async def live_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client bound to `app` served on a real loopback socket."""
    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as client:
        yield client
