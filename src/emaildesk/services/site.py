"""Apply a site description: make the directory say what the site file says, idempotently.

Operators keep their site (settings, departments, users, aliases, ...) in a file and apply it as
often as they like. Each entry is found by its identity (a department by name, a user by login
id, an alias by address, a customer by email address), created when missing and updated only in
the fields the file states and that differ, so applying the same file twice changes nothing and
writes nothing. Nothing is ever deleted because the file leaves it out: removing an entry from the
file leaves the record alone (deactivate it with `active = false` instead).

Sections are applied in dependency order (settings and attribute definitions, then departments
and everything that names one, then users, customers and grants), so an entry may refer to a name
defined earlier in the same file or only in the database. An unknown name raises a domain error
whose `details["entry"]` is the entry's path in the file (`users[2].home_department`).

Passwords and client secrets arrive in plain text and are stored hashed; an existing hash is
replaced only when it does not verify the file's secret, so re-applying keeps it byte for byte.
Like every use case this never commits: the caller does, once (STYLE.md habit 2). When anything
was created or updated, one `SiteApplied` event records the counts for the audit trail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import fields
from functools import partial
from typing import Any, TypeVar

from emaildesk.domain import errors
from emaildesk.domain.addresses import normalize_address
from emaildesk.domain.custom_attributes import (
    AttributeEntity,
    CustomAttributeDefinition,
    validate_custom_attributes,
)
from emaildesk.domain.customers import (
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerGrant,
    check_new_grant,
    new_individual_customer,
    normalize_point,
)
from emaildesk.domain.directory import (
    Department,
    EmailAlias,
    IssueType,
    MessageCenter,
    PartitionSettings,
    Queue,
)
from emaildesk.domain.errors import DomainError
from emaildesk.domain.events import SITE_APPLIED, Event
from emaildesk.domain.users import ClientApplication, Role, User
from emaildesk.services.passwords import PasswordHasher
from emaildesk.services.ports import UnitOfWork
from emaildesk.services.site_spec import (
    AliasSpec,
    ClientApplicationSpec,
    CustomAttributeSpec,
    CustomerSpec,
    DepartmentSpec,
    GrantSpec,
    IssueTypeSpec,
    MessageCenterSpec,
    Outcome,
    QueueSpec,
    RoleSpec,
    SettingsSpec,
    SiteReport,
    SiteSpec,
    UserSpec,
)

# Keys of `DomainError.details` that place an apply-time error in the file.
ENTRY_DETAIL = "entry"  # the entry's path, e.g. "users[2].home_department"
PROBLEM_DETAIL = "problem"  # a plain description where no error template says it
# The site is a singleton: its events name aggregate 0 of type "site".
SITE_AGGREGATE_TYPE = "site"
SITE_AGGREGATE_ID = 0
SITE_ACTOR_TYPE = "system"

T = TypeVar("T")


async def apply_site(uow: UnitOfWork, spec: SiteSpec, hasher: PasswordHasher) -> SiteReport:
    """Create or update everything the spec describes; never deletes and never commits."""
    report = SiteReport()
    site = _SiteApplier(uow, hasher)
    if spec.settings is not None:
        report.record("settings", await site.settings(spec.settings))
    for attribute in spec.custom_attributes:
        report.record("custom_attributes", await site.attribute(attribute))
    for department in spec.departments:
        outcome, queue_outcome = await site.department(department)
        report.record("departments", outcome)
        report.record("queues", queue_outcome)
    steps: list[tuple[str, Sequence[Any], _Step]] = [
        ("queues", spec.queues, site.queue),
        ("roles", spec.roles, site.role),
        ("issue_types", spec.issue_types, site.issue_type),
        ("message_centers", spec.message_centers, site.message_center),
        ("aliases", spec.aliases, site.alias),
        ("users", spec.users, site.user),
        ("client_applications", spec.client_applications, site.client_application),
        ("customers", spec.customers, site.customer),
        ("grants", spec.grants, site.grant),
    ]
    for section, entries, step in steps:
        for index, entry in enumerate(entries):
            report.record(section, await step(entry, f"{section}[{index}]"))
    if spec.analytics is not None:
        # Imported here: services/analytics_site.py builds on this module's entry details.
        from emaildesk.services.analytics_site import apply_analytics

        await apply_analytics(uow, spec.analytics, report, site.department_id)
    if report.changed:
        await uow.events.append(
            Event(
                kind=SITE_APPLIED,
                aggregate_type=SITE_AGGREGATE_TYPE,
                aggregate_id=SITE_AGGREGATE_ID,
                payload=report.as_payload(),
                actor_type=SITE_ACTOR_TYPE,
            )
        )
    return report


_Step = Callable[[Any, str], Awaitable[Outcome]]


# --- helpers ----------------------------------------------------------------------------------


def _update(entity: object, desired: Mapping[str, object]) -> bool:
    """Set each stated (non-None) field that differs; say whether any did.

    Assigning only on difference matters: an untouched record issues no UPDATE at all."""
    changed = False
    for name, value in desired.items():
        if value is not None and getattr(entity, name) != value:
            setattr(entity, name, value)
            changed = True
    return changed


def _listed(values: Iterable[str] | None) -> list[str] | None:
    """Spec tuples become fresh lists (JSON columns notice reassignment, not mutation)."""
    return None if values is None else list(values)


def _id(value: int | None) -> int:
    """The id of a stored entity (every `add` flushes, so it is always set)."""
    if value is None:
        raise RuntimeError("entity was not flushed")
    return value


def _located(entry: str, error: DomainError) -> DomainError:
    error.details.setdefault(ENTRY_DETAIL, entry)
    return error


def _problem(entry: str, problem: str) -> DomainError:
    """A site-file problem no error template states by itself: the detail says it."""
    return errors.INVALID_ATTRIBUTE({ENTRY_DETAIL: entry, PROBLEM_DETAIL: problem}, attribute=entry)


def _unknown(entry: str, kind: str, name: str) -> DomainError:
    """An apply-time reference to a name neither the file nor the database defines."""
    if kind == "department":
        return errors.DEPARTMENT_NOT_FOUND({ENTRY_DETAIL: entry}, department=name)
    return _problem(entry, f"unknown {kind} '{name}'")


class _SiteApplier:
    """One method per section: find the entry by its identity, create or update it, and say
    which. Names resolve through the lookups the ports offer; departments are remembered."""

    def __init__(self, uow: UnitOfWork, hasher: PasswordHasher) -> None:
        self.uow = uow
        self.directory = uow.directory
        self.hasher = hasher
        self._departments: dict[str, Department] = {}
        self._definitions: dict[AttributeEntity, dict[str, CustomAttributeDefinition]] = {}
        self._settings: PartitionSettings | None = None
        # Customers of this file by (address, department): grants name them again, and holding
        # them keeps them in the session (whose identity map holds its objects only weakly).
        self._customers: dict[tuple[str, int | None], Customer] = {}

    async def _upsert(
        self, found: T | None, new: Callable[[], T], desired: Mapping[str, object]
    ) -> tuple[T, Outcome]:
        if found is not None:
            return found, Outcome.UPDATED if _update(found, desired) else Outcome.UNCHANGED
        entity = new()
        _update(entity, desired)
        return await self.directory.add(entity), Outcome.CREATED

    async def _new_hash(self, stored: str | None, secret: str | None) -> str | None:
        """A hash for the file's secret, or None to keep the stored one. Re-hash only when the
        stored hash does not verify: a fresh salt on every apply would turn an unchanged file
        into an update. Key derivation is slow on purpose, so it runs off the event loop."""
        if secret is None:
            return None
        if stored is not None and await asyncio.to_thread(self.hasher.verify, stored, secret):
            return None
        return await asyncio.to_thread(self.hasher.hash, secret)

    # -- name resolution

    async def department_id(self, name: str, entry: str) -> int:
        key = name.strip().casefold()  # department names match case-insensitively, as in eGain
        if key not in self._departments:
            found = await self.directory.department_by_name(name)
            if found is None:
                raise _unknown(entry, "department", name)
            self._departments[key] = found
        return _id(self._departments[key].id)

    async def department_ids(self, names: Iterable[str] | None, entry: str) -> list[int] | None:
        if names is None:
            return None
        return [await self.department_id(name, entry) for name in names]

    async def issue_type_ids(self, names: Iterable[str] | None, entry: str) -> list[int] | None:
        if names is None:
            return None
        ids = []
        for name in names:
            found = await self.directory.issue_type_by_name(name)
            if found is None:
                raise _unknown(entry, "issue type", name)
            ids.append(_id(found.id))
        return ids

    async def attributes(
        self, entity: AttributeEntity, values: Mapping[str, str] | None, entry: str
    ) -> dict[str, str] | None:
        if values is None:
            return None
        if entity not in self._definitions:
            self._definitions[entity] = await self.directory.attribute_definitions(entity)
        try:
            return validate_custom_attributes(values, self._definitions[entity])
        except DomainError as error:
            raise _located(entry, error) from None

    # -- the directory

    async def partition(self) -> PartitionSettings:
        if self._settings is None:
            self._settings = await self.directory.settings()
        return self._settings

    async def settings(self, spec: SettingsSpec) -> Outcome:
        current = await self.partition()
        # SettingsSpec names the PartitionSettings fields one for one.
        desired = {
            f.name: list(value) if isinstance(value := getattr(spec, f.name), tuple) else value
            for f in fields(spec)
        }
        # Without a settings row, `settings()` hands out unsaved defaults: store those.
        found = current if current.id is not None else None
        return (await self._upsert(found, lambda: current, desired))[1]

    async def attribute(self, spec: CustomAttributeSpec) -> Outcome:
        self._definitions.pop(spec.entity, None)
        found = (await self.directory.attribute_definitions(spec.entity)).get(spec.name)
        desired = {"type": spec.type, "enum_values": _listed(spec.values)}
        new = partial(CustomAttributeDefinition, spec.name, spec.entity)
        return (await self._upsert(found, new, desired))[1]

    async def department(self, spec: DepartmentSpec) -> tuple[Outcome, Outcome]:
        """The department and its own queue, named after it."""
        found = await self.directory.department_by_name(spec.name)
        desired = {"description": spec.description}
        department, outcome = await self._upsert(found, partial(Department, spec.name), desired)
        queue = await self.directory.queue_by_name(department.name)
        new_queue = partial(Queue, department.name, _id(department.id))
        return outcome, (await self._upsert(queue, new_queue, {}))[1]

    async def queue(self, spec: QueueSpec, entry: str) -> Outcome:
        department_id = await self.department_id(spec.department, f"{entry}.department")
        owner = await self.directory.department_by_name(spec.name)
        if owner is not None and owner.name == spec.name and owner.id != department_id:
            # Moving it would take a department's own queue away from it.
            raise _problem(
                f"{entry}.name", f"'{spec.name}' is the queue of department '{owner.name}'"
            )
        found = await self.directory.queue_by_name(spec.name)
        new = partial(Queue, spec.name, department_id)
        return (await self._upsert(found, new, {"department_id": department_id}))[1]

    async def role(self, spec: RoleSpec, entry: str) -> Outcome:
        found = await self.directory.role_by_name(spec.name)
        desired = {"permissions": _listed(spec.permissions)}
        return (await self._upsert(found, partial(Role, spec.name), desired))[1]

    async def issue_type(self, spec: IssueTypeSpec, entry: str) -> Outcome:
        found = await self.directory.issue_type_by_name(spec.name)
        desired = {"active": spec.active}
        return (await self._upsert(found, partial(IssueType, spec.name), desired))[1]

    async def message_center(self, spec: MessageCenterSpec, entry: str) -> Outcome:
        department_id = await self.department_id(spec.department, f"{entry}.department")
        issue_type_ids = await self.issue_type_ids(spec.issue_types, f"{entry}.issue_types")
        found = await self.directory.message_center_by_name(spec.name)
        new = partial(MessageCenter, spec.name, department_id)
        desired = {
            "department_id": department_id,
            "active": spec.active,
            "issue_type_ids": issue_type_ids,
        }
        return (await self._upsert(found, new, desired))[1]

    async def alias(self, spec: AliasSpec, entry: str) -> Outcome:
        department_id = await self.department_id(spec.department, f"{entry}.department")
        found = await self.directory.alias_by_address(spec.address)
        new = partial(EmailAlias, normalize_address(spec.address), department_id)
        desired = {
            "department_id": department_id,
            "display_name": spec.display_name,
            "active": spec.active,
        }
        return (await self._upsert(found, new, desired))[1]

    # -- users and client applications

    async def user(self, spec: UserSpec, entry: str) -> Outcome:
        for name in spec.roles or ():
            if await self.directory.role_by_name(name) is None:
                raise _unknown(f"{entry}.roles", "role", name)
        if spec.external_id is not None:
            holder = await self.directory.user_by_external_id(spec.external_id)
            if holder is not None and holder.login_id != spec.login_id:
                raise _problem(
                    f"{entry}.external_id",
                    f"'{spec.external_id}' is the external id of user '{holder.login_id}'",
                )
        home_id = await self.department_id(spec.home_department, f"{entry}.home_department")
        foreign_ids = await self.department_ids(
            spec.foreign_departments, f"{entry}.foreign_departments"
        )
        attributes = await self.attributes(
            AttributeEntity.USER, spec.custom_attributes, f"{entry}.custom_attributes"
        )
        found = await self.directory.user_by_login(spec.login_id)
        desired = {
            "home_department_id": home_id,
            "foreign_department_ids": foreign_ids,
            "first_name": spec.first_name,
            "last_name": spec.last_name,
            "email": spec.email,
            "external_id": spec.external_id,
            "role_names": _listed(spec.roles),
            "licenses": _listed(spec.licenses),
            "active": spec.active,
            "custom_attributes": attributes,
            "password_hash": await self._new_hash(
                found.password_hash if found else None, spec.password
            ),
        }
        user, outcome = await self._upsert(found, partial(User, spec.login_id, home_id), desired)
        if outcome is not Outcome.UNCHANGED:
            await self.directory.index_user_attributes(user)
        return outcome

    async def client_application(self, spec: ClientApplicationSpec, entry: str) -> Outcome:
        found = await self.directory.client_by_client_id(spec.client_id)
        desired = {
            "name": spec.name,
            "scopes": _listed(spec.scopes),
            "active": spec.active,
            "secret_hash": await self._new_hash(
                found.secret_hash if found else None, spec.client_secret
            ),
        }
        new = partial(ClientApplication, spec.name, spec.client_id)
        return (await self._upsert(found, new, desired))[1]

    # -- customers and grants

    async def customer_department(self, department: str | None, entry: str) -> int | None:
        """Customers belong to a department exactly when customer departmentalization is on."""
        if (await self.partition()).customer_departmentalization:
            if department is None:
                raise errors.REQUIRED_ATTRIBUTE({ENTRY_DETAIL: entry}, attribute=entry)
            return await self.department_id(department, entry)
        if department is not None:
            raise _problem(entry, "customer departmentalization is off: customers have none")
        return None

    async def email_point(self, email: str, department_id: int | None) -> ContactPoint | None:
        departmentalized = (await self.partition()).customer_departmentalization
        return await self.uow.customers.find_point(
            ContactPointKind.EMAIL,
            email,
            department_id=department_id,
            departmentalized=departmentalized,
        )

    async def customer(self, spec: CustomerSpec, entry: str) -> Outcome:
        department_id = await self.customer_department(spec.department, f"{entry}.department")
        custom = await self.attributes(AttributeEntity.CONTACT, spec.custom, f"{entry}.custom")
        wanted: list[tuple[ContactPointKind, str, str | None]] = [
            (ContactPointKind.EMAIL, spec.email, None),
            *((kind, value, None) for kind, value in spec.points.items()),
            *((ContactPointKind.CUSTOM, value, name) for name, value in (custom or {}).items()),
        ]
        found = await self.email_point(spec.email, department_id)
        if found is None:
            try:
                customer = new_individual_customer(
                    department_id, spec.first_name or "", spec.last_name or "", wanted
                )
            except DomainError as error:
                raise _located(entry, error) from None
            await self.uow.customers.add_customer(customer)
            self._customers[normalize_address(spec.email), department_id] = customer
            return Outcome.CREATED
        stored = await self.uow.customers.get(_id(found.customer_id))
        if stored is None:
            raise RuntimeError("a contact point without its customer")
        self._customers[normalize_address(spec.email), department_id] = stored
        contact = next(c for c in stored.contacts if c.id == found.contact_id)
        changed = _update(contact, {"first_name": spec.first_name, "last_name": spec.last_name})
        for kind, value, name in wanted:
            point = next((p for p in contact.points if p.kind is kind and p.name == name), None)
            if point is None:
                contact.points.append(
                    ContactPoint(
                        kind,
                        value,
                        name,
                        customer_id=stored.id,
                        department_id=stored.department_id,
                    )
                )
                changed = True
            else:
                desired = {"value": value, "normalized": normalize_point(kind, value)}
                changed = _update(point, desired) or changed
        return Outcome.UPDATED if changed else Outcome.UNCHANGED

    async def customer_by_email(
        self, email: str, department_id: int | None, entry: str
    ) -> Customer:
        customer = self._customers.get((normalize_address(email), department_id))
        if customer is None:
            point = await self.email_point(email, department_id)
            if point is not None:
                customer = await self.uow.customers.get(_id(point.customer_id))
        if customer is None:
            raise _unknown(entry, "customer", email)
        return customer

    async def grant(self, spec: GrantSpec, entry: str) -> Outcome:
        department_id = await self.customer_department(spec.department, f"{entry}.department")
        grantee = await self.customer_by_email(spec.grantee, department_id, f"{entry}.grantee")
        grantor = await self.customer_by_email(spec.grantor, department_id, f"{entry}.grantor")
        grantee_id, grantor_id = _id(grantee.id), _id(grantor.id)
        if await self.uow.customers.grant(grantee_id, grantor_id) is not None:
            return Outcome.UNCHANGED
        held, given = await self.uow.customers.grant_counts(grantee_id, grantor_id)
        try:
            check_new_grant(grantee, grantor, held, given)
        except DomainError as error:
            raise _located(entry, error) from None
        await self.uow.customers.add(CustomerGrant(grantee_id, grantor_id))
        return Outcome.CREATED
