"""The eGain v12 API (on-premise eGain / Cisco ECE Interaction API), mounted by app.py.

Served twice (api-notes §1.1): at `/system/ws/v12`, documented in OpenAPI, and at the seed's
`/ws/v12`, an undocumented alias to the same handlers (documenting both would double every
operation for clients and fuzzers alike; each description names its alias). Links and
Location headers always use `/system` (`paths.py`).

One module per resource family: `session` (login, logout and the session dependency),
`activities` (create and read), `attachments` (download); `requests` maps bodies to the use
cases' commands, `openapi` documents what FastAPI cannot infer. Every v12 response echoes
`X-egain-session` (`session_echo`, a middleware registered by app.py).
"""

from __future__ import annotations

from fastapi import APIRouter

from emaildesk.api.egain.v12 import activities, attachments, session
from emaildesk.api.egain.v12.paths import V12_ALIAS_PREFIX, V12_PREFIX

router = APIRouter()
for _prefix, _documented in ((V12_PREFIX, True), (V12_ALIAS_PREFIX, False)):
    for _family in (session.router, activities.router, attachments.router):
        router.include_router(_family, prefix=_prefix, include_in_schema=_documented)
