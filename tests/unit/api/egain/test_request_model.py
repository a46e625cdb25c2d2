"""The shared eGain request models accept every documented form and normalize it."""

from __future__ import annotations

import pytest
from pydantic import Field

from emaildesk.api.egain.request_model import (
    AddressList,
    Bool,
    Contents,
    CustomAttributes,
    EgainModel,
    IdRef,
    OneOrMany,
    custom_attribute_values,
    text_and_html,
    validate_body,
)
from emaildesk.domain.errors import DomainError


class Sample(EgainModel):
    isSecure: Bool = False  # noqa: N815
    case: IdRef | None = None
    to: AddressList = Field(default_factory=list)
    items: OneOrMany[IdRef] = Field(default_factory=list)
    contents: Contents | None = None
    customAttributes: CustomAttributes | None = None  # noqa: N815


@pytest.mark.parametrize(("given", "expected"), [("true", True), ("FALSE", False), (True, True)])
def test_string_booleans_are_accepted(given: object, expected: bool) -> None:
    assert validate_body(Sample, {"isSecure": given}).isSecure is expected


def test_a_non_boolean_names_the_attribute() -> None:
    with pytest.raises(DomainError) as caught:
        validate_body(Sample, {"isSecure": "maybe"})
    assert (caught.value.code, caught.value.params) == ("400-152", {"attribute": "isSecure"})


def test_ids_may_be_numbers_or_strings() -> None:
    assert validate_body(Sample, {"case": {"id": 1060}}).case == IdRef(id="1060")
    assert validate_body(Sample, {"case": {"id": "1060"}}).case == IdRef(id="1060")


@pytest.mark.parametrize(
    "given",
    ["a@x.com, b@y.com", ["a@x.com", "b@y.com"], {"address": ["a@x.com", "b@y.com"]}],
)
def test_address_lists_in_every_documented_form(given: object) -> None:
    assert validate_body(Sample, {"to": given}).to == ["a@x.com", "b@y.com"]


def test_one_element_or_a_list() -> None:
    assert validate_body(Sample, {"items": {"id": "1"}}).items == [IdRef(id="1")]
    assert validate_body(Sample, {"items": [{"id": "1"}, {"id": 2}]}).items == [
        IdRef(id="1"),
        IdRef(id="2"),
    ]


def test_contents_text_and_html() -> None:
    body = {
        "contents": {
            "content": [{"type": "text", "value": "t"}, {"type": "html", "value": "<b>h</b>"}]
        }
    }
    sample = validate_body(Sample, body)
    assert sample.contents is not None
    assert text_and_html(sample.contents.content, "contents.content") == ("t", "<b>h</b>")


@pytest.mark.parametrize(
    ("contents", "code"),
    [
        ([{"type": "rtf", "value": "x"}], "400-196"),
        ([{"type": "text", "value": "a"}, {"type": "text", "value": "b"}], "400-152"),
    ],
)
def test_contents_only_text_and_html_once_each(contents: list[dict[str, str]], code: str) -> None:
    sample = validate_body(Sample, {"contents": {"content": contents}})
    assert sample.contents is not None
    with pytest.raises(DomainError) as caught:
        text_and_html(sample.contents.content, "payload.email.contents.content")
    assert caught.value.code == code


def test_custom_attributes_flatten_to_name_value() -> None:
    body = {
        "customAttributes": {
            "customAttribute": [
                {
                    "attribName": "customer_rating",
                    "attribValues": {"attribValue": [{"value": "5"}]},
                },
                {"attribName": "order_number", "attribValues": {"attribValue": {"value": "A-1"}}},
            ]
        }
    }
    sample = validate_body(Sample, body)
    assert custom_attribute_values(sample.customAttributes, "customAttributes") == {
        "customer_rating": "5",
        "order_number": "A-1",
    }


def test_custom_attribute_without_name_is_refused() -> None:
    sample = validate_body(
        Sample, {"customAttributes": {"customAttribute": [{"attribValues": {}}]}}
    )
    with pytest.raises(DomainError) as caught:
        custom_attribute_values(sample.customAttributes, "customAttributes")
    assert caught.value.code == "400-2001"


def test_unknown_elements_are_ignored() -> None:
    assert validate_body(Sample, {"somethingElse": {"x": 1}}) == Sample()
