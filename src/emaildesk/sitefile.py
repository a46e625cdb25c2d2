"""The site file: a TOML description of a site, read, checked and turned into a `SiteSpec`.

This is an edge, like the HTTP API: it reads the file (`tomllib`), validates its shape with
pydantic (unknown keys are refused, so a typo never passes silently), checks what the file alone
can decide (duplicates, syntax of addresses and permissions, references between its own entries)
and hands the use case plain data. Every problem names its place in the file, e.g.
`users[2].home_department: unknown department 'Sales'` (entries count from 0, as in the file's
arrays of tables). The format is documented in docs/site-file.md and src/emaildesk/demo/site.toml.

A reference to a name the file does not define is accepted here, because it may exist in the
database; `apply_site` resolves it and raises a domain error naming the entry when it does not.
With `self_contained=True` (the bundled demo) every reference must be defined in the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PositiveInt, StringConstraints
from pydantic import ValidationError as PydanticValidationError

from emaildesk.domain.addresses import is_valid_email_address, normalize_address
from emaildesk.domain.custom_attributes import (
    AttributeEntity,
    AttributeType,
    CustomAttributeDefinition,
)
from emaildesk.domain.customers import ContactPointKind
from emaildesk.domain.errors import DomainError
from emaildesk.domain.users import USER_LICENSES, Action, Permission, Resource, Scope
from emaildesk.services.site import ENTRY_DETAIL, PROBLEM_DETAIL
from emaildesk.services.site_spec import (
    AliasSpec,
    ClientApplicationSpec,
    CustomAttributeSpec,
    CustomerSpec,
    DepartmentSpec,
    GrantSpec,
    IssueTypeSpec,
    MessageCenterSpec,
    QueueSpec,
    RoleSpec,
    SettingsSpec,
    SiteSpec,
    UserSpec,
)
from emaildesk.sitefile_analytics import AnalyticsModel, analytics_problems, analytics_spec

# Names and texts are stored in String(255) columns (db/tables.py).
MAX_NAME_LENGTH = 255
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH)
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_NAME_LENGTH)]
Secret = Annotated[str, StringConstraints(min_length=1)]
S = TypeVar("S")
# Which site-file key holds which contact point of a customer.
CONTACT_POINT_KEYS = {
    "home_phone": ContactPointKind.HOME_PHONE,
    "mobile_phone": ContactPointKind.MOBILE_PHONE,
    "office_phone": ContactPointKind.OFFICE_PHONE,
    "facebook_id": ContactPointKind.FACEBOOK,
    "twitter_id": ContactPointKind.TWITTER,
    "instagram_id": ContactPointKind.INSTAGRAM,
}


class SiteFileError(ValueError):
    """The file cannot be applied; `problems` lists each one as `path: what is wrong`."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join([f"{self.source}: invalid site file", *(f"  {p}" for p in self.problems)])


