"""Customers, contact points and grants."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from emaildesk.db import tables as t
from emaildesk.db.repositories.base import SqlRepository
from emaildesk.domain.customers import (
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerGrant,
    normalize_point,
)


class SqlCustomerRepository(SqlRepository):
    async def get(self, customer_id: int) -> Customer | None:
        return await self.session.get(Customer, customer_id)

    async def get_many(self, ids: Sequence[int]) -> list[Customer]:
        if not ids:
            return []
        stmt = select(Customer).where(t.customers.c.id.in_(ids))
        return list(await self.session.scalars(stmt))

    async def add_customer(self, customer: Customer) -> Customer:
        """Store a customer with its contacts; stamp contact points with the customer id so
        that lookups by contact point need no join."""
        await self.add(customer)
        for contact in customer.contacts:
            for point in contact.points:
                point.customer_id = customer.id
                point.department_id = customer.department_id
        await self.session.flush()
        return customer

    async def find_point(
        self,
        kind: ContactPointKind,
        value: str,
        *,
        name: str | None = None,
        department_id: int | None = None,
        departmentalized: bool = False,
    ) -> ContactPoint | None:
        """The contact point with this kind and value; within one department when customer
        departmentalization is on, across the application otherwise (eGain v12 / v3)."""
        c = t.contact_points.c
        stmt = select(ContactPoint).where(
            c.kind == kind, c.normalized == normalize_point(kind, value)
        )
        if name is not None:
            stmt = stmt.where(c.name == name)
        if departmentalized:
            stmt = stmt.where(c.department_id == department_id)
        return (await self.session.scalars(stmt.order_by(c.id).limit(1))).first()

    async def add_point(self, point: ContactPoint) -> ContactPoint:
        return await self.add(point)

    async def grant(self, grantee_id: int, grantor_id: int) -> CustomerGrant | None:
        stmt = select(CustomerGrant).where(
            t.customer_grants.c.grantee_id == grantee_id,
            t.customer_grants.c.grantor_id == grantor_id,
        )
        return (await self.session.scalars(stmt)).first()

    async def grant_counts(self, grantee_id: int, grantor_id: int) -> tuple[int, int]:
        """(grants the grantee holds, grants the grantor has given)."""
        g = t.customer_grants.c
        held = await self.session.scalar(select(func.count()).where(g.grantee_id == grantee_id))
        given = await self.session.scalar(select(func.count()).where(g.grantor_id == grantor_id))
        return int(held or 0), int(given or 0)

    async def grantors_of(self, grantee_id: int) -> list[int]:
        """Customers the grantee may act for."""
        g = t.customer_grants.c
        rows = await self.session.execute(select(g.grantor_id).where(g.grantee_id == grantee_id))
        return [row[0] for row in rows]
