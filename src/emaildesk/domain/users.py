"""Users (agents, supervisors, administrators) and client applications, with what they may do.

eGain grants actions on resources through roles (e.g. Create on Activity), ties users to a home
department plus foreign departments, and requires a user licence for activity work; transferring
work to another user needs transfer permission on that user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Action(Enum):
    CREATE = "Create"
    VIEW = "View"
    EDIT = "Edit"
    DELETE = "Delete"
    TRANSFER = "Transfer"
    MANAGE = "Manage"


class Resource(Enum):
    ACTIVITY = "Activity"
    CASE = "Case"
    CUSTOMER = "Customer"
    USER = "User"
    PARTITION = "Partition"  # "Manage partition resources"


USER_LICENSES = frozenset({"agent", "supervisor", "administrator", "knowledge"})


@dataclass(frozen=True)
class Permission:
    action: Action
    resource: Resource

    @classmethod
    def parse(cls, text: str) -> Permission:
        """`Create:Activity` → Permission(CREATE, ACTIVITY); the site file uses this form."""
        action, _, resource = text.partition(":")
        return cls(Action(action.strip()), Resource(resource.strip()))

    def __str__(self) -> str:
        return f"{self.action.value}:{self.resource.value}"


@dataclass(eq=False)
class Role:
    name: str
    permissions: list[str] = field(default_factory=list)  # "Action:Resource" strings
    id: int | None = None

    def grants(self, permission: Permission) -> bool:
        return str(permission) in self.permissions


@dataclass(eq=False)
class User:
    login_id: str
    home_department_id: int
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    external_id: str | None = None
    password_hash: str = ""
    active: bool = True
    licenses: list[str] = field(default_factory=list)
    role_names: list[str] = field(default_factory=list)
    foreign_department_ids: list[int] = field(default_factory=list)
    custom_attributes: dict[str, str] = field(default_factory=dict)
    id: int | None = None

    @property
    def department_ids(self) -> frozenset[int]:
        return frozenset([self.home_department_id, *self.foreign_department_ids])

    def is_member_of(self, department_id: int) -> bool:
        """Home department, or a department where the user is a foreign user."""
        return department_id in self.department_ids

    def has_user_license(self) -> bool:
        return any(lic in USER_LICENSES for lic in self.licenses)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.login_id


class Scope(Enum):
    """OAuth scopes of the eGain case manager (api-notes §1.3), shortened to their last part."""

    CASEMGR_READ = "core.casemgr.read"
    CASEMGR_MANAGE = "core.casemgr.manage"
    APP_CASEMGR_READ = "app.core.casemgr.read"
    APP_CASEMGR_MANAGE = "app.core.casemgr.manage"


@dataclass(eq=False)
class ClientApplication:
    """A machine integrator: client-credentials grant, acts with application scopes."""

    name: str
    client_id: str
    secret_hash: str = ""
    scopes: list[str] = field(default_factory=list)
    active: bool = True
    id: int | None = None