def load_site_file(path: Path, *, self_contained: bool = False) -> SiteSpec:
    """Read, validate and convert a site file; raise `SiteFileError` naming every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteFileError(str(path), [f"cannot be read: {exc}"]) from None
    return parse_site(text, source=str(path), self_contained=self_contained)


def parse_site(text: str, *, source: str = "<site>", self_contained: bool = False) -> SiteSpec:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SiteFileError(source, [f"not valid TOML: {exc}"]) from None
    try:
        site = SiteModel.model_validate(data)
    except PydanticValidationError as exc:
        raise SiteFileError(source, [_describe(error) for error in exc.errors()]) from None
    problems = _Checker(site, self_contained).problems()
    if problems:
        raise SiteFileError(source, problems)
    return _to_spec(site)


def site_error_from_domain(source: str, error: DomainError) -> SiteFileError:
    """Present an apply-time domain error like a file problem, at the entry that caused it."""
    what = error.details.get(PROBLEM_DETAIL) or error.english()
    entry = error.details.get(ENTRY_DETAIL)
    return SiteFileError(source, [f"{entry}: {what} ({error.code})" if entry else str(error)])


# --- the file's shape -------------------------------------------------------------------------


def _address(value: str) -> str:
    if not is_valid_email_address(value):
        raise ValueError(f"'{value}' is not a valid email address")
    return value


def _permission(text: str) -> str:
    """The canonical `Action:Resource` form (`Create : Activity` → `Create:Activity`)."""
    try:
        return str(Permission.parse(text))
    except ValueError:
        actions = ", ".join(a.value for a in Action)
        resources = ", ".join(r.value for r in Resource)
        raise ValueError(
            f"'{text}' is not a permission: write Action:Resource with an action of {actions} "
            f"and a resource of {resources}"
        ) from None


def _one_of(kind: str, known: Iterable[str]) -> Callable[[str], str]:
    allowed = sorted(known)

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"'{value}' is not a {kind}; known: {', '.join(allowed)}")
        return value

    return check


Email = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_address)]
PermissionText = Annotated[str, AfterValidator(_permission)]
License = Annotated[str, AfterValidator(_one_of("licence", USER_LICENSES))]
ScopeName = Annotated[str, AfterValidator(_one_of("scope", (s.value for s in Scope)))]
# Extensions are compared lower case and without the dot (`.EXE` → `exe`).
Extension = Annotated[Name, AfterValidator(lambda v: v.lower().lstrip("."))]


class _Entry(BaseModel):
    # strict: `active = "yes"` is an error, not a truthy string; extra keys are typos.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SettingsModel(_Entry):
    customer_departmentalization: bool | None = None
    secure_messaging_enabled: bool | None = None
    max_email_size_mb: PositiveInt | None = None
    max_body_size_kb: PositiveInt | None = None
    blocked_file_types: list[Extension] | None = None
    session_idle_minutes: PositiveInt | None = None
    task_subtypes: list[Name] | None = Field(default=None, min_length=1)


class DepartmentModel(_Entry):
    name: Name
    description: Annotated[str, StringConstraints(strip_whitespace=True)] | None = None


class QueueModel(_Entry):
    name: Name
    department: Name


class RoleModel(_Entry):
    name: Name
    permissions: list[PermissionText] | None = None


class UserModel(_Entry):
    login_id: Name
    password: Secret | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    email: Email | None = None
    external_id: Name | None = None
    home_department: Name
    foreign_departments: list[Name] | None = None
    roles: list[Name] | None = None
    licenses: list[License] | None = None
    active: bool | None = None
    custom_attributes: dict[Name, str] | None = None


class ClientApplicationModel(_Entry):
    name: Name
    client_id: Name
    client_secret: Secret | None = None
    scopes: list[ScopeName] | None = None
    active: bool | None = None


class CustomAttributeModel(_Entry):
    name: Name
    entity: Literal["activity", "contact", "user"]
    type: Literal["string", "integer", "boolean", "date"] | None = None
    values: list[Text] | None = Field(default=None, min_length=1)


class IssueTypeModel(_Entry):
    name: Name
    active: bool | None = None


class MessageCenterModel(_Entry):
    name: Name
    department: Name
    active: bool | None = None
    issue_types: list[Name] | None = None


class AliasModel(_Entry):
    address: Email
    department: Name
    display_name: Text | None = None
    active: bool | None = None


class CustomerModel(_Entry):
    email: Email
    first_name: Text | None = None
    last_name: Text | None = None
    department: Name | None = None
    home_phone: Name | None = None
    mobile_phone: Name | None = None
    office_phone: Name | None = None
    facebook_id: Name | None = None
    twitter_id: Name | None = None
    instagram_id: Name | None = None
    custom: dict[Name, str] = Field(default_factory=dict)


class GrantModel(_Entry):
    grantee: Email
    grantor: Email
    department: Name | None = None


class SiteModel(_Entry):
    settings: SettingsModel | None = None
    departments: list[DepartmentModel] = Field(default_factory=list)
    queues: list[QueueModel] = Field(default_factory=list)
    roles: list[RoleModel] = Field(default_factory=list)
    users: list[UserModel] = Field(default_factory=list)
    client_applications: list[ClientApplicationModel] = Field(default_factory=list)
    custom_attributes: list[CustomAttributeModel] = Field(default_factory=list)
    issue_types: list[IssueTypeModel] = Field(default_factory=list)
    message_centers: list[MessageCenterModel] = Field(default_factory=list)
    aliases: list[AliasModel] = Field(default_factory=list)
    customers: list[CustomerModel] = Field(default_factory=list)
    grants: list[GrantModel] = Field(default_factory=list)
    analytics: AnalyticsModel | None = None  # sitefile_analytics.py


def _path(loc: Iterable[int | str]) -> str:
    """('users', 2, 'home_department') → `users[2].home_department`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_MESSAGES = {"extra_forbidden": "unknown key", "missing": "required key is missing"}


