"""Actor permission checks: one model answers every dialect's questions about the caller.

eGain 403-112 (actor type not allowed on the URL), 403-178 (user lacks the action), user
licence, department membership (home or foreign), transfer permission on a user (our reading:
Transfer:User plus a shared department), 403-197 (scopes).
"""

from __future__ import annotations

import pytest

from emaildesk.domain import errors
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.errors import DomainError
from emaildesk.domain.users import Action, Permission, Resource, Role, User

HOME, FOREIGN, ELSEWHERE = 1, 2, 3


def user(
    user_id: int = 10,
    *,
    home: int = HOME,
    foreign: list[int] | None = None,
    roles: list[str] | None = None,
    licenses: list[str] | None = None,
) -> User:
    return User(
        login_id=f"user{user_id}",
        home_department_id=home,
        foreign_department_ids=foreign or [],
        role_names=roles if roles is not None else ["agent"],
        licenses=licenses if licenses is not None else ["agent"],
        id=user_id,
    )


AGENT = Role("agent", ["Create:Activity", "View:Activity", "Edit:Activity"])
SUPERVISOR = Role("supervisor", ["View:Activity", "Transfer:User"])
ADMIN = Role("admin", ["Manage:Partition"])


# --- building actors ------------------------------------------------------------------------


def test_user_actor_gets_permissions_only_from_its_own_roles() -> None:
    actor = Actor.for_user(user(roles=["agent"]), [AGENT, SUPERVISOR])
    assert actor.type is ActorType.USER
    assert actor.id == 10
    assert actor.name == "user10"
    assert actor.permissions == {
        Permission(Action.CREATE, Resource.ACTIVITY),
        Permission(Action.VIEW, Resource.ACTIVITY),
        Permission(Action.EDIT, Resource.ACTIVITY),
    }
    assert not actor.can(Action.TRANSFER, Resource.USER)


def test_user_actor_unions_permissions_of_several_roles() -> None:
    actor = Actor.for_user(user(roles=["agent", "supervisor"]), [AGENT, SUPERVISOR])
    assert actor.can(Action.TRANSFER, Resource.USER)
    assert actor.can(Action.CREATE, Resource.ACTIVITY)


def test_user_actor_departments_are_home_and_foreign() -> None:
    actor = Actor.for_user(user(foreign=[FOREIGN]), [])
    assert actor.department_ids == {HOME, FOREIGN}


@pytest.mark.parametrize(
    ("licenses", "licensed"),
    [(["agent"], True), (["supervisor"], True), (["administrator"], True), ([], False)],
)
def test_user_actor_licence_comes_from_user_licences(licenses: list[str], licensed: bool) -> None:
    assert Actor.for_user(user(licenses=licenses), []).licensed is licensed


def test_unknown_licence_is_not_a_user_licence() -> None:
    assert not Actor.for_user(user(licenses=["reporting"]), []).licensed


def test_permission_parse_and_str_round_trip() -> None:
    permission = Permission.parse(" Transfer : User ")
    assert permission == Permission(Action.TRANSFER, Resource.USER)
    assert str(permission) == "Transfer:User"
    assert Role("r", ["Transfer:User"]).grants(permission)


def test_permission_parse_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="Fly"):
        Permission.parse("Fly:Activity")


# --- 403-112 actor type ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "plural"),
    [
        (Actor.for_customer(5), "customers"),
        (Actor.for_client(6, "crm", frozenset()), "client applications"),
        (Actor(ActorType.USER, 7), "users"),
    ],
)
def test_actor_type_not_allowed_is_403_112(actor: Actor, plural: str) -> None:
    others = [t for t in ActorType if t is not actor.type]
    with pytest.raises(DomainError) as caught:
        actor.require_type(*others)
    assert caught.value.code == "403-112"
    assert caught.value.params == {"actor": plural}
    actor.require_type(actor.type)


# --- 403-178 missing action -----------------------------------------------------------------


def test_user_missing_action_is_403_178() -> None:
    actor = Actor.for_user(user(roles=["agent"]), [AGENT])
    actor.require_permission(Action.CREATE, Resource.ACTIVITY)
    with pytest.raises(DomainError) as caught:
        actor.require_permission(Action.TRANSFER, Resource.USER)
    assert caught.value.code == "403-178"
    assert caught.value.params == {"action": "Transfer User"}


