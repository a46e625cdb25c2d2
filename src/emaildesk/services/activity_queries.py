"""Read activities by id: who may see which, and everything a representation needs to show them.

One use case behind eGain v12 `GET /ws/v12/interaction/activity/{IDs}` and v3
`GET /core/casemgr/v3/activity/{ids}` (api-notes §1.6), so the visibility rule is written once.

Visibility — "one customer or department never sees another's data":
- a **customer** sees activities whose customer is themself or a customer they hold a grant on
  (api-notes §1.7, customer grants), and of those only emails they could have received as
  emails: inbound emails (the ones they sent), and outbound emails once their substatus is
  `sent` ("emails sent to them only after the application has actually sent them out", §1.6).
  Tasks are internal work of the contact center and never visible to customers [I];
- a **user** needs View:Activity (else 403-178) and sees the activities of the departments they
  belong to, home or foreign;
- a **client application** sees every activity; its scopes are checked by the route.

Ids that do not exist and ids the actor may not see are reported together, with one
404-101 naming them all: a caller cannot tell "not yours" from "not there". The id-count limit
(v12: ≤ 75) belongs to the route's id parser.

The result is a small read model, `ActivityView`: the activities in the order asked plus their
cases, departments, customers, users, issue types, queues and aliases keyed by id, loaded in a
fixed number of batched queries whatever the number of ids (never one query per activity).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from emaildesk.domain import errors
from emaildesk.domain.activities import Activity, ActivityType, Case, Mode, Substatus
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.customers import ContactPoint, Customer
from emaildesk.domain.directory import Department, EmailAlias, IssueType, Queue
from emaildesk.domain.users import Action, Resource, User
from emaildesk.services.ports import UnitOfWork

T = TypeVar("T")

USER_AUTHOR = ActorType.USER.value  # `created_by_type` / note `author_type` of a user


@dataclass(frozen=True)
class ActivityView:
    """Visible activities in the order asked, and what they refer to, keyed by id."""

    actor: Actor
    activities: list[Activity]
    cases: Mapping[int, Case] = field(default_factory=dict)
    departments: Mapping[int, Department] = field(default_factory=dict)
    customers: Mapping[int, Customer] = field(default_factory=dict)
    users: Mapping[int, User] = field(default_factory=dict)
    issue_types: Mapping[int, IssueType] = field(default_factory=dict)
    queues: Mapping[int, Queue] = field(default_factory=dict)
    aliases: Mapping[int, EmailAlias] = field(default_factory=dict)

    def case(self, case_id: int | None) -> Case | None:
        return self.cases.get(case_id) if case_id is not None else None

    def department(self, department_id: int | None) -> Department | None:
        return self.departments.get(department_id) if department_id is not None else None

    def customer(self, customer_id: int | None) -> Customer | None:
        return self.customers.get(customer_id) if customer_id is not None else None

    def user(self, user_id: int | None) -> User | None:
        return self.users.get(user_id) if user_id is not None else None

    def issue_type(self, issue_type_id: int | None) -> IssueType | None:
        return self.issue_types.get(issue_type_id) if issue_type_id is not None else None

    def queue(self, queue_id: int | None) -> Queue | None:
        return self.queues.get(queue_id) if queue_id is not None else None

    def alias(self, alias_id: int | None) -> EmailAlias | None:
        return self.aliases.get(alias_id) if alias_id is not None else None

    def contact_point(self, activity: Activity) -> ContactPoint | None:
        """The contact point the activity came through (eGain `contactPointData`)."""
        customer = self.customer(activity.customer_id)
        if customer is None or activity.contact_point_id is None:
            return None
        points = (p for c in customer.contacts for p in c.points)
        return next((p for p in points if p.id == activity.contact_point_id), None)


def customer_may_see(activity: Activity, customer_ids: frozenset[int]) -> bool:
    """A customer sees their own (or a grantor's) emails: the ones they sent, and the ones sent
    to them once they have actually gone out (api-notes §1.6). Tasks are never shown [I]."""
    if activity.customer_id not in customer_ids or activity.type is not ActivityType.EMAIL:
        return False
    return activity.mode is Mode.INBOUND or activity.substatus is Substatus.SENT


def visible_to(actor: Actor, activity: Activity, customer_ids: frozenset[int]) -> bool:
    """Whether `actor` may see `activity`; `customer_ids` are a customer actor's self and
    grantors (ignored for other actors)."""
    if actor.is_customer:
        return customer_may_see(activity, customer_ids)
    if actor.is_user:
        return activity.department_id in actor.department_ids
    return actor.is_client


async def get_activities(uow: UnitOfWork, actor: Actor, ids: Sequence[int]) -> ActivityView:
    """The activities `ids` as `actor` may see them, in the order asked (a repeated id once).

    Raises 403-178 for a user without View:Activity, and 404-101 naming every id that is
    missing or not visible to the actor.
    """
    actor.require_permission(Action.VIEW, Resource.ACTIVITY)
    wanted = list(dict.fromkeys(ids))
    customer_ids: frozenset[int] = frozenset()
    if actor.is_customer:
        customer_ids = frozenset([actor.id, *await uow.customers.grantors_of(actor.id)])
    found = await uow.activities.get_many(wanted) if wanted else []
    visible = [a for a in found if visible_to(actor, a, customer_ids)]
    shown = {a.id for a in visible}
    missing = [i for i in wanted if i not in shown]
    if missing:
        raise errors.IDS_NOT_FOUND(ids=",".join(str(i) for i in missing))
    return await _load_view(uow, actor, visible)


# --- the read model, batched: one query per kind of record, whatever the number of ids ---


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


E = TypeVar("E", bound=_HasId)


def _by_id(entities: Iterable[E]) -> dict[int, E]:
    return {e.id: e for e in entities if e.id is not None}


def _ids(values: Iterable[int | None]) -> set[int]:
    return {v for v in values if v is not None}


def _user_ids(activities: list[Activity]) -> set[int]:
    """Users an activity names: creator, last modifier, last worker, assignee, note authors."""
    ids: set[int | None] = set()
    for a in activities:
        ids.update((a.user_last_worked_id, a.assigned_user_id))
        if a.created_by_type == USER_AUTHOR:
            ids.add(a.created_by_id)
        if a.last_modified_by_type == USER_AUTHOR:
            ids.add(a.last_modified_by_id)
        ids.update(n.author_id for n in a.notes if n.author_type == USER_AUTHOR)
    return _ids(ids)


async def _load_view(uow: UnitOfWork, actor: Actor, activities: list[Activity]) -> ActivityView:
    if not activities:
        return ActivityView(actor, [])
    directory = uow.directory
    case_ids = _ids(a.case_id for a in activities)
    customer_ids = _ids(a.customer_id for a in activities)
    user_ids = _user_ids(activities)
    issue_type_ids = _ids(a.issue_type_id for a in activities)
    queue_ids = _ids(a.queue_id for a in activities)

    cases = await uow.cases.get_many(sorted(case_ids)) if case_ids else []
    customers = await uow.customers.get_many(sorted(customer_ids)) if customer_ids else []
    users = await directory.users_by_ids(sorted(user_ids)) if user_ids else []
    issue_types = await directory.issue_types() if issue_type_ids else []
    queues = await directory.queues() if queue_ids else []
    # Departments and aliases are site configuration: a handful of rows, read whole.
    departments = await directory.departments()
    aliases = await directory.aliases() if any(a.email for a in activities) else []
    return ActivityView(
        actor=actor,
        activities=activities,
        cases=_by_id(cases),
        departments=_by_id(departments),
        customers=_by_id(customers),
        users=_by_id(users),
        issue_types=_by_id(issue_types),
        queues=_by_id(queues),
        aliases=_by_id(aliases),
    )
