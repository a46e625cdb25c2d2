"""Time as the dialects show it (api-notes §1.7): ISO-8601 UTC with milliseconds and `Z`,
e.g. `2015-12-26T19:00:00.000Z`; offsets, naive times and anything else are refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from emaildesk.domain.clock import as_utc, format_iso, parse_iso, utcnow

FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2015, 12, 26, 19, 0, tzinfo=UTC), "2015-12-26T19:00:00.000Z"),
        (datetime(2015, 12, 26, 19, 0, 0, 123456, tzinfo=UTC), "2015-12-26T19:00:00.123Z"),
        (datetime(2015, 12, 26, 19, 0, 0, 999999, tzinfo=UTC), "2015-12-26T19:00:00.999Z"),
        (datetime(2015, 12, 26, 19, 0, 0, 1000, tzinfo=UTC), "2015-12-26T19:00:00.001Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00.000Z"),
    ],
)
def test_format_iso_always_millisecond_and_z(moment: datetime, text: str) -> None:
    assert format_iso(moment) == text


def test_format_iso_converts_other_zones_to_utc() -> None:
    moment = datetime(2015, 12, 27, 0, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert format_iso(moment) == "2015-12-26T19:00:00.000Z"


def test_format_iso_reads_naive_as_utc() -> None:
    assert format_iso(datetime(2015, 12, 26, 19, 0)) == "2015-12-26T19:00:00.000Z"


def test_format_iso_of_now_has_the_format() -> None:
    assert FORMAT.match(format_iso(utcnow()))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-12-26T19:00:00.000Z", datetime(2015, 12, 26, 19, 0, tzinfo=UTC)),
        ("2015-12-26T19:00:00Z", datetime(2015, 12, 26, 19, 0, tzinfo=UTC)),
        ("2015-12-26T19:00:00.5Z", datetime(2015, 12, 26, 19, 0, 0, 500000, tzinfo=UTC)),
        ("2020-02-29T23:59:59.999Z", datetime(2020, 2, 29, 23, 59, 59, 999000, tzinfo=UTC)),
    ],
)
def test_parse_iso_accepts_utc_z(text: str, expected: datetime) -> None:
    parsed = parse_iso(text)
    assert parsed == expected
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "2015-12-26T19:00:00.000+00:00",  # offset, even a zero one
        "2015-12-26T19:00:00.000+02:00",
        "2015-12-26T19:00:00.000-0500",
        "2015-12-26T19:00:00.000",  # naive
        "2015-12-26T19:00:00",
        "2015-12-26",
        "2015-12-26T19:00:00.000z",  # lower-case z
        "2015-12-26 19:00:00.000Z",  # space instead of T
        "2015-12-26T19:00:00.000Z ",
        " 2015-12-26T19:00:00.000Z",
        "2015-12-26T19:00:00.000ZZ",
        "2015-12-26T19:00:00.1234567Z",  # more than microseconds
        "2015-02-30T00:00:00.000Z",  # no such day
        "2015-12-26T24:00:00.000Z",
        "2015-13-01T00:00:00.000Z",
        "٢٠١٥-١٢-٢٦T19:00:00.000Z",  # non-ASCII digits
        "1450980000",
        "yesterday",
        "",
    ],
)
def test_parse_iso_refuses_offsets_naive_and_garbage(text: str) -> None:
    assert parse_iso(text) is None


def test_parse_iso_round_trips_format_iso_to_the_millisecond() -> None:
    moment = datetime(2024, 7, 1, 8, 9, 10, 987654, tzinfo=UTC)
    assert parse_iso(format_iso(moment)) == moment.replace(microsecond=987000)


def test_utcnow_is_aware_utc() -> None:
    assert utcnow().utcoffset() == timedelta(0)


def test_as_utc_converts_aware_and_labels_naive() -> None:
    naive = datetime(2024, 1, 1, 12, 0)
    assert as_utc(naive) == datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    plus_one = datetime(2024, 1, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    converted = as_utc(plus_one)
    assert converted == datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert converted.tzinfo is UTC
