"""Customer rules: contact point normalization, the eGain v3 creation rule (at most one contact
point of each kind), and customer grants (api-notes §1.7: ≤ 75 each way, same department, never
oneself)."""

from __future__ import annotations

import pytest

from emaildesk.domain import errors
from emaildesk.domain.customers import (
    MAX_GRANTS_EACH_WAY,
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerType,
    check_new_grant,
    new_individual_customer,
    normalize_point,
)
from emaildesk.domain.errors import DomainError

K = ContactPointKind


# --- normalization --------------------------------------------------------------------------


def test_email_contact_point_is_normalized_case_insensitively() -> None:
    assert normalize_point(K.EMAIL, " JHenry@Customer.COM ") == "jhenry@customer.com"


@pytest.mark.parametrize("kind", [K.HOME_PHONE, K.MOBILE_PHONE, K.OFFICE_PHONE])
def test_phone_contact_point_is_normalized_to_digits(kind: ContactPointKind) -> None:
    assert normalize_point(kind, "(555) 010-4477") == "5550104477"
    assert normalize_point(kind, " +44 20 7946 0958") == "+442079460958"


def test_phone_plus_counts_only_at_the_start() -> None:
    assert normalize_point(K.MOBILE_PHONE, "555+0104477") == "5550104477"


def test_social_and_custom_points_are_only_trimmed() -> None:
    assert normalize_point(K.TWITTER, "  @JHenry ") == "@JHenry"
    assert normalize_point(K.CUSTOM, " Gold ") == "Gold"


def test_contact_point_computes_its_lookup_key() -> None:
    point = ContactPoint(K.EMAIL, "JHenry@Customer.com")
    assert point.normalized == "jhenry@customer.com"
    assert point.value == "JHenry@Customer.com"  # shown as given


# --- creation -------------------------------------------------------------------------------


def test_new_customer_is_an_individual_with_one_contact() -> None:
    customer = new_individual_customer(
        7,
        "John",
        "Henry",
        [(K.EMAIL, "JHenry@customer.com", None), (K.MOBILE_PHONE, "+1 555 0100", None)],
    )
    assert customer.type is CustomerType.INDIVIDUAL
    assert customer.department_id == 7
    assert len(customer.contacts) == 1
    contact = customer.primary_contact
    assert contact is not None
    assert (contact.first_name, contact.last_name) == ("John", "Henry")
    assert [(p.kind, p.normalized, p.department_id) for p in contact.points] == [
        (K.EMAIL, "jhenry@customer.com", 7),
        (K.MOBILE_PHONE, "+15550100", 7),
    ]
    assert customer.email_addresses() == ["JHenry@customer.com"]


@pytest.mark.parametrize("kind", [K.EMAIL, K.HOME_PHONE, K.MOBILE_PHONE, K.TWITTER])
def test_new_customer_allows_at_most_one_contact_point_of_each_kind(kind: ContactPointKind) -> None:
    value = "a@example.com" if kind is K.EMAIL else "12345"
    other = "b@example.com" if kind is K.EMAIL else "67890"
    with pytest.raises(DomainError) as caught:
        new_individual_customer(None, "A", "B", [(kind, value, None), (kind, other, None)])
    assert caught.value.spec is errors.ONE_CONTACT_POINT_PER_KIND
    assert caught.value.params == {"kind": kind.value}


def test_new_customer_allows_one_of_each_of_several_kinds() -> None:
    points: list[tuple[ContactPointKind, str, str | None]] = [
        (kind, "a@example.com" if kind is K.EMAIL else "1", None) for kind in K
    ]
    customer = new_individual_customer(None, "A", "B", points)
    assert customer.primary_contact is not None
    assert len(customer.primary_contact.points) == len(K)


def test_new_customer_allows_one_custom_point_per_attribute_name() -> None:
    customer = new_individual_customer(
        None, "A", "B", [(K.CUSTOM, "Gold", "tier"), (K.CUSTOM, "42", "account")]
    )
    assert customer.primary_contact is not None
    assert [p.name for p in customer.primary_contact.points] == ["tier", "account"]
    with pytest.raises(DomainError) as caught:
        new_individual_customer(
            None, "A", "B", [(K.CUSTOM, "Gold", "tier"), (K.CUSTOM, "Silver", "tier")]
        )
    assert caught.value.params == {"kind": "custom.tier"}


def test_new_customer_refuses_an_invalid_email() -> None:
    with pytest.raises(DomainError) as caught:
        new_individual_customer(None, "A", "B", [(K.EMAIL, "not an address", None)])
    assert caught.value.spec is errors.INVALID_EMAIL_ADDRESS


def test_customer_without_contacts_has_no_primary_contact() -> None:
    assert Customer().primary_contact is None
    assert Customer().email_addresses() == []


# --- grants ---------------------------------------------------------------------------------


def customer(customer_id: int, department_id: int | None = None) -> Customer:
    return Customer(department_id=department_id, id=customer_id)


def test_grant_limit_is_75_each_way() -> None:
    assert MAX_GRANTS_EACH_WAY == 75


def test_grant_allowed_below_the_limit_each_way() -> None:
    check_new_grant(customer(1), customer(2), MAX_GRANTS_EACH_WAY - 1, MAX_GRANTS_EACH_WAY - 1)


def test_grant_limit_75_for_the_grantee() -> None:
    with pytest.raises(DomainError) as caught:
        check_new_grant(customer(1), customer(2), MAX_GRANTS_EACH_WAY, 0)
    assert caught.value.spec is errors.GRANT_LIMIT
    assert caught.value.params == {"limit": "75"}


def test_grant_limit_75_for_the_grantor() -> None:
    with pytest.raises(DomainError) as caught:
        check_new_grant(customer(1), customer(2), 0, MAX_GRANTS_EACH_WAY)
    assert caught.value.spec is errors.GRANT_LIMIT


def test_grant_requires_the_same_department() -> None:
    check_new_grant(customer(1, 10), customer(2, 10), 0, 0)
    with pytest.raises(DomainError) as caught:
        check_new_grant(customer(1, 10), customer(2, 11), 0, 0)
    assert caught.value.spec is errors.DEPARTMENT_MISMATCH


def test_grant_between_a_departmental_and_a_shared_customer_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        check_new_grant(customer(1, 10), customer(2, None), 0, 0)
    assert caught.value.spec is errors.DEPARTMENT_MISMATCH


def test_grant_to_oneself_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        check_new_grant(customer(1), customer(1), 0, 0)
    assert caught.value.spec is errors.INVALID_ATTRIBUTE
