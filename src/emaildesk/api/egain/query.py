"""eGain's rules for query and path parameters, as typed getters that raise eGain's codes.

eGain refuses what it does not know instead of ignoring it: any query parameter an endpoint does
not document is 400-101 naming it (seed 004: "Unsupported query parameter(s) supplied:
'<query_parameter>'."); flags take only the value `yes` (400-102); counts are positive integers
(400-105); ids in a path are comma-separated positive integers (400-108), at most so many and
so long (v12 GET activity: 75 ids, api-notes §1.6; v3: `ids` ≤ 1500 characters, seed 000).

Ids are also capped at the largest id the database can hold, so an absurd id is a 400 here
rather than an overflow (a 500) in the database driver.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from starlette.requests import HTTPConnection

from emaildesk.domain import errors

YES: Final = "yes"
ID_SEPARATOR: Final = ","
# Ids are BIGINT on PostgreSQL and INTEGER (64-bit) on SQLite (db/tables.py `IdType`).
MAX_ID: Final = 2**63 - 1
_MAX_ID_DIGITS: Final = len(str(MAX_ID))


def check_query(request: HTTPConnection, allowed: Iterable[str]) -> None:
    """Refuse every query parameter not in `allowed` (names are case-sensitive, as eGain's are).

    All unsupported names are reported at once, comma-separated in the order the client sent
    them, so a client fixes its request in one round trip.
    """
    permitted = frozenset(allowed)
    unsupported: list[str] = []
    for name, _ in request.query_params.multi_items():
        if name not in permitted and name not in unsupported:
            unsupported.append(name)
    if unsupported:
        raise errors.UNSUPPORTED_QUERY_PARAMETER(parameters=ID_SEPARATOR.join(unsupported))


def yes_flag(request: HTTPConnection, name: str) -> bool:
    """True for `name=yes`, False when absent; any other value (even `YES`) is 400-102."""
    values = request.query_params.getlist(name)
    if not values:
        return False
    if any(value != YES for value in values):
        raise errors.UNSUPPORTED_QUERY_VALUE(parameter=name, values=YES)
    return True


def positive_int(request: HTTPConnection, name: str, *, maximum: int = MAX_ID) -> int | None:
    """The parameter as a positive integer ≤ `maximum`, None when absent; otherwise 400-105.

    Sent twice, it is refused too: which of two values the client meant is not ours to guess.
    """
    values = request.query_params.getlist(name)
    if not values:
        return None
    number = _positive_integer(values[0]) if len(values) == 1 else None
    if number is None or number > maximum:
        raise errors.POSITIVE_INTEGER_EXPECTED(value=ID_SEPARATOR.join(values))
    return number


def parse_ids(text: str, *, max_ids: int | None, max_chars: int | None) -> list[int]:
    """`1001,1002` → [1001, 1002], duplicates dropped in order.

    Longer than `max_chars` or more than `max_ids` distinct ids is LIMIT_EXCEEDED; any id that
    is not a positive integer (empty ones included, as in `1,,2`) is 400-108 naming it.
    """
    if max_chars is not None and len(text) > max_chars:
        raise errors.LIMIT_EXCEEDED(limit="ids.length", value=max_chars)
    ids: dict[int, None] = {}
    for part in text.split(ID_SEPARATOR):
        number = _positive_integer(part)
        if number is None or number > MAX_ID:
            raise errors.INVALID_PATH_PARAMETER(value=part)
        ids[number] = None
    if max_ids is not None and len(ids) > max_ids:
        raise errors.LIMIT_EXCEEDED(limit="ids", value=max_ids)
    return list(ids)


def _positive_integer(text: str) -> int | None:
    """ASCII digits only (no sign, space or Unicode digits), value ≥ 1; else None."""
    digits = text.lstrip("0")
    if not text.isascii() or not text.isdigit() or not digits or len(digits) > _MAX_ID_DIGITS:
        return None
    return int(digits)
