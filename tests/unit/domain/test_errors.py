"""The error registry (domain/errors.py): stable, unique eGain-style codes and safe templates.

Every dialect renders these codes on the wire and clients branch on them, so the registry itself
is a contract: a duplicated or malformed code, or a family that disagrees with the code's status,
would surface as a wrong answer at some edge far from here.
"""

from __future__ import annotations

import re
from collections import Counter
from string import Formatter

import pytest

from emaildesk.domain import errors
from emaildesk.domain.errors import DomainError, ErrorFamily, ErrorSpec, all_specs, render

CODE_SHAPE = re.compile(r"^\d{3}-\d+$")  # api-notes §1.4: `<status>-<number>`

# The status part of a code says which family it belongs to (each edge maps family → status).
FAMILY_OF_STATUS = {
    "400": ErrorFamily.INVALID,
    "401": ErrorFamily.UNAUTHENTICATED,
    "403": ErrorFamily.FORBIDDEN,
    "404": ErrorFamily.NOT_FOUND,
    "406": ErrorFamily.NOT_ACCEPTABLE,
    "409": ErrorFamily.CONFLICT,
    "412": ErrorFamily.CONFLICT,
    "413": ErrorFamily.TOO_LARGE,
    "415": ErrorFamily.UNSUPPORTED_MEDIA,
    "429": ErrorFamily.RATE_LIMITED,
    "500": ErrorFamily.INTERNAL,
    "503": ErrorFamily.UNAVAILABLE,
}


def placeholders(template: str) -> list[str | None]:
    return [field for _, field, _, _ in Formatter().parse(template) if field is not None]


def test_registry_lists_every_module_level_spec() -> None:
    specs = all_specs()
    assert errors.WRONG_CREDENTIALS in specs
    assert errors.OPERATION_NOT_ALLOWED_IN_STATE in specs
    assert errors.INTERNAL_ERROR in specs
    assert all(isinstance(spec, ErrorSpec) for spec in specs)


def test_error_codes_are_unique_across_the_registry() -> None:
    counts = Counter(spec.code for spec in all_specs())
    duplicated = {code: n for code, n in counts.items() if n > 1}
    assert duplicated == {}


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.code)
def test_error_code_has_the_egain_status_dash_number_shape(spec: ErrorSpec) -> None:
    assert CODE_SHAPE.match(spec.code), spec.code


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.code)
def test_error_family_agrees_with_the_status_part_of_the_code(spec: ErrorSpec) -> None:
    status = spec.code.split("-", 1)[0]
    assert FAMILY_OF_STATUS[status] is spec.family, (spec.code, spec.family)


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.code)
def test_error_template_placeholders_are_named(spec: ErrorSpec) -> None:
    """Positional `{}` or `{0}` could never be filled from keyword parameters."""
    for name in placeholders(spec.message):
        assert name, f"{spec.code}: anonymous placeholder in {spec.message!r}"
        assert name.isidentifier(), f"{spec.code}: placeholder {name!r} is not a parameter name"


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.code)
def test_error_template_renders_fully_when_every_placeholder_is_given(spec: ErrorSpec) -> None:
    params = {name: f"<{name}>" for name in placeholders(spec.message) if name}
    text = render(spec.message, params)
    for name in params:
        assert "{" + name + "}" not in text
        assert f"<{name}>" in text


def test_render_keeps_unknown_placeholders() -> None:
    template = "Limit exceeded. The allowed limit for '{limit}' is '{value}'."
    assert render(template, {"limit": "ids"}) == (
        "Limit exceeded. The allowed limit for 'ids' is '{value}'."
    )


def test_render_ignores_parameters_the_template_does_not_name() -> None:
    assert render("Department '{department}' does not exist.", {"x": "1", "department": "S"}) == (
        "Department 'S' does not exist."
    )


def test_domain_error_carries_code_family_and_stringified_params() -> None:
    error = errors.TOO_LONG(attribute="subject", limit=255)
    assert isinstance(error, DomainError)
    assert isinstance(error, Exception)
    assert error.code == "400-2003"
    assert error.family is ErrorFamily.INVALID
    assert error.params == {"attribute": "subject", "limit": "255"}
    assert error.english() == "The value of attribute 'subject' must not exceed 255 characters."


def test_domain_error_string_starts_with_its_code() -> None:
    error = errors.DEPARTMENT_NOT_FOUND(department="Sales")
    assert str(error) == "400-2023: Department 'Sales' does not exist."


def test_domain_error_keeps_details_apart_from_params() -> None:
    error = errors.INVALID_ATTRIBUTE({"path": "payload.email"}, attribute="payload")
    assert error.details == {"path": "payload.email"}
    assert error.params == {"attribute": "payload"}


def test_domain_error_without_params_shows_placeholders_rather_than_failing() -> None:
    error = errors.SESSION_LIMIT_REACHED()
    assert "{limit}" in error.english()


def test_domain_error_can_be_raised_and_caught_by_spec() -> None:
    with pytest.raises(DomainError) as caught:
        raise errors.WRONG_CREDENTIALS()
    assert caught.value.spec is errors.WRONG_CREDENTIALS
    assert caught.value.family is ErrorFamily.UNAUTHENTICATED
