"""Who is calling: one model for users, customers and client applications.

Every API authenticates differently (v12 sessions, v3 bearer tokens, GWS basic auth) but every
rule asks the same questions of the caller: what kind of actor, which permissions, departments,
scopes and licences. Answering them here keeps the permission rules in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from emaildesk.domain import errors
from emaildesk.domain.users import Action, Permission, Resource, Role, User


class ActorType(Enum):
    USER = "user"
    CUSTOMER = "customer"
    CLIENT_APPLICATION = "client_app"

    @property
    def plural(self) -> str:
        """How eGain names the actor kind in 403-112 ("customers are not allowed ...")."""
        return {
            ActorType.USER: "users",
            ActorType.CUSTOMER: "customers",
            ActorType.CLIENT_APPLICATION: "client applications",
        }[self]


@dataclass(frozen=True)
class Actor:
    type: ActorType
    id: int
    name: str = ""
    permissions: frozenset[Permission] = frozenset()
    department_ids: frozenset[int] = frozenset()
    scopes: frozenset[str] = frozenset()
    licensed: bool = False
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def for_user(cls, user: User, roles: list[Role], scopes: frozenset[str] = frozenset()) -> Actor:
        assert user.id is not None
        granted = {
            Permission.parse(p)
            for role in roles
            if role.name in user.role_names
            for p in role.permissions
        }
        return cls(
            ActorType.USER,
            user.id,
            user.login_id,
            frozenset(granted),
            user.department_ids,
            scopes,
            user.has_user_license(),
        )

    @classmethod
    def for_customer(cls, customer_id: int, scopes: frozenset[str] = frozenset()) -> Actor:
        return cls(ActorType.CUSTOMER, customer_id, scopes=scopes)

    @classmethod
    def for_client(cls, client_id: int, name: str, scopes: frozenset[str]) -> Actor:
        return cls(ActorType.CLIENT_APPLICATION, client_id, name, scopes=scopes)

    @property
    def is_user(self) -> bool:
        return self.type is ActorType.USER

    @property
    def is_customer(self) -> bool:
        return self.type is ActorType.CUSTOMER

    @property
    def is_client(self) -> bool:
        return self.type is ActorType.CLIENT_APPLICATION

    def can(self, action: Action, resource: Resource) -> bool:
        return Permission(action, resource) in self.permissions

    def require_type(self, *allowed: ActorType) -> None:
        """eGain 403-112: this URL is not for this kind of actor."""
        if self.type not in allowed:
            raise errors.ACTOR_NOT_ALLOWED(actor=self.type.plural)

    def require_permission(self, action: Action, resource: Resource) -> None:
        """eGain 403-178: users need the action on the resource through a role."""
        if self.is_user and not self.can(action, resource):
            raise errors.ACTION_NOT_ALLOWED(action=f"{action.value} {resource.value}")

    def require_license(self) -> None:
        if self.is_user and not self.licensed:
            raise errors.LICENSE_REQUIRED(user=self.name)

    def require_department(self, department_id: int, department_name: str) -> None:
        """A user works only in the home department or where they are a foreign user."""
        if self.is_user and department_id not in self.department_ids:
            raise errors.DEPARTMENT_NOT_ALLOWED(department=department_name)

    def require_transfer_to(self, target: User) -> None:
        """Transfer permission on a user: the Transfer:User action, and the target works in one
        of the actor's departments (our reading of eGain's per-user transfer permission)."""
        if not self.is_user or target.id == self.id:
            return
        if not self.can(Action.TRANSFER, Resource.USER) or not (
            target.department_ids & self.department_ids
        ):
            raise errors.TRANSFER_NOT_ALLOWED(user=target.login_id)

    def require_scope(self, *any_of: str) -> None:
        """eGain 403-197: the token must carry one of the scopes this URL needs."""
        if not self.scopes & set(any_of):
            raise errors.SCOPE_REQUIRED(scopes=" or ".join(any_of))