def _describe(error: Mapping[str, Any]) -> str:
    if error["type"] == "value_error":  # our validators: their message is the whole story
        message = str(error["ctx"]["error"])
    else:
        message = _MESSAGES.get(error["type"], str(error["msg"]))
    return f"{_path(error['loc'])}: {message}"


# --- what the file alone can decide -----------------------------------------------------------


def _fold(name: str) -> str:
    return name.strip().casefold()


class _Checker:
    """Duplicates, self-contradictions and references between the file's own entries."""

    def __init__(self, site: SiteModel, self_contained: bool) -> None:
        self.site = site
        self.self_contained = self_contained
        self.found: list[str] = []
        self.departments = {_fold(d.name) for d in site.departments}
        self.known = {
            "department": self.departments,
            "role": {r.name for r in site.roles},
            "issue type": {i.name for i in site.issue_types},
        }
        self.definitions: dict[tuple[str, str], CustomAttributeDefinition] = {
            (a.entity, a.name): CustomAttributeDefinition(
                a.name,
                AttributeEntity(a.entity),
                AttributeType(a.type or "string"),
                list(a.values or []),
            )
            for a in site.custom_attributes
        }
        settings = site.settings
        # None: the file does not say, so the database decides at apply time.
        self.departmentalized = None if settings is None else settings.customer_departmentalization

    def problems(self) -> list[str]:
        self._unique_keys()
        self._attribute_definitions()
        for i, q in enumerate(self.site.queues):
            self._refer(f"queues[{i}].department", "department", [q.department])
        for i, m in enumerate(self.site.message_centers):
            self._refer(f"message_centers[{i}].department", "department", [m.department])
            self._refer(f"message_centers[{i}].issue_types", "issue type", m.issue_types or [])
        for i, a in enumerate(self.site.aliases):
            self._refer(f"aliases[{i}].department", "department", [a.department])
        self._users()
        self._customers()
        self._grants()
        self.found += analytics_problems(self.site.analytics, self.departments, self.self_contained)
        return self.found

    def _unique_keys(self) -> None:
        s = self.site
        self._unique("departments", "name", [_fold(d.name) for d in s.departments])
        self._unique("queues", "name", [q.name for q in s.queues])
        self._unique("roles", "name", [r.name for r in s.roles])
        self._unique("users", "login_id", [u.login_id for u in s.users])
        self._unique("users", "external_id", [u.external_id for u in s.users])
        self._unique(
            "client_applications", "client_id", [a.client_id for a in s.client_applications]
        )
        self._unique("client_applications", "name", [a.name for a in s.client_applications])
        self._unique(
            "custom_attributes", "name", [f"{a.entity}.{a.name}" for a in s.custom_attributes]
        )
        self._unique("issue_types", "name", [i.name for i in s.issue_types])
        self._unique("message_centers", "name", [m.name for m in s.message_centers])
        self._unique("aliases", "address", [normalize_address(a.address) for a in s.aliases])
        self._unique(
            "customers",
            "email",
            [f"{normalize_address(c.email)} {_fold(c.department or '')}" for c in s.customers],
        )
        self._unique(
            "grants",
            "grantor",
            [f"{normalize_address(g.grantee)} {normalize_address(g.grantor)}" for g in s.grants],
        )
        for i, q in enumerate(s.queues):
            if _fold(q.name) in self.departments and _fold(q.name) != _fold(q.department):
                self.found.append(
                    f"queues[{i}].name: '{q.name}' is the queue every department gets "
                    f"automatically; it belongs to department '{q.name}'"
                )

    def _unique(self, section: str, key: str, values: list[str | None]) -> None:
        key = f".{key}" if key else ""
        first: dict[str, int] = {}
        for i, value in enumerate(values):
            if value is None:
                continue
            if value in first:
                self.found.append(f"{section}[{i}]{key}: duplicate of {section}[{first[value]}]")
            else:
                first[value] = i

    def _attribute_definitions(self) -> None:
        for i, a in enumerate(self.site.custom_attributes):
            plain = CustomAttributeDefinition(
                a.name, AttributeEntity(a.entity), AttributeType(a.type or "string")
            )
            for j, value in enumerate(a.values or []):
                self._value(f"custom_attributes[{i}].values[{j}]", plain, value)
            self._unique(f"custom_attributes[{i}].values", "", list(a.values or []))

    def _value(self, path: str, definition: CustomAttributeDefinition, value: str) -> None:
        try:
            definition.check(value)
        except DomainError as error:
            self.found.append(f"{path}: {error.english()}")

    def _refer(self, path: str, kind: str, names: Iterable[str]) -> None:
        """A name defined in the file is fine; any other must exist in the database, which
        only a self-contained file rules out here."""
        for name in names:
            key = _fold(name) if kind == "department" else name  # as the repositories match
            if self.self_contained and key not in self.known[kind]:
                self.found.append(f"{path}: unknown {kind} '{name}'")

    def _attributes(self, path: str, entity: str, values: Mapping[str, str]) -> None:
        for name, value in values.items():
            definition = self.definitions.get((entity, name))
            if definition is not None:
                self._value(f"{path}.{name}", definition, value)
            elif self.self_contained:
                self.found.append(f"{path}.{name}: unknown custom attribute '{name}'")

    def _users(self) -> None:
        for i, u in enumerate(self.site.users):
            at = f"users[{i}]"
            self._refer(f"{at}.home_department", "department", [u.home_department])
            self._refer(f"{at}.foreign_departments", "department", u.foreign_departments or [])
            self._refer(f"{at}.roles", "role", u.roles or [])
            if _fold(u.home_department) in {_fold(d) for d in u.foreign_departments or []}:
                self.found.append(
                    f"{at}.foreign_departments: '{u.home_department}' is the home department"
                )
            self._attributes(f"{at}.custom_attributes", "user", u.custom_attributes or {})

    def _department_of_customer(self, path: str, department: str | None) -> None:
        if self.departmentalized is True and department is None:
            self.found.append(f"{path}: required when customer_departmentalization is on")
        elif self.departmentalized is False and department is not None:
            self.found.append(
                f"{path}: customer_departmentalization is off, so customers have no department"
            )
        if department is not None:
            self._refer(path, "department", [department])

    def _customers(self) -> None:
        for i, c in enumerate(self.site.customers):
            self._department_of_customer(f"customers[{i}].department", c.department)
            self._attributes(f"customers[{i}].custom", "contact", c.custom)

    def _grants(self) -> None:
        customers = {normalize_address(c.email) for c in self.site.customers}
        for i, g in enumerate(self.site.grants):
            self._department_of_customer(f"grants[{i}].department", g.department)
            if normalize_address(g.grantee) == normalize_address(g.grantor):
                self.found.append(f"grants[{i}].grantor: a customer cannot grant to itself")
            for key, email in (("grantee", g.grantee), ("grantor", g.grantor)):
                if self.self_contained and normalize_address(email) not in customers:
                    self.found.append(f"grants[{i}].{key}: unknown customer '{email}'")


