"""eGain Case Manager v3 (`/core/casemgr/v3`): every v3 route, mounted by `app.py` as one router.

One module per resource family: `email_response` (customers answer an activity), `tasks`
(users and client applications create a task), `activities` (read by ids), `attachments`
(upload for an `altId`, downloads). `auth` holds the bearer token and scope checks they share,
`requests` the body models, `bodies` the five request content types, `openapi` the docs.

The fixed paths (`…/activity/task`, `…/activity/attachment`) are included before the
parametrized ones (`…/activity/{ids}`), so a fixed path is never read as an id, whatever routes
are added later.
"""

from __future__ import annotations

from fastapi import APIRouter

from emaildesk.api.egain.v3 import activities, attachments, email_response, tasks

router = APIRouter()
router.include_router(tasks.router)
router.include_router(attachments.router)
router.include_router(email_response.router)
router.include_router(activities.router)
