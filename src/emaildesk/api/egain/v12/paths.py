"""Where the eGain v12 API lives: its two path prefixes, its OpenAPI tag, and the links it emits.

api-notes §1.1: the documents name `/ws/v12/...`, while real deployments (and the Location header
of the published example) carry a `/system` prefix. emaildesk serves both and always *emits*
the `/system` form (§1.8), so a client that follows links never depends on which one it used.
"""

from __future__ import annotations

from typing import Final

from emaildesk.api.egain.representation_v12 import V12_BASE_PATH

V12_PREFIX: Final = V12_BASE_PATH  # "/system/ws/v12": documented, and used in every link
V12_ALIAS_PREFIX: Final = "/ws/v12"  # api-notes §1.1: the seed's spelling, served as an alias
V12_PREFIXES: Final = (V12_PREFIX, V12_ALIAS_PREFIX)
TAG: Final = "eGain v12"

ACTIVITY_PATH: Final = "/interaction/activity"


def activity_location(activity_id: int) -> str:
    """The Location of a created activity (api-notes §1.8: always with `/system`)."""
    return f"{V12_PREFIX}{ACTIVITY_PATH}/{activity_id}"


def is_v12_path(path: str) -> bool:
    """Whether an ASGI path (without root_path) is under one of the v12 prefixes."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in V12_PREFIXES)
