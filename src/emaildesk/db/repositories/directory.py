"""Reads and writes of the site directory: departments, aliases, users, roles, settings, ..."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select

from emaildesk.db import tables as t
from emaildesk.db.repositories.base import SqlRepository
from emaildesk.domain.addresses import normalize_address
from emaildesk.domain.custom_attributes import AttributeEntity, CustomAttributeDefinition
from emaildesk.domain.directory import (
    Department,
    EmailAlias,
    IssueType,
    MessageCenter,
    PartitionSettings,
    Queue,
)
from emaildesk.domain.users import ClientApplication, Role, User


class SqlDirectoryRepository(SqlRepository):
    async def settings(self) -> PartitionSettings:
        """The partition settings; defaults (unsaved) when the site has none yet."""
        found = (await self.session.scalars(select(PartitionSettings).limit(1))).first()
        return found or PartitionSettings()

    async def department(self, department_id: int) -> Department | None:
        return await self.session.get(Department, department_id)

    async def department_by_name(self, name: str) -> Department | None:
        """Department names are matched case-insensitively, as eGain does."""
        stmt = select(Department).where(func.lower(t.departments.c.name) == name.strip().lower())
        return (await self.session.scalars(stmt.order_by(t.departments.c.id))).first()

    async def departments(self) -> list[Department]:
        return list(await self.session.scalars(select(Department).order_by(Department.id)))  # type: ignore[arg-type]

    async def alias_by_address(self, address: str) -> EmailAlias | None:
        stmt = select(EmailAlias).where(t.email_aliases.c.address == normalize_address(address))
        return (await self.session.scalars(stmt)).first()

    async def aliases(self) -> list[EmailAlias]:
        return list(await self.session.scalars(select(EmailAlias).order_by(t.email_aliases.c.id)))

    async def message_center(self, message_center_id: int) -> MessageCenter | None:
        return await self.session.get(MessageCenter, message_center_id)

    async def message_center_by_name(self, name: str) -> MessageCenter | None:
        stmt = select(MessageCenter).where(t.message_centers.c.name == name)
        return (await self.session.scalars(stmt)).first()

    async def issue_type(self, issue_type_id: int) -> IssueType | None:
        return await self.session.get(IssueType, issue_type_id)

    async def issue_type_by_name(self, name: str) -> IssueType | None:
        stmt = select(IssueType).where(t.issue_types.c.name == name)
        return (await self.session.scalars(stmt)).first()

    async def issue_types(self) -> list[IssueType]:
        return list(await self.session.scalars(select(IssueType).order_by(t.issue_types.c.id)))

    async def queues(self) -> list[Queue]:
        return list(await self.session.scalars(select(Queue).order_by(t.queues.c.id)))

    async def queue_by_name(self, name: str) -> Queue | None:
        return (await self.session.scalars(select(Queue).where(t.queues.c.name == name))).first()

    async def role_by_name(self, name: str) -> Role | None:
        return (await self.session.scalars(select(Role).where(t.roles.c.name == name))).first()

    async def roles_named(self, names: list[str]) -> list[Role]:
        if not names:
            return []
        return list(await self.session.scalars(select(Role).where(t.roles.c.name.in_(names))))

    async def user(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def users_by_ids(self, ids: Sequence[int]) -> list[User]:
        if not ids:
            return []
        return list(await self.session.scalars(select(User).where(t.users.c.id.in_(ids))))

    async def user_by_login(self, login_id: str) -> User | None:
        return (
            await self.session.scalars(select(User).where(t.users.c.login_id == login_id))
        ).first()

    async def user_by_external_id(self, external_id: str) -> User | None:
        stmt = select(User).where(t.users.c.external_id == external_id)
        return (await self.session.scalars(stmt)).first()

    async def users_by_attribute(self, name: str, value: str) -> list[User]:
        ids = select(t.user_attribute_index.c.user_id).where(
            t.user_attribute_index.c.name == name, t.user_attribute_index.c.value == value
        )
        return list(await self.session.scalars(select(User).where(t.users.c.id.in_(ids))))

    async def index_user_attributes(self, user: User) -> None:
        """Keep the attribute lookup table in step with `user.custom_attributes`."""
        await self.session.flush()
        await self.session.execute(
            delete(t.user_attribute_index).where(t.user_attribute_index.c.user_id == user.id)
        )
        if user.custom_attributes:
            await self.session.execute(
                insert(t.user_attribute_index),
                [
                    {"user_id": user.id, "name": name, "value": value}
                    for name, value in user.custom_attributes.items()
                ],
            )

    async def client_by_client_id(self, client_id: str) -> ClientApplication | None:
        stmt = select(ClientApplication).where(t.client_applications.c.client_id == client_id)
        return (await self.session.scalars(stmt)).first()

    async def client(self, client_app_id: int) -> ClientApplication | None:
        return await self.session.get(ClientApplication, client_app_id)

    async def attribute_definitions(
        self, entity: AttributeEntity
    ) -> dict[str, CustomAttributeDefinition]:
        stmt = select(CustomAttributeDefinition).where(
            t.custom_attribute_definitions.c.entity == entity
        )
        return {d.name: d for d in await self.session.scalars(stmt)}
