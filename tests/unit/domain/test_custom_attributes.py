"""Custom attribute rules (api-notes §1.7): names must be configured, enumerated attributes take
only their values, free strings take only eGain's allowed characters (`+` refused, everything
above ASCII 128 allowed)."""

from __future__ import annotations

import pytest

from emaildesk.domain import errors
from emaildesk.domain.custom_attributes import (
    MAX_VALUE_LENGTH,
    AttributeEntity,
    AttributeType,
    CustomAttributeDefinition,
    has_allowed_characters,
    validate_custom_attributes,
)
from emaildesk.domain.errors import DomainError


def definition(
    name: str = "order_number",
    type_: AttributeType = AttributeType.STRING,
    enum_values: list[str] | None = None,
) -> CustomAttributeDefinition:
    return CustomAttributeDefinition(name, AttributeEntity.ACTIVITY, type_, enum_values or [])


ALLOWED = [
    "abcXYZ0189",
    "@ :._-&,()?#='\"",  # every listed punctuation character
    "Order #12, (urgent) - ask: who?",
    "prénom",  # é is above ASCII 128
    "東京",
    "emoji 🙂",
    "",
]

REFUSED = [
    ("a+b", "plus is notably refused"),
    ("50%", "percent"),
    ("a/b", "slash"),
    ("a\\b", "backslash"),
    ("a;b", "semicolon"),
    ("<b>", "angle brackets"),
    ("a*b", "asterisk"),
    ("a!b", "exclamation mark"),
    ("line\nbreak", "control character"),
    ("a\x7fb", "DEL is ASCII, not above 128"),
]


@pytest.mark.parametrize("value", ALLOWED)
def test_custom_attribute_allowed_characters_accept(value: str) -> None:
    assert has_allowed_characters(value)
    definition().check(value)


@pytest.mark.parametrize(("value", "why"), REFUSED, ids=[why for _, why in REFUSED])
def test_custom_attribute_allowed_characters_refuse(value: str, why: str) -> None:
    assert not has_allowed_characters(value), why
    with pytest.raises(DomainError) as caught:
        definition().check(value)
    assert caught.value.spec is errors.CUSTOM_ATTRIBUTE_CHARACTERS
    assert caught.value.params == {"name": "order_number"}


def test_custom_attribute_enum_value_must_be_one_of_its_values() -> None:
    rating = definition("customer_rating", enum_values=["1", "2", "3", "4", "5"])
    rating.check("5")
    with pytest.raises(DomainError) as caught:
        rating.check("6")
    assert caught.value.spec is errors.CUSTOM_ATTRIBUTE_NOT_IN_ENUM
    assert caught.value.params == {"name": "customer_rating", "values": "1, 2, 3, 4, 5"}


def test_custom_attribute_enum_match_is_exact() -> None:
    level = definition("level", enum_values=["Gold", "Silver"])
    with pytest.raises(DomainError):
        level.check("gold")
    with pytest.raises(DomainError):
        level.check(" Gold")


def test_custom_attribute_enum_values_are_not_subject_to_the_character_rule() -> None:
    """The administrator chose the values; only free strings are filtered."""
    definition("plan", enum_values=["A+B"]).check("A+B")


def test_custom_attribute_string_length_limit() -> None:
    attribute = definition()
    attribute.check("x" * MAX_VALUE_LENGTH)
    with pytest.raises(DomainError) as caught:
        attribute.check("x" * (MAX_VALUE_LENGTH + 1))
    assert caught.value.spec is errors.TOO_LONG
    assert caught.value.params["attribute"] == "customAttributes.order_number"


@pytest.mark.parametrize("value", ["0", "42", "-7"])
def test_custom_attribute_integer_accepts_integers(value: str) -> None:
    definition("count", AttributeType.INTEGER).check(value)


@pytest.mark.parametrize("value", ["", "-", "4.2", "x", "1e3", "--1", "1-", "\u00b2", "\u0661"])
def test_custom_attribute_integer_refuses_non_integers(value: str) -> None:
    with pytest.raises(DomainError) as caught:
        definition("count", AttributeType.INTEGER).check(value)
    assert caught.value.spec is errors.INVALID_ATTRIBUTE


def test_custom_attribute_boolean_takes_true_or_false_only() -> None:
    flag = definition("vip", AttributeType.BOOLEAN)
    flag.check("true")
    flag.check("false")
    with pytest.raises(DomainError) as caught:
        flag.check("yes")
    assert caught.value.spec is errors.INVALID_ENUM_VALUE


def test_custom_attribute_unknown_name_is_refused() -> None:
    known = {"order_number": definition()}
    with pytest.raises(DomainError) as caught:
        validate_custom_attributes({"order_number": "A1", "colour": "red"}, known)
    assert caught.value.spec is errors.UNKNOWN_CUSTOM_ATTRIBUTE
    assert caught.value.params == {"name": "colour"}


def test_custom_attribute_names_are_matched_exactly() -> None:
    known = {"order_number": definition()}
    with pytest.raises(DomainError):
        validate_custom_attributes({"Order_Number": "A1"}, known)


def test_validate_custom_attributes_checks_every_value() -> None:
    known = {"order_number": definition(), "note": definition("note")}
    with pytest.raises(DomainError) as caught:
        validate_custom_attributes({"order_number": "A1", "note": "a+b"}, known)
    assert caught.value.params == {"name": "note"}


def test_validate_custom_attributes_returns_a_copy_of_valid_values() -> None:
    values = {"order_number": "A1"}
    checked = validate_custom_attributes(values, {"order_number": definition()})
    assert checked == values
    assert checked is not values
