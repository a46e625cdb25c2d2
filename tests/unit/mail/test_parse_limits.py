"""ParseLimits: "header and part count limits so a hostile message cannot exhaust memory", and
"a 25 MB message never needs more than a few times its size in memory" (issue #4).

Each limit is tested on both sides: exactly at the limit is parsed, one over is refused with a
reason naming the limit, and a configured limit moves the line.
"""

from __future__ import annotations

import hashlib
import sys
import tracemalloc

import pytest

from emaildesk.mail.parse import MessageRejectedError, ParseLimits, parse_message
from support import tricky_mail as tm

BASIC_HEADER_COUNT = len(tm.basic_headers())
MEMORY_FACTOR_LIMIT = 6
STACK_FOR_DEEP_NESTING_TEST = 400


def test_max_parts_accepts_a_message_exactly_at_the_limit() -> None:
    parsed = parse_message(tm.many_parts(1_000), limits=ParseLimits(max_parts=1_000))
    assert len(parsed.attachments) == 999
    assert [a.file_name for a in parsed.attachments[:2]] == ["f0.txt", "f1.txt"]
    assert parsed.attachments[998].data == b"file 998"


def test_max_parts_refuses_one_part_more() -> None:
    with pytest.raises(MessageRejectedError) as refused:
        parse_message(tm.many_parts(1_000), limits=ParseLimits(max_parts=999))
    assert refused.value.reason == "too many MIME parts: more than 999 (max_parts)"


def test_max_depth_accepts_nesting_at_the_limit() -> None:
    parsed = parse_message(tm.deep_nesting(50), limits=ParseLimits(max_depth=50))
    assert parsed.text == "deep"


def test_max_depth_refuses_one_level_more() -> None:
    with pytest.raises(MessageRejectedError) as refused:
        parse_message(tm.deep_nesting(50), limits=ParseLimits(max_depth=49))
    assert refused.value.reason == "MIME nesting deeper than 49 levels (max_depth)"


def test_default_max_depth_accepts_twenty_levels() -> None:
    assert parse_message(tm.deep_nesting(20)).text == "deep"


def test_nesting_deeper_than_the_stack_is_refused_not_crashed() -> None:
    """With the limits switched off, the stdlib parser's recursion is the last guard: the
    RecursionError becomes a refusal. A lower recursion limit reaches it sooner (the parser's
    line reading is quadratic in the nesting depth, so a deep stack makes a slow test)."""
    limits = ParseLimits(max_parts=10**6, max_depth=10**6)
    raw = tm.deep_nesting(1_000)
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(STACK_FOR_DEEP_NESTING_TEST)
    try:
        with pytest.raises(MessageRejectedError) as refused:
            parse_message(raw, limits=limits)
    finally:
        sys.setrecursionlimit(previous)
    assert refused.value.reason == "MIME structure nested too deeply to parse"


def test_max_headers_accepts_exactly_the_limit() -> None:
    raw = tm.many_headers(1_000 - BASIC_HEADER_COUNT)
    assert parse_message(raw).subject == "Many headers"


def test_max_headers_refuses_one_field_more() -> None:
    with pytest.raises(MessageRejectedError, match=r"more than 1000 \(max_headers\)"):
        parse_message(tm.many_headers(1_001 - BASIC_HEADER_COUNT))


def test_max_headers_counts_per_part() -> None:
    """Seven fields at the top and eleven in a part: only the part is over a limit of ten."""
    crowded = tm.part(["Content-Type: text/plain", *(f"X-Part-{n}: v" for n in range(10))], b"x")
    raw = tm.eml(
        [*tm.basic_headers("Per part"), 'Content-Type: multipart/mixed; boundary="p"'],
        tm.multipart("mixed", "p", [crowded]),
    )
    with pytest.raises(MessageRejectedError, match=r"more than 10 \(max_headers\)"):
        parse_message(raw, limits=ParseLimits(max_headers=10))
    assert parse_message(raw, limits=ParseLimits(max_headers=11)).text == "x"


def test_max_header_bytes_can_admit_a_megabyte_header_line() -> None:
    limits = ParseLimits(max_header_bytes=2 * 1024 * 1024)
    parsed = parse_message(tm.long_header_line(1024 * 1024), limits=limits)
    assert parsed.subject == "A" * 1024 * 1024


def test_max_message_bytes_refuses_before_parsing() -> None:
    raw = tm.base64_body()
    with pytest.raises(MessageRejectedError) as refused:
        parse_message(raw, limits=ParseLimits(max_message_bytes=100))
    assert refused.value.reason == (
        f"message of {len(raw)} bytes exceeds 100 bytes (max_message_bytes)"
    )
    assert parse_message(raw, limits=ParseLimits(max_message_bytes=len(raw))).subject == "B64"


@pytest.mark.parametrize(
    "setting", ["max_headers", "max_header_bytes", "max_parts", "max_message_bytes"]
)
def test_parse_limits_must_be_positive(setting: str) -> None:
    with pytest.raises(ValueError, match=setting):
        ParseLimits(**{setting: 0})


def test_max_depth_may_be_zero_for_single_part_mail_only() -> None:
    limits = ParseLimits(max_depth=0)
    assert parse_message(tm.base64_body(), limits=limits).subject == "B64"
    with pytest.raises(MessageRejectedError, match="deeper than 0 levels"):
        parse_message(tm.alternative(), limits=limits)


@pytest.mark.slow
def test_25_mb_message_peaks_below_six_times_its_size() -> None:
    raw, data = tm.large_message(25 * 1024 * 1024)
    expected = hashlib.sha256(data).hexdigest()
    del data
    tracemalloc.start()
    try:
        parsed = parse_message(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (attachment,) = parsed.attachments
    assert hashlib.sha256(attachment.data).hexdigest() == expected
    assert peak < MEMORY_FACTOR_LIMIT * len(raw), f"peak {peak / len(raw):.1f}x the message"
