"""Content negotiation (api/negotiation.py): RFC 9110 Accept weights, Accept-Language, state."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from emaildesk.api.negotiation import (
    Negotiated,
    ResponseFormat,
    negotiate,
    negotiate_format,
    negotiated_for_error,
)
from emaildesk.domain import errors
from emaildesk.domain.errors import DomainError

JSON, XML = ResponseFormat.JSON, ResponseFormat.XML


def request_with(*headers: tuple[str, str]) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/system/ws/v12/interaction/activity/1",
        "query_string": b"",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers],
    }
    return Request(scope)


def test_formats_carry_their_media_types() -> None:
    assert JSON.media_type == "application/json"
    assert XML.media_type == "application/xml"


@pytest.mark.parametrize("accept", [None, "", "  "])
def test_no_accept_header_gives_the_default(accept: str | None) -> None:
    assert negotiate_format(accept) is JSON
    assert negotiate_format(accept, default=XML) is XML


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/json", JSON),
        ("application/xml", XML),
        ("text/xml", XML),
        ("APPLICATION/XML", XML),
        ("application/json; charset=utf-8", JSON),
        ("text/*", XML),
        ("application/xml;q=0.5, application/json", JSON),
        ("application/json;q=0.5, application/xml;q=0.6", XML),
        ("application/xml, application/json", XML),  # equal weight: the client's order
        ("application/json, application/xml", JSON),
        ("*/*;q=0.1, application/xml", XML),
        ("*/*, application/xml", XML),  # equal weight: the more specific range
        ("application/json;q=0, */*", XML),  # excluded by its most specific range
        ("application/*;q=0.2, application/xml;q=0", JSON),
        ("text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8", XML),
        # Java's HttpURLConnection default: a bare "*" and a weight without its leading 0.
        ("text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2", JSON),
        ("garbage, application/xml", XML),  # an unparsable element is skipped
        ("application/json;q=2, application/xml", XML),  # so is an impossible weight
        ('application/xml; profile="a,b"', XML),
    ],
)
def test_accept_picks_the_best_representation(accept: str, expected: ResponseFormat) -> None:
    assert negotiate_format(accept) is expected


@pytest.mark.parametrize("accept", ["*/*", "application/*", "*"])
def test_a_wildcard_takes_the_default(accept: str) -> None:
    assert negotiate_format(accept) is JSON
    assert negotiate_format(accept, default=XML) is XML


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "image/png, text/plain",
        "application/json;q=0",
        "application/*;q=0, text/*;q=0",
        "*/*;q=0",
        "application/vnd.egain+json",
        "json",
        "*/json",
        ",,,",
    ],
)
def test_accept_naming_nothing_we_send_is_406_101(accept: str) -> None:
    with pytest.raises(DomainError) as raised:
        negotiate_format(accept)
    assert raised.value.spec is errors.UNSUPPORTED_ACCEPT
    assert raised.value.params == {"values": "application/json, application/xml"}


def test_negotiate_returns_and_stores_format_and_locale() -> None:
    request = request_with(("Accept", "application/xml"), ("Accept-Language", "de-DE"))
    negotiated = negotiate(request)
    assert negotiated == Negotiated(XML, "de-DE")
    assert negotiated_for_error(request) is negotiated


def test_repeated_accept_lines_are_combined() -> None:
    request = request_with(("Accept", "text/html"), ("Accept", "application/xml"))
    assert negotiate(request).format is XML


def test_negotiate_uses_the_given_defaults() -> None:
    assert negotiate(request_with(), default_format=XML, default_locale="ja-JP") == Negotiated(
        XML, "ja-JP"
    )


def test_bad_accept_language_is_406_100_after_the_format_is_stored() -> None:
    request = request_with(("Accept", "application/xml"), ("Accept-Language", "xx-YY"))
    with pytest.raises(DomainError) as raised:
        negotiate(request)
    assert raised.value.spec is errors.INVALID_ACCEPT_LANGUAGE
    assert negotiated_for_error(request) == Negotiated(XML, "en-US")


def test_bad_accept_is_reported_before_accept_language() -> None:
    request = request_with(("Accept", "text/html"), ("Accept-Language", "xx-YY"))
    with pytest.raises(DomainError) as raised:
        negotiate(request)
    assert raised.value.spec is errors.UNSUPPORTED_ACCEPT


def test_an_error_after_a_bad_accept_is_answered_in_json_in_the_asked_language() -> None:
    request = request_with(("Accept", "text/html"), ("Accept-Language", "fr-FR"))
    assert negotiated_for_error(request) == Negotiated(JSON, "fr-FR")


def test_an_error_before_negotiation_negotiates_without_raising() -> None:
    request = request_with(("Accept", "application/xml"), ("Accept-Language", "klingon"))
    assert negotiated_for_error(request, default_locale="sv-SE") == Negotiated(XML, "sv-SE")
    assert negotiated_for_error(request_with()) == Negotiated(JSON, "en-US")
