"""Liveness and readiness: `/healthz` says the process runs; `/readyz` that it can do work
(the database answers). Load balancers route only to ready nodes."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emaildesk.api.runtime import runtime_of

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)


@router.get("/healthz", summary="Liveness probe")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness probe: checks the database", response_model=None)
async def readyz(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    checks: dict[str, str] = {}
    try:
        await runtime.database.ping()
        checks["database"] = "ok"
    except Exception as exc:
        log.warning(
            "readiness: database check failed", extra={"fields": {"error": type(exc).__name__}}
        )
        checks["database"] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503
    )
