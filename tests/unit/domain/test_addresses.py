"""The eGain email address definition (api-notes §1.7), applied to every address field.

The rule is the vendor's, not RFC 5322: exactly one `@`; at least one character between the `@`
and a dot; a dot after the `@`; not ending with a dot; at most 255 characters; none of
`( ) [ ] : ; < > "` or space; never two consecutive backslashes.
"""

from __future__ import annotations

import pytest

from emaildesk.domain.addresses import (
    MAX_ADDRESS_LENGTH,
    is_valid_email_address,
    normalize_address,
)


def _of_length(length: int) -> str:
    domain = "@example.com"
    return "x" * (length - len(domain)) + domain


VALID = [
    ("jhenry@customer.com", "the spec's own example"),
    ("a@b.c", "shortest form: one char each side of the dot"),
    ("first.last@sub.example.co.uk", "dots in the local part and several after @"),
    ("a@b..com", "one char between @ and the first dot is all the rule asks"),
    ("a@-.c", "the rule does not check domain label syntax"),
    ("o'brien+tag@example.com", "apostrophe and plus are not forbidden"),
    ("a\\b@example.com", "one backslash is allowed"),
    ("a\\b\\c@example.com", "backslashes that are not consecutive are allowed"),
    ("josé@exämple.com", "non-ASCII characters are not forbidden"),
    ("UPPER@EXAMPLE.COM", "case is not part of the rule"),
    (_of_length(MAX_ADDRESS_LENGTH), "exactly 255 characters"),
]

INVALID = [
    ("", "empty"),
    ("jhenry.customer.com", "no @"),
    ("a@@b.com", "two @ side by side"),
    ("a@b@c.com", "two @ apart"),
    ("a@bcom", "no dot after @"),
    ("a.b@com", "a dot only before @"),
    ("a@.com", "no character between @ and the dot"),
    ("a@b.com.", "ends with a dot"),
    ("a@b.", "ends with the only dot"),
    ("@example.com", "nothing before @"),
    ("a(b@example.com", "( is forbidden"),
    ("a)b@example.com", ") is forbidden"),
    ("a[b@example.com", "[ is forbidden"),
    ("a]b@example.com", "] is forbidden"),
    ("a:b@example.com", ": is forbidden"),
    ("a;b@example.com", "; is forbidden"),
    ("a<b@example.com", "< is forbidden"),
    ("a>b@example.com", "> is forbidden"),
    ('a"b@example.com', '" is forbidden'),
    ("a b@example.com", "space is forbidden"),
    (" a@example.com", "leading space"),
    ("a@example.com ", "trailing space"),
    ("a\\\\b@example.com", "two consecutive backslashes"),
    ("a@exa\\\\mple.com", "two consecutive backslashes after @"),
    ("John <john@example.com>", "a display-name form is not an address"),
    ("a@example.com\r\nBcc: x@evil.com", "header injection: CR LF and a colon"),
    ("a\tb@example.com", "control characters"),
    (_of_length(MAX_ADDRESS_LENGTH + 1), "256 characters"),
]


@pytest.mark.parametrize(("address", "why"), VALID, ids=[why for _, why in VALID])
def test_egain_email_address_definition_accepts(address: str, why: str) -> None:
    assert is_valid_email_address(address), why


@pytest.mark.parametrize(("address", "why"), INVALID, ids=[why for _, why in INVALID])
def test_egain_email_address_definition_refuses(address: str, why: str) -> None:
    assert not is_valid_email_address(address), why


def test_email_address_length_limit_is_255() -> None:
    assert MAX_ADDRESS_LENGTH == 255


def test_normalized_address_is_trimmed_and_case_folded() -> None:
    assert normalize_address("  JHenry@Customer.COM ") == "jhenry@customer.com"


def test_normalizing_a_normalized_address_changes_nothing() -> None:
    once = normalize_address(" A@B.C ")
    assert normalize_address(once) == once
