"""Path and query parameters of the v3 URLs, read with eGain's codes (see `egain.query`).

What v3 adds to the shared rules: the path `ids` is at most 1500 characters (seed 000, "string
<= 1500 characters"; over it, 400-10424 naming `ids.length`), and the `customer` parameter may
be sent empty to mean "myself" (seed 000 lists `customer=` among its examples).
"""

from __future__ import annotations

from typing import Final

from starlette.requests import HTTPConnection

from emaildesk.api.egain.query import parse_ids, positive_int
from emaildesk.domain import errors

MAX_IDS_LENGTH: Final = 1500  # eGain v3: path parameter `ids` ≤ 1500 characters (seed 000)
CUSTOMER: Final = "customer"


def path_ids(text: str) -> list[int]:
    """`1001,1002` → [1001, 1002]; 400-10424 past 1500 characters, 400-108 for a bad id."""
    return parse_ids(text, max_ids=None, max_chars=MAX_IDS_LENGTH)


def single_value(request: HTTPConnection, name: str) -> str | None:
    """A parameter that takes one value: None when absent; sent twice, 400-10424 (limit 1),
    since which of two values the client meant is not ours to guess."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise errors.LIMIT_EXCEEDED(limit=name, value=1)
    return values[0]


def optional_id(request: HTTPConnection, name: str) -> int | None:
    """An id parameter that may be empty (`customer=`: not given); else 400-105 unless a
    positive integer."""
    values = request.query_params.getlist(name)
    if len(values) == 1 and not values[0].strip():
        return None
    return positive_int(request, name)
