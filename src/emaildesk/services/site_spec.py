"""What a site file says, as plain immutable data, and what applying it did: the input and the
report of `apply_site`.

Why a module of its own: the file format is an edge (TOML read with `tomllib`, checked by pydantic
in `emaildesk.sitefile`), and services must not import pydantic (DESIGN.md); this is the contract
between the two. Cross references stay names (a department name, a role name, a customer's email
address): the use case resolves them against the database, because a name may exist only there.

`None` on an optional field means "the file does not say": an existing record keeps its value and
a new one gets the domain default. Nothing is ever deleted because the file leaves it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from emaildesk.domain.custom_attributes import AttributeEntity, AttributeType
from emaildesk.domain.customers import ContactPointKind
from emaildesk.services.analytics_site_spec import ANALYTICS_SECTIONS, AnalyticsSiteSpec


@dataclass(frozen=True)
class SettingsSpec:
    """`[settings]`: the partition settings (domain.directory.PartitionSettings)."""

    customer_departmentalization: bool | None = None
    secure_messaging_enabled: bool | None = None
    max_email_size_mb: int | None = None
    max_body_size_kb: int | None = None
    blocked_file_types: tuple[str, ...] | None = None
    session_idle_minutes: int | None = None
    task_subtypes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DepartmentSpec:
    """`[[departments]]`; each also gets a queue of the same name."""

    name: str
    description: str | None = None


@dataclass(frozen=True)
class QueueSpec:
    """`[[queues]]`: queues beyond the one every department gets."""

    name: str
    department: str


@dataclass(frozen=True)
class RoleSpec:
    """`[[roles]]`; permissions in their canonical `Action:Resource` form."""

    name: str
    permissions: tuple[str, ...] | None = None


@dataclass(frozen=True)
class UserSpec:
    """`[[users]]`, identified by login id; the password is plain text until applied."""

    login_id: str
    home_department: str
    password: str | None = field(default=None, repr=False)
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    external_id: str | None = None
    foreign_departments: tuple[str, ...] | None = None
    roles: tuple[str, ...] | None = None
    licenses: tuple[str, ...] | None = None
    active: bool | None = None
    custom_attributes: Mapping[str, str] | None = None


@dataclass(frozen=True)
class ClientApplicationSpec:
    """`[[client_applications]]`, identified by client id; the secret is hashed like a password."""

    name: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    scopes: tuple[str, ...] | None = None
    active: bool | None = None


@dataclass(frozen=True)
class CustomAttributeSpec:
    """`[[custom_attributes]]`, identified by entity and name; `values` makes it enumerated."""

    name: str
    entity: AttributeEntity
    type: AttributeType | None = None
    values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class IssueTypeSpec:
    name: str
    active: bool | None = None


@dataclass(frozen=True)
class MessageCenterSpec:
    name: str
    department: str
    active: bool | None = None
    issue_types: tuple[str, ...] | None = None


@dataclass(frozen=True)
class AliasSpec:
    """`[[aliases]]`, identified by the normalized address."""

    address: str
    department: str
    display_name: str | None = None
    active: bool | None = None


@dataclass(frozen=True)
class CustomerSpec:
    """`[[customers]]`, identified by email address (within `department` when customer
    departmentalization is on). `points` holds the other contact points by kind; `custom` the
    custom contact attributes by name."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    department: str | None = None
    points: Mapping[ContactPointKind, str] = field(default_factory=dict)
    custom: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GrantSpec:
    """`[[grants]]`: the grantee (by email) may act for the grantor (by email)."""

    grantee: str
    grantor: str
    department: str | None = None


@dataclass(frozen=True)
class SiteSpec:
    """A whole site file. Sections are applied in dependency order, not in this field order."""

    settings: SettingsSpec | None = None
    departments: tuple[DepartmentSpec, ...] = ()
    queues: tuple[QueueSpec, ...] = ()
    roles: tuple[RoleSpec, ...] = ()
    users: tuple[UserSpec, ...] = ()
    client_applications: tuple[ClientApplicationSpec, ...] = ()
    custom_attributes: tuple[CustomAttributeSpec, ...] = ()
    issue_types: tuple[IssueTypeSpec, ...] = ()
    message_centers: tuple[MessageCenterSpec, ...] = ()
    aliases: tuple[AliasSpec, ...] = ()
    customers: tuple[CustomerSpec, ...] = ()
    grants: tuple[GrantSpec, ...] = ()
    analytics: AnalyticsSiteSpec | None = None  # `[analytics]` (services/analytics_site_spec.py)


# Report sections, in the order they are applied (and printed).
SECTIONS = (
    "settings",
    "custom_attributes",
    "departments",
    "queues",
    "roles",
    "issue_types",
    "message_centers",
    "aliases",
    "users",
    "client_applications",
    "customers",
    "grants",
    *ANALYTICS_SECTIONS,
)


class Outcome(Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class SectionCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


@dataclass
class SiteReport:
    """What applying a site did, per section."""

    sections: dict[str, SectionCounts] = field(
        default_factory=lambda: {name: SectionCounts() for name in SECTIONS}
    )

    def record(self, section: str, outcome: Outcome) -> None:
        self.sections[section].add(outcome)

    @property
    def totals(self) -> SectionCounts:
        counts = SectionCounts()
        for section in self.sections.values():
            counts.created += section.created
            counts.updated += section.updated
            counts.unchanged += section.unchanged
        return counts

    @property
    def changed(self) -> bool:
        totals = self.totals
        return bool(totals.created or totals.updated)

    def as_payload(self) -> dict[str, dict[str, int]]:
        """The counts of every section the file touched (the `SiteApplied` event payload)."""
        return {
            name: {"created": c.created, "updated": c.updated, "unchanged": c.unchanged}
            for name, c in self.sections.items()
            if c.total
        }

    def summary(self) -> str:
        totals = self.totals
        lines = [
            f"site applied: {totals.created} created, {totals.updated} updated, "
            f"{totals.unchanged} unchanged"
        ]
        for name, c in self.sections.items():
            if c.total:
                lines.append(
                    f"  {name:<20} {c.created:>4} created {c.updated:>4} updated "
                    f"{c.unchanged:>4} unchanged"
                )
        return "\n".join(lines)
