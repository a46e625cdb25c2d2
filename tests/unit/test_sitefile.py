"""The site file edge: TOML in, `SiteSpec` out, and every problem named by its place in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from emaildesk.domain import errors
from emaildesk.domain.custom_attributes import AttributeEntity, AttributeType
from emaildesk.domain.customers import ContactPointKind
from emaildesk.services.site import ENTRY_DETAIL, PROBLEM_DETAIL
from emaildesk.sitefile import SiteFileError, load_site_file, parse_site, site_error_from_domain

DEMO = Path(__file__).resolve().parents[2] / "src" / "emaildesk" / "demo" / "site.toml"

MINIMAL = """
[[departments]]
name = "Service"

[[users]]
login_id = "agent1"
home_department = "Service"
"""


def problems_of(text: str, *, self_contained: bool = False) -> list[str]:
    with pytest.raises(SiteFileError) as raised:
        parse_site(text, source="site.toml", self_contained=self_contained)
    return raised.value.problems


def test_the_demo_site_is_valid_and_self_contained() -> None:
    spec = load_site_file(DEMO, self_contained=True)

    assert [d.name for d in spec.departments] == ["Service", "Sales"]
    assert spec.settings is not None
    assert spec.settings.customer_departmentalization is False
    assert spec.settings.secure_messaging_enabled is True
    logins = {u.login_id: u for u in spec.users}
    assert set(logins) >= {"agent1", "agent2", "super1", "admin", "nolicense"}
    assert logins["nolicense"].licenses == ()
    assert logins["super1"].foreign_departments == ("Sales",)
    assert [a.client_id for a in spec.client_applications] == ["demo-integrator"]
    assert len(spec.grants) == 1
    assert any(a.active is False for a in spec.aliases)


def test_the_demo_site_documents_every_login_in_its_header() -> None:
    text = DEMO.read_text(encoding="utf-8")
    header = text[: text.index("[settings]")]
    spec = parse_site(text)
    for user in spec.users:
        assert user.password is not None
        assert f"{user.login_id} " in header and user.password in header
    for app in spec.client_applications:
        assert app.client_id in header and app.client_secret is not None
        assert app.client_secret in header


def test_keys_left_out_are_none_so_stored_values_are_kept() -> None:
    spec = parse_site(MINIMAL)

    user = spec.users[0]
    assert spec.settings is None
    assert (user.password, user.first_name, user.roles, user.active) == (None, None, None, None)
    assert spec.departments[0].description is None


def test_values_are_converted_to_domain_types() -> None:
    spec = parse_site(
        """
        [settings]
        blocked_file_types = [".EXE", "bat"]

        [[roles]]
        name = "agent"
        permissions = [" Create : Activity", "View:Activity"]

        [[custom_attributes]]
        name = "customer_rating"
        entity = "activity"
        type = "integer"
        values = ["1", "2"]

        [[customers]]
        email = " ann@example.com "
        mobile_phone = "+1 555 0100"
        custom = { tier = "gold" }
        """
    )

    assert spec.settings is not None and spec.settings.blocked_file_types == ("exe", "bat")
    assert spec.roles[0].permissions == ("Create:Activity", "View:Activity")
    attribute = spec.custom_attributes[0]
    assert (attribute.entity, attribute.type) == (AttributeEntity.ACTIVITY, AttributeType.INTEGER)
    customer = spec.customers[0]
    assert customer.email == "ann@example.com"
    assert customer.points == {ContactPointKind.MOBILE_PHONE: "+1 555 0100"}
    assert customer.custom == {"tier": "gold"}


def test_secrets_do_not_show_in_the_spec_repr() -> None:
    spec = parse_site(DEMO.read_text(encoding="utf-8"))

    assert "Agent1-demo" not in repr(spec)
    assert "Demo-integrator-secret" not in repr(spec)


def test_an_unknown_key_is_named_with_its_entry() -> None:
    assert problems_of(MINIMAL + 'nickname = "A"\n') == ["users[0].nickname: unknown key"]


def test_an_unknown_section_is_refused() -> None:
    assert problems_of("[[agents]]\nname = 'x'\n") == ["agents: unknown key"]


def test_a_missing_required_key_is_named() -> None:
    assert problems_of("[[users]]\nlogin_id = 'a'\n") == [
        "users[0].home_department: required key is missing"
    ]


def test_values_of_the_wrong_type_are_refused_not_coerced() -> None:
    problems = problems_of(MINIMAL + 'active = "yes"\n')

    assert problems == ["users[0].active: Input should be a valid boolean"]


def test_an_unknown_department_reference_is_an_error_in_a_self_contained_file() -> None:
    text = MINIMAL + '\n[[users]]\nlogin_id = "b"\nhome_department = "Sales"\n'

    assert problems_of(text, self_contained=True) == [
        "users[1].home_department: unknown department 'Sales'"
    ]
    # Otherwise the name may exist in the database: apply_site decides.
    assert parse_site(text).users[1].home_department == "Sales"


def test_department_references_match_case_insensitively() -> None:
    spec = parse_site(
        MINIMAL.replace('home_department = "Service"', 'home_department = "service"'),
        self_contained=True,
    )

    assert spec.users[0].home_department == "service"


def test_every_reference_kind_is_checked_in_a_self_contained_file() -> None:
    text = """
    [[departments]]
    name = "Service"

    [[queues]]
    name = "Escalations"
    department = "Support"

    [[message_centers]]
    name = "Portal"
    department = "Service"
    issue_types = ["Billing"]

    [[aliases]]
    address = "help@example.com"
    department = "Help"

    [[users]]
    login_id = "a"
    home_department = "Service"
    foreign_departments = ["Sales"]
    roles = ["agent"]
    custom_attributes = { employee_number = "1" }

    [[customers]]
    email = "ann@example.com"
    custom = { tier = "gold" }

    [[grants]]
    grantee = "ann@example.com"
    grantor = "bob@example.com"
    """

    assert problems_of(text, self_contained=True) == [
        "queues[0].department: unknown department 'Support'",
        "message_centers[0].issue_types: unknown issue type 'Billing'",
        "aliases[0].department: unknown department 'Help'",
        "users[0].foreign_departments: unknown department 'Sales'",
        "users[0].roles: unknown role 'agent'",
        "users[0].custom_attributes.employee_number: unknown custom attribute 'employee_number'",
        "customers[0].custom.tier: unknown custom attribute 'tier'",
        "grants[0].grantor: unknown customer 'bob@example.com'",
    ]


def test_a_bad_email_address_is_named() -> None:
    text = MINIMAL + '\n[[aliases]]\naddress = "support@example"\ndepartment = "Service"\n'

    assert problems_of(text) == [
        "aliases[0].address: 'support@example' is not a valid email address"
    ]


def test_a_bad_permission_string_is_named() -> None:
    problems = problems_of(
        '[[roles]]\nname = "agent"\npermissions = ["View:Activity", "Create:Activites"]\n'
    )

    assert len(problems) == 1
    assert problems[0].startswith(
        "roles[0].permissions[1]: 'Create:Activites' is not a permission: write Action:Resource"
    )


def test_unknown_licences_and_scopes_are_named() -> None:
    text = (
        MINIMAL
        + 'licenses = ["pilot"]\n'
        + '\n[[client_applications]]\nname = "i"\nclient_id = "i"\nscopes = ["everything"]\n'
    )

    problems = problems_of(text)

    assert [p.split(":")[0] for p in problems] == [
        "users[0].licenses[0]",
        "client_applications[0].scopes[0]",
    ]
    assert "'pilot' is not a licence" in problems[0]


def test_a_duplicate_login_id_names_both_entries() -> None:
    text = MINIMAL + '\n[[users]]\nlogin_id = "agent1"\nhome_department = "Service"\n'

    assert problems_of(text) == ["users[1].login_id: duplicate of users[0]"]


def test_duplicates_are_found_in_every_section() -> None:
    text = """
    [[departments]]
    name = "Service"
    [[departments]]
    name = "SERVICE"

    [[aliases]]
    address = "help@example.com"
    department = "Service"
    [[aliases]]
    address = "Help@Example.com"
    department = "Service"

    [[customers]]
    email = "ann@example.com"
    [[customers]]
    email = "ANN@example.com"

    [[custom_attributes]]
    name = "tier"
    entity = "contact"
    values = ["gold", "gold"]
    """

    assert problems_of(text) == [
        "departments[1].name: duplicate of departments[0]",
        "aliases[1].address: duplicate of aliases[0]",
        "customers[1].email: duplicate of customers[0]",
        "custom_attributes[0].values[1]: duplicate of custom_attributes[0].values[0]",
    ]


def test_all_problems_are_reported_at_once() -> None:
    text = '[[users]]\nlogin_id = ""\nhome_department = "S"\nemail = "x"\nshoe = 9\n'

    assert len(problems_of(text)) == 3


def test_a_home_department_cannot_also_be_foreign() -> None:
    text = MINIMAL + 'foreign_departments = ["service"]\n'

    assert problems_of(text) == ["users[0].foreign_departments: 'Service' is the home department"]


def test_a_customer_department_follows_the_departmentalization_setting() -> None:
    off = "[settings]\ncustomer_departmentalization = false\n" + MINIMAL
    on = "[settings]\ncustomer_departmentalization = true\n" + MINIMAL

    assert problems_of(
        off + '\n[[customers]]\nemail = "a@example.com"\ndepartment = "Service"\n'
    ) == [
        "customers[0].department: customer_departmentalization is off, so customers have no "
        "department"
    ]
    assert problems_of(on + '\n[[customers]]\nemail = "a@example.com"\n') == [
        "customers[0].department: required when customer_departmentalization is on"
    ]


def test_a_customer_cannot_grant_to_itself() -> None:
    text = '[[grants]]\ngrantee = "ann@example.com"\ngrantor = "ANN@example.com"\n'

    assert problems_of(text) == ["grants[0].grantor: a customer cannot grant to itself"]


def test_custom_attribute_values_are_checked_against_definitions_in_the_file() -> None:
    text = """
    [[departments]]
    name = "Service"

    [[custom_attributes]]
    name = "rating"
    entity = "activity"
    type = "integer"
    values = ["1", "two"]

    [[custom_attributes]]
    name = "grade"
    entity = "user"
    values = ["junior", "senior"]

    [[users]]
    login_id = "a"
    home_department = "Service"
    custom_attributes = { grade = "boss", note = "a+b" }
    """

    problems = problems_of(text)

    assert problems[0].startswith("custom_attributes[0].values[1]: Invalid value")
    assert problems[1] == (
        "users[0].custom_attributes.grade: "
        "The value of custom attribute 'grade' must be one of: [junior, senior]."
    )
    assert len(problems) == 2  # 'note' is not defined here: the database may define it


def test_a_queue_cannot_take_the_name_of_another_departments_queue() -> None:
    text = MINIMAL + '\n[[departments]]\nname = "Sales"\n\n[[queues]]\nname = "Sales"\n'
    text += 'department = "Service"\n'

    assert problems_of(text) == [
        "queues[0].name: 'Sales' is the queue every department gets automatically; "
        "it belongs to department 'Sales'"
    ]


def test_invalid_toml_reports_the_line() -> None:
    problems = problems_of('[[users]]\nlogin_id = "a\n')

    assert len(problems) == 1
    assert problems[0].startswith("not valid TOML:") and "line 2" in problems[0]


def test_an_unreadable_file_is_a_site_file_error(tmp_path: Path) -> None:
    with pytest.raises(SiteFileError) as raised:
        load_site_file(tmp_path / "missing.toml")

    assert raised.value.problems[0].startswith("cannot be read:")
    assert str(raised.value).startswith(f"{tmp_path / 'missing.toml'}: invalid site file")


def test_an_apply_time_domain_error_is_presented_at_its_entry() -> None:
    located = errors.DEPARTMENT_NOT_FOUND(
        {ENTRY_DETAIL: "users[2].home_department"}, department="Sales"
    )
    described = errors.INVALID_ATTRIBUTE(
        {ENTRY_DETAIL: "users[0].roles", PROBLEM_DETAIL: "unknown role 'boss'"},
        attribute="users[0].roles",
    )

    assert site_error_from_domain("site.toml", located).problems == [
        "users[2].home_department: Department 'Sales' does not exist. (400-2023)"
    ]
    assert site_error_from_domain("site.toml", described).problems == [
        "users[0].roles: unknown role 'boss' (400-152)"
    ]
