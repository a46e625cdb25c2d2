"""eGain query and path parameter rules (api/egain/query.py)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from emaildesk.api.egain.query import (
    MAX_ID,
    check_query,
    parse_ids,
    positive_int,
    yes_flag,
)
from emaildesk.domain import errors
from emaildesk.domain.errors import DomainError, ErrorSpec


def request_with(query: str) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/core/casemgr/v3/activity/1",
        "query_string": query.encode(),
        "headers": [],
    }
    return Request(scope)


def raised_by(spec: ErrorSpec, call: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(DomainError) as raised:
        call(*args, **kwargs)
    assert raised.value.spec is spec
    return raised.value.params


# --- unsupported query parameters (400-101) -------------------------------------------------


def test_supported_parameters_pass() -> None:
    check_query(request_with("customer=1000&createCustomer=yes"), {"customer", "createCustomer"})
    check_query(request_with(""), ())


def test_every_unsupported_parameter_is_named_in_request_order() -> None:
    params = raised_by(
        errors.UNSUPPORTED_QUERY_PARAMETER,
        check_query,
        request_with("zeta=1&customer=1&alpha=2&zeta=3&$attribute=all"),
        ["customer"],
    )
    assert params == {"parameters": "zeta,alpha,$attribute"}


def test_parameter_names_are_case_sensitive() -> None:
    params = raised_by(
        errors.UNSUPPORTED_QUERY_PARAMETER,
        check_query,
        request_with("forcelogin=yes"),
        ["forceLogin"],
    )
    assert params == {"parameters": "forcelogin"}


def test_a_parameter_without_value_is_still_a_parameter() -> None:
    params = raised_by(
        errors.UNSUPPORTED_QUERY_PARAMETER, check_query, request_with("debug"), ["customer"]
    )
    assert params == {"parameters": "debug"}


# --- yes flags (400-102) --------------------------------------------------------------------


def test_yes_flag_is_true_only_for_yes() -> None:
    assert yes_flag(request_with("forceLogin=yes"), "forceLogin") is True
    assert yes_flag(request_with("other=no"), "forceLogin") is False


@pytest.mark.parametrize(
    "query", ["forceLogin=no", "forceLogin=YES", "forceLogin=", "forceLogin=yes&forceLogin=true"]
)
def test_yes_flag_refuses_any_other_value(query: str) -> None:
    params = raised_by(errors.UNSUPPORTED_QUERY_VALUE, yes_flag, request_with(query), "forceLogin")
    assert params == {"parameter": "forceLogin", "values": "yes"}


# --- positive integers (400-105) ------------------------------------------------------------


def test_positive_int_reads_the_value_or_none() -> None:
    assert positive_int(request_with("customer=1000"), "customer") == 1000
    assert positive_int(request_with("customer=007"), "customer") == 7
    assert positive_int(request_with(""), "customer") is None


@pytest.mark.parametrize(
    ("query", "reported"),
    [
        ("customer=0", "0"),
        ("customer=-1", "-1"),
        ("customer=%2B5", "+5"),
        ("customer=1.5", "1.5"),
        ("customer=abc", "abc"),
        ("customer=", ""),
        ("customer=%EF%BC%91", "１"),  # a full-width digit is not an ASCII number
        ("customer=%201", " 1"),
        ("customer=1&customer=2", "1,2"),
        (f"customer={MAX_ID + 1}", str(MAX_ID + 1)),
        ("customer=" + "9" * 5000, "9" * 5000),
    ],
)
def test_positive_int_refuses_anything_else(query: str, reported: str) -> None:
    params = raised_by(
        errors.POSITIVE_INTEGER_EXPECTED, positive_int, request_with(query), "customer"
    )
    assert params == {"value": reported}


def test_positive_int_honours_a_maximum() -> None:
    assert positive_int(request_with("max=75"), "max", maximum=75) == 75
    params = raised_by(
        errors.POSITIVE_INTEGER_EXPECTED, positive_int, request_with("max=76"), "max", maximum=75
    )
    assert params == {"value": "76"}


# --- ids in a path (400-108, 400-10424) -----------------------------------------------------


def test_parse_ids_reads_one_or_many() -> None:
    assert parse_ids("1001", max_ids=75, max_chars=1500) == [1001]
    assert parse_ids("1001,1002", max_ids=75, max_chars=1500) == [1001, 1002]
    assert parse_ids(str(MAX_ID), max_ids=None, max_chars=None) == [MAX_ID]


def test_parse_ids_drops_duplicates_keeping_order() -> None:
    assert parse_ids("3,1,3,2,1", max_ids=3, max_chars=None) == [3, 1, 2]


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        ("abc", "abc"),
        ("1,abc", "abc"),
        ("0", "0"),
        ("1,,2", ""),
        ("1,", ""),
        ("", ""),
        ("-5", "-5"),
        (" 1", " 1"),
        ("1;2", "1;2"),
        (str(MAX_ID + 1), str(MAX_ID + 1)),
    ],
)
def test_an_id_that_is_not_a_positive_integer_is_400_108(text: str, reported: str) -> None:
    params = raised_by(errors.INVALID_PATH_PARAMETER, parse_ids, text, max_ids=75, max_chars=None)
    assert params == {"value": reported}


def test_more_ids_than_allowed_is_a_limit() -> None:
    text = ",".join(str(n) for n in range(1, 77))
    params = raised_by(errors.LIMIT_EXCEEDED, parse_ids, text, max_ids=75, max_chars=None)
    assert params == {"limit": "ids", "value": "75"}
    assert len(parse_ids(text, max_ids=76, max_chars=None)) == 76


def test_ids_longer_than_allowed_is_a_limit() -> None:
    # seed 000 (v3): `ids` is a string of at most 1500 characters.
    text = ",".join(["1000"] * 300)  # 1499 characters
    assert parse_ids(text, max_ids=None, max_chars=1500) == [1000]
    params = raised_by(errors.LIMIT_EXCEEDED, parse_ids, text + ",10", max_ids=None, max_chars=1500)
    assert params == {"limit": "ids.length", "value": "1500"}
