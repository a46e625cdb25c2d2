"""Charset decoding never fails and says when it guessed (`emaildesk.mail.charsets`)."""

from __future__ import annotations

import encodings

import pytest

from emaildesk.mail.charsets import codec_for, decode_declared, decode_undeclared
from emaildesk.mail.defects import DefectLog


def decoded(data: bytes, label: str | None) -> tuple[str, list[str]]:
    defects = DefectLog()
    return decode_declared(data, label, defects, "body"), defects.as_list()


@pytest.mark.parametrize(
    ("label", "data", "expected"),
    [
        ("iso-8859-1", b"\x93quoted\x94 caf\xe9", "“quoted” café"),  # WHATWG: windows-1252
        ("us-ascii", b"plain", "plain"),
        ("gb2312", "中文".encode("gb18030"), "中文"),
        ("ks_c_5601-1987", "한국어".encode("cp949"), "한국어"),
        ("koi8-u", "Україна".encode("koi8-u"), "Україна"),
        ("x-mac-roman", "café".encode("mac_roman"), "café"),
        ("iso-8859-8-i", "שלום".encode("iso8859-8"), "שלום"),
        ('"UTF-8"', b"quoted label", "quoted label"),
        ("cp-1252", b"\x80", "€"),
    ],
)
def test_declared_charsets_decode_as_mail_clients_do(
    label: str, data: bytes, expected: str
) -> None:
    assert decoded(data, label) == (expected, [])


def test_iso_8859_1_bytes_undefined_in_windows_1252_still_decode() -> None:
    """0x81 has no windows-1252 character: the label's own codec takes it, no guess needed."""
    assert decoded(b"a\x81b", "iso-8859-1") == ("a\x81b", [])


def test_declared_us_ascii_with_8bit_bytes_is_treated_as_undeclared() -> None:
    assert decoded("naïve".encode(), "us-ascii") == (
        "naïve",
        ["body: 8-bit text without a charset, decoded as utf-8"],
    )


def test_fallback_order_is_utf8_then_cp1252_then_latin1() -> None:
    assert decoded("é".encode(), "x-nonsense")[0] == "é"
    assert decoded(b"\xe9", "x-nonsense")[0] == "é"
    assert decoded(b"\x81\xe9", "x-nonsense") == (
        "\x81é",
        ["body: unknown charset 'x-nonsense', decoded as latin-1"],
    )


@pytest.mark.parametrize(
    "label", ["unicode_escape", "raw-unicode-escape", "punycode", "rot13", "hex", "base64"]
)
def test_codecs_that_are_not_mail_charsets_are_refused(label: str) -> None:
    assert codec_for(label) is None
    text, defects = decoded(b"\\u0041", label)
    assert text == "\\u0041"  # not turned into "A"
    assert defects == [f"body: unknown charset {label!r}, decoded as utf-8"]


def test_lone_surrogates_from_utf7_are_replaced() -> None:
    assert decoded(b"+2D0-", "utf-7") == ("\ufffd", ["body: unpaired surrogates replaced"])


def test_nul_characters_are_removed() -> None:
    assert decoded(b"a\x00b", "utf-8") == ("ab", ["body: NUL characters removed"])


def test_invented_labels_do_not_grow_the_codec_cache() -> None:
    """`encodings` caches every failed lookup; hostile labels must never reach it."""
    cache = encodings._cache  # type: ignore[attr-defined]
    before = len(cache)
    for n in range(200):
        assert codec_for(f"x-invented-{n}") is None
    assert len(cache) == before


@pytest.mark.parametrize("label", ["", "   ", "a" * 41, "utf-8; format=flowed", "../../etc"])
def test_malformed_labels_are_unknown(label: str) -> None:
    assert codec_for(label) is None


def test_undeclared_ascii_is_not_a_guess() -> None:
    defects = DefectLog()
    assert decode_undeclared(b"plain", defects, "x") == "plain"
    assert defects.as_list() == []
