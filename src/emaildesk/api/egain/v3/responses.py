"""The v3 success answers that carry no representation: `201 Created` with a `Location`.

eGain v12 answers a create with 201, `Location` and no body (api-notes §1.5); v3 publishes no
Location, so it mirrors the activity's self link, `/core/casemgr/v3/activity/{id}`
(api-notes §1.8 [I]). A path, not an absolute URL: RFC 9110 §10.2.2 allows a relative
reference, and it stays right behind any proxy.
"""

from __future__ import annotations

from typing import Final

from fastapi import Response

from emaildesk.api.egain.representation_v3 import V3_BASE_PATH
from emaildesk.api.egain.v3.openapi import LOCATION_HEADER

HTTP_CREATED: Final = 201


def activity_location(activity_id: int) -> str:
    return f"{V3_BASE_PATH}/activity/{activity_id}"


def upload_location(alt_id: str) -> str:
    return f"{V3_BASE_PATH}/activity/attachment/{alt_id}"


def created(activity_id: int) -> Response:
    """201, `Location` of the new activity, no body."""
    return Response(
        status_code=HTTP_CREATED, headers={LOCATION_HEADER: activity_location(activity_id)}
    )