@pytest.mark.parametrize(
    "actor", [Actor.for_customer(5), Actor.for_client(6, "crm", frozenset())], ids=["c", "app"]
)
def test_role_permissions_apply_to_users_only(actor: Actor) -> None:
    """Customers and client applications are governed by actor type and scopes, not roles."""
    actor.require_permission(Action.MANAGE, Resource.PARTITION)


# --- licence --------------------------------------------------------------------------------


def test_user_without_licence_is_refused() -> None:
    actor = Actor.for_user(user(licenses=[]), [AGENT])
    with pytest.raises(DomainError) as caught:
        actor.require_license()
    assert caught.value.spec is errors.LICENSE_REQUIRED
    assert caught.value.params == {"user": "user10"}
    Actor.for_user(user(), [AGENT]).require_license()


def test_licence_applies_to_users_only() -> None:
    Actor.for_customer(5).require_license()
    Actor.for_client(6, "crm", frozenset()).require_license()


# --- department membership ------------------------------------------------------------------


def test_user_may_work_in_the_home_department() -> None:
    Actor.for_user(user(foreign=[FOREIGN]), []).require_department(HOME, "Service")


def test_user_may_work_in_a_foreign_department() -> None:
    Actor.for_user(user(foreign=[FOREIGN]), []).require_department(FOREIGN, "Sales")


def test_user_outside_a_department_is_refused() -> None:
    actor = Actor.for_user(user(foreign=[FOREIGN]), [])
    with pytest.raises(DomainError) as caught:
        actor.require_department(ELSEWHERE, "Billing")
    assert caught.value.spec is errors.DEPARTMENT_NOT_ALLOWED
    assert caught.value.params == {"department": "Billing"}


def test_department_membership_applies_to_users_only() -> None:
    Actor.for_customer(5).require_department(ELSEWHERE, "Billing")


# --- transfer permission on a user ----------------------------------------------------------


def test_transfer_to_user_requires_transfer_user_permission() -> None:
    target = user(20, home=HOME)
    without = Actor.for_user(user(roles=["agent"]), [AGENT, SUPERVISOR])
    with pytest.raises(DomainError) as caught:
        without.require_transfer_to(target)
    assert caught.value.spec is errors.TRANSFER_NOT_ALLOWED
    assert caught.value.params == {"user": "user20"}
    with_permission = Actor.for_user(user(roles=["supervisor"]), [AGENT, SUPERVISOR])
    with_permission.require_transfer_to(target)


def test_transfer_to_user_requires_a_shared_department() -> None:
    actor = Actor.for_user(user(roles=["supervisor"], foreign=[FOREIGN]), [SUPERVISOR])
    actor.require_transfer_to(user(20, home=FOREIGN))  # shared through the foreign department
    actor.require_transfer_to(user(21, home=ELSEWHERE, foreign=[HOME]))  # target is foreign here
    with pytest.raises(DomainError) as caught:
        actor.require_transfer_to(user(22, home=ELSEWHERE))
    assert caught.value.spec is errors.TRANSFER_NOT_ALLOWED


def test_transfer_to_oneself_needs_no_permission() -> None:
    me = user(10, roles=[])
    Actor.for_user(me, []).require_transfer_to(me)


def test_transfer_check_applies_to_users_only() -> None:
    Actor.for_client(6, "crm", frozenset()).require_transfer_to(user(22, home=ELSEWHERE))


# --- 403-197 scopes -------------------------------------------------------------------------


def test_scope_required_is_403_197() -> None:
    actor = Actor.for_client(6, "crm", frozenset({"app.core.casemgr.read"}))
    actor.require_scope("app.core.casemgr.read", "core.casemgr.read")
    with pytest.raises(DomainError) as caught:
        actor.require_scope("app.core.casemgr.manage")
    assert caught.value.code == "403-197"
    assert caught.value.params == {"scopes": "app.core.casemgr.manage"}


def test_actor_kind_predicates() -> None:
    assert Actor.for_customer(1).is_customer
    assert Actor.for_client(1, "c", frozenset()).is_client
    assert Actor(ActorType.USER, 1).is_user
