"""Structured logging: one JSON object per line (or plain text for humans at a terminal).

STYLE.md habit 15: log ids and hashes, never customer addresses or bodies; callers pass such
fields through `extra={"fields": {...}}` and this formatter writes them as keys.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from emaildesk.domain.clock import format_iso, utcnow


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": format_iso(utcnow()),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs requests