# --- conversion ---------------------------------------------------------------------------------


def _spec(model: BaseModel, cls: Callable[..., S], **overrides: object) -> S:
    """Build the spec dataclass of the same field names; lists become tuples."""
    wanted = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    values = {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in model
        if name in wanted
    }
    return cls(**{**values, **overrides})


def _to_spec(site: SiteModel) -> SiteSpec:
    return SiteSpec(
        settings=None if site.settings is None else _spec(site.settings, SettingsSpec),
        departments=tuple(_spec(d, DepartmentSpec) for d in site.departments),
        queues=tuple(_spec(q, QueueSpec) for q in site.queues),
        roles=tuple(_spec(r, RoleSpec) for r in site.roles),
        users=tuple(_spec(u, UserSpec) for u in site.users),
        client_applications=tuple(
            _spec(a, ClientApplicationSpec) for a in site.client_applications
        ),
        custom_attributes=tuple(
            _spec(
                a,
                CustomAttributeSpec,
                entity=AttributeEntity(a.entity),
                type=None if a.type is None else AttributeType(a.type),
            )
            for a in site.custom_attributes
        ),
        issue_types=tuple(_spec(i, IssueTypeSpec) for i in site.issue_types),
        message_centers=tuple(_spec(m, MessageCenterSpec) for m in site.message_centers),
        aliases=tuple(_spec(a, AliasSpec) for a in site.aliases),
        customers=tuple(
            _spec(
                c,
                CustomerSpec,
                points={
                    kind: value
                    for key, kind in CONTACT_POINT_KEYS.items()
                    if (value := getattr(c, key)) is not None
                },
                custom=dict(c.custom),
            )
            for c in site.customers
        ),
        grants=tuple(_spec(g, GrantSpec) for g in site.grants),
        analytics=analytics_spec(site.analytics),
    )
