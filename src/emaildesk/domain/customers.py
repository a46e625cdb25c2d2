"""Customers, their contacts and contact points, and grants between customers.

An individual customer has one contact with contact points (email, phones, social ids, custom
contact attributes). Lookups go by contact point (kind + normalized value), optionally within the
customer's department when customer departmentalization is on. A grant lets customer A act for
customer B (api-notes §1.7): at most 75 grants each way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum

from emaildesk.domain import errors
from emaildesk.domain.addresses import is_valid_email_address, normalize_address

MAX_GRANTS_EACH_WAY = 75  # api-notes §1.7: ≤ 75 customers per grantee and per grantor


class ContactPointKind(Enum):
    """Kinds as named by `searchContactOnAttribute` (eGain v3 task activity)."""

    EMAIL = "email.emailAddress"
    HOME_PHONE = "home.phone"
    MOBILE_PHONE = "mobile.phone"
    OFFICE_PHONE = "office.phone"
    FACEBOOK = "social.facebookId"
    TWITTER = "social.twitterId"
    INSTAGRAM = "social.instagramId"
    CUSTOM = "custom"  # custom contact attribute: `custom.<name>`


class CustomerType(Enum):
    INDIVIDUAL = "individual"


def normalize_point(kind: ContactPointKind, value: str) -> str:
    """The lookup key: emails case-folded, phones reduced to digits (and a leading +)."""
    if kind is ContactPointKind.EMAIL:
        return normalize_address(value)
    if kind in (
        ContactPointKind.HOME_PHONE,
        ContactPointKind.MOBILE_PHONE,
        ContactPointKind.OFFICE_PHONE,
    ):
        digits = "".join(ch for ch in value if ch.isdigit())
        return ("+" if value.strip().startswith("+") else "") + digits
    return value.strip()


@dataclass(eq=False)
class ContactPoint:
    kind: ContactPointKind
    value: str
    name: str | None = None  # attribute name for CUSTOM points
    normalized: str = ""
    customer_id: int | None = None
    department_id: int | None = None  # the customer's department, copied for scoped lookups
    contact_id: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.normalized:
            self.normalized = normalize_point(self.kind, self.value)


@dataclass(eq=False)
class Contact:
    first_name: str = ""
    last_name: str = ""
    points: list[ContactPoint] = field(default_factory=list)
    customer_id: int | None = None
    id: int | None = None

    def email_addresses(self) -> list[str]:
        return [p.value for p in self.points if p.kind is ContactPointKind.EMAIL]


@dataclass(eq=False)
class Customer:
    """A customer; `department_id` None means shared across departments (no departmentalization)."""

    department_id: int | None = None
    type: CustomerType = CustomerType.INDIVIDUAL
    contacts: list[Contact] = field(default_factory=list)
    id: int | None = None

    @property
    def primary_contact(self) -> Contact | None:
        return self.contacts[0] if self.contacts else None

    def email_addresses(self) -> list[str]:
        return [a for c in self.contacts for a in c.email_addresses()]


def new_individual_customer(
    department_id: int | None,
    first_name: str,
    last_name: str,
    points: list[tuple[ContactPointKind, str, str | None]],
) -> Customer:
    """Build a new individual customer, applying the creation rules of eGain v3:
    at most one contact point of each kind (custom attributes: one per name), valid emails."""
    counts = Counter((kind, name) for kind, _, name in points)
    for (kind, name), count in counts.items():
        if count > 1:
            raise errors.ONE_CONTACT_POINT_PER_KIND(kind=f"custom.{name}" if name else kind.value)
    for kind, value, _ in points:
        if kind is ContactPointKind.EMAIL and not is_valid_email_address(value):
            raise errors.INVALID_EMAIL_ADDRESS(attribute="customer.contacts.contact.email")
    contact = Contact(
        first_name,
        last_name,
        [
            ContactPoint(kind, value, name, department_id=department_id)
            for kind, value, name in points
        ],
    )
    return Customer(department_id, CustomerType.INDIVIDUAL, [contact])


@dataclass(eq=False)
class CustomerGrant:
    """`grantee_id` (A) may act for `grantor_id` (B)."""

    grantee_id: int
    grantor_id: int
    id: int | None = None


def check_new_grant(
    grantee: Customer, grantor: Customer, grantee_holds: int, grantor_given: int
) -> None:
    """Both individual, same department when departmentalized, ≤ 75 each way."""
    if grantee.id == grantor.id:
        raise errors.INVALID_ATTRIBUTE(attribute="grantsTo.customer.id")
    if grantee.department_id != grantor.department_id:
        raise errors.DEPARTMENT_MISMATCH(attribute="grantsTo.customer.id")
    if grantee_holds >= MAX_GRANTS_EACH_WAY or grantor_given >= MAX_GRANTS_EACH_WAY:
        raise errors.GRANT_LIMIT(limit=MAX_GRANTS_EACH_WAY)
