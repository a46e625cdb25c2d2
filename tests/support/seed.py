"""A small site built directly through the repositories, for service-level tests."""

from __future__ import annotations

from dataclasses import dataclass

from emaildesk.domain.custom_attributes import AttributeEntity, CustomAttributeDefinition
from emaildesk.domain.directory import Department, EmailAlias, PartitionSettings
from emaildesk.services.ports import UnitOfWork


@dataclass
class BasicSite:
    service: Department
    sales: Department
    support_alias: EmailAlias
    sales_alias: EmailAlias
    inactive_alias: EmailAlias
    settings: PartitionSettings


async def seed_basic_site(
    uow: UnitOfWork, *, departmentalized: bool = False, secure: bool = True
) -> BasicSite:
    service = await uow.directory.add(Department("Service"))
    sales = await uow.directory.add(Department("Sales"))
    assert service.id is not None and sales.id is not None
    settings = await uow.directory.add(
        PartitionSettings(
            customer_departmentalization=departmentalized, secure_messaging_enabled=secure
        )
    )
    support = await uow.directory.add(EmailAlias("support@example.com", service.id, "Support"))
    sales_alias = await uow.directory.add(EmailAlias("sales@example.com", sales.id, "Sales"))
    old = await uow.directory.add(EmailAlias("old@example.com", service.id, active=False))
    await uow.directory.add(
        CustomAttributeDefinition(
            "customer_rating", AttributeEntity.ACTIVITY, enum_values=["1", "2", "3", "4", "5"]
        )
    )
    await uow.directory.add(CustomAttributeDefinition("order_number", AttributeEntity.ACTIVITY))
    return BasicSite(service, sales, support, sales_alias, old, settings)
