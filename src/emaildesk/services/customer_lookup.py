"""Find a customer by a contact point, or create one: shared by every way work comes in.

eGain's rule (v12 incoming email, v3 task): with "Customer departmentalization" on, look the
customer up in the activity's department and create new customers there; with it off, look across
the application and create customers shared by all departments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emaildesk.domain import errors
from emaildesk.domain.customers import (
    ContactPoint,
    ContactPointKind,
    Customer,
    new_individual_customer,
)
from emaildesk.domain.directory import PartitionSettings
from emaildesk.domain.events import CUSTOMER_CREATED, Event
from emaildesk.services.ports import UnitOfWork


@dataclass
class NewCustomerDetails:
    """What a request may say about a customer to create when none is found."""

    first_name: str = ""
    last_name: str = ""
    points: list[tuple[ContactPointKind, str, str | None]] = field(default_factory=list)


@dataclass
class FoundCustomer:
    customer: Customer
    point: ContactPoint | None
    created: bool


async def find_customer(
    uow: UnitOfWork,
    settings: PartitionSettings,
    kind: ContactPointKind,
    value: str,
    department_id: int,
    name: str | None = None,
) -> FoundCustomer | None:
    point = await uow.customers.find_point(
        kind,
        value,
        name=name,
        department_id=department_id,
        departmentalized=settings.customer_departmentalization,
    )
    if point is None or point.customer_id is None:
        return None
    customer = await uow.customers.get(point.customer_id)
    if customer is None:
        return None
    return FoundCustomer(customer, point, created=False)


async def find_or_create_customer(
    uow: UnitOfWork,
    settings: PartitionSettings,
    kind: ContactPointKind,
    value: str,
    department_id: int,
    details: NewCustomerDetails | None = None,
    name: str | None = None,
) -> FoundCustomer:
    """The customer owning this contact point, or a new individual customer that owns it.

    The looked-up point is always part of a new customer: the details may add other kinds, and
    may repeat the looked-up point (it is not added twice)."""
    found = await find_customer(uow, settings, kind, value, department_id, name)
    if found is not None:
        return found
    details = details or NewCustomerDetails()
    points = list(details.points)
    if not any(k is kind and (n == name) for k, _, n in points):
        points.insert(0, (kind, value, name))
    customer = new_individual_customer(
        department_id if settings.customer_departmentalization else None,
        details.first_name,
        details.last_name,
        points,
    )
    await uow.customers.add_customer(customer)
    assert customer.id is not None
    await uow.events.append(
        Event(
            kind=CUSTOMER_CREATED,
            aggregate_type="customer",
            aggregate_id=customer.id,
            department_id=customer.department_id,
        )
    )
    point = next(
        (
            p
            for c in customer.contacts
            for p in c.points
            if p.kind is kind
            and p.name == name
            and p.normalized == ContactPoint(kind, value).normalized
        ),
        None,
    )
    if point is None:  # the details named the same kind with another value
        raise errors.ONE_CONTACT_POINT_PER_KIND(kind=kind.value)
    return FoundCustomer(customer, point, created=True)
