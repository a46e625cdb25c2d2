"""Conformance: `POST /core/casemgr/v3/activity/task` (specs/egain-v3-task-activity.txt), over a
real socket on both databases. One test per rule, named after it; every refusal checks status,
eGain code and that nothing durable changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from egain_v3_support import (
    MARIA,
    SALES,
    SAM,
    TASK_URL,
    Refusals,
    Tokens,
    activity_url,
    customer_id,
    incoming_email,
    location_id,
    set_partition,
    user_id,
)

from emaildesk.db.database import Database
from emaildesk.domain.clock import format_iso
from emaildesk.domain.customers import ContactPointKind
from emaildesk.domain.users import Role, User
from emaildesk.services.passwords import Argon2PasswordHasher

BY_EMAIL = f"{TASK_URL}?searchContactOnAttribute=email.emailAddress"
NEW_ADDRESS = "nora.quinn@example.org"


def seed_sample(**changes: Any) -> dict[str, Any]:
    """The seed's request sample, as reconstructed in api-notes §1.5, for Maria."""
    body: dict[str, Any] = {
        "department": {"name": "Service"},
        "type": {"value": "task", "subtype": {"value": "general"}},
        "subject": "Follow up with customer",
        "customer": {"contacts": {"contact": [{"email": [{"emailAddress": MARIA}]}]}},
    }
    body.update(changes)
    return body


def assigned_to(**user: Any) -> dict[str, Any]:
    return {"assigned": {"user": user}}


def new_customer(**contact: Any) -> dict[str, Any]:
    fields = {"firstName": "Nora", "lastName": "Quinn", "email": [{"emailAddress": NEW_ADDRESS}]}
    fields.update(contact)
    return {"contacts": {"contact": [fields]}}


async def read_back(
    client: httpx.AsyncClient, headers: dict[str, str], activity_id: int
) -> dict[str, Any]:
    response = await client.get(
        activity_url(activity_id), params={"$attribute": "all"}, headers=headers
    )
    assert response.status_code == 200, response.text
    activity: dict[str, Any] = response.json()["activity"][0]
    return activity


async def assignee(database: Database, activity_id: int) -> int | None:
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
    assert activity is not None
    return activity.assigned_user_id


async def test_spec_sample_request_creates_the_task(
    client: httpx.AsyncClient, agent1: dict[str, str], demo_database: Database
) -> None:
    response = await client.post(BY_EMAIL, headers=agent1, json=seed_sample())
    new_id = location_id(response)
    assert response.content == b""
    created = await read_back(client, agent1, new_id)
    assert created["type"]["value"] == "task"
    assert created["type"]["subtype"]["value"] == "general"
    assert created["department"]["name"] == "Service"
    assert created["subject"] == "Follow up with customer"
    assert created["customer"]["id"] == await customer_id(demo_database, MARIA)
    assert created["priority"] == "5"
    # No target user named: "the server assigns the activity to the logged in user".
    assert await assignee(demo_database, new_id) == await user_id(demo_database, "agent1")


async def test_xml_body_creates_the_task(client: httpx.AsyncClient, agent1: dict[str, str]) -> None:
    xml = f"""<activity xmlns="http://bindings.egain.com/ws/model/v12/gen/interaction/activity">
  <department><name>Service</name></department>
  <type><value>task</value><subtype><value>callback</value></subtype></type>
  <subject>Call back</subject>
  <priority>2</priority>
  <payload><task><content><type>text</type><value>Asked for a call.</value></content></task>
  </payload>
  <customer><contacts><contact><email><emailAddress>{MARIA}</emailAddress></email></contact>
  </contacts></customer>
</activity>"""
    response = await client.post(
        BY_EMAIL, content=xml.encode(), headers={**agent1, "Content-Type": "application/xml"}
    )
    created = await read_back(client, agent1, location_id(response))
    assert created["type"]["subtype"]["value"] == "callback"
    assert created["priority"] == "2"
    assert created["payload"]["task"]["content"] == [{"type": "text", "value": "Asked for a call."}]


async def test_customer_tokens_are_refused(refused: Refusals, maria: dict[str, str]) -> None:
    body = await refused("POST", BY_EMAIL, 403, "403-112", headers=maria, json=seed_sample())
    assert body["developerMessage"] == (
        "Unauthorized URL access: customers are not allowed to access this URL."
    )


async def test_client_application_needs_the_manage_scope(refused: Refusals, tokens: Tokens) -> None:
    read_only = await tokens.integrator(scope="app.core.casemgr.read")
    body = await refused("POST", BY_EMAIL, 403, "403-197", headers=read_only, json=seed_sample())
    assert "app.core.casemgr.manage" in body["developerMessage"]


async def test_user_needs_the_manage_scope(refused: Refusals, tokens: Tokens) -> None:
    read_only = await tokens.user("agent1", scope="core.casemgr.read")
    await refused("POST", BY_EMAIL, 403, "403-197", headers=read_only, json=seed_sample())


async def test_search_contact_on_attribute_is_required(
    refused: Refusals, agent1: dict[str, str]
) -> None:
    body = await refused("POST", TASK_URL, 400, "400-112", headers=agent1, json=seed_sample())
    assert "'searchContactOnAttribute'" in body["developerMessage"]


async def test_search_contact_on_attribute_takes_a_documented_value(
    refused: Refusals, agent1: dict[str, str]
) -> None:
    url = f"{TASK_URL}?searchContactOnAttribute=email"
    await refused("POST", url, 400, "400-102", headers=agent1, json=seed_sample())


async def test_unsupported_query_parameter_is_named(
    refused: Refusals, agent1: dict[str, str]
) -> None:
    body = await refused(
        "POST", f"{BY_EMAIL}&department=Service", 400, "400-101", headers=agent1, json=seed_sample()
    )
    assert "'department'" in body["developerMessage"]


async def test_searched_attribute_must_be_in_the_customer_representation(
    refused: Refusals, agent1: dict[str, str]
) -> None:
    url = f"{TASK_URL}?searchContactOnAttribute=mobile.phone"
    body = await refused("POST", url, 400, "400-2001", headers=agent1, json=seed_sample())
    assert "mobile.phone" in body["developerMessage"]


async def test_customer_is_found_on_the_searched_attribute(
    client: httpx.AsyncClient, agent1: dict[str, str], demo_database: Database
) -> None:
    customer = {
        "contacts": {"contact": [{"phone": [{"phoneNumber": "+1 555 0100", "type": "mobile"}]}]}
    }
    url = f"{TASK_URL}?searchContactOnAttribute=mobile.phone"
    response = await client.post(url, headers=agent1, json=seed_sample(customer=customer))
    created = await read_back(client, agent1, location_id(response))
    assert created["customer"]["id"] == await customer_id(demo_database, MARIA)


async def test_customer_is_found_on_a_custom_contact_attribute(
    client: httpx.AsyncClient, agent1: dict[str, str], demo_database: Database
) -> None:
    attribute = {
        "customAttribute": [
            {"attribName": "loyalty_tier", "attribValues": {"attribValue": [{"value": "silver"}]}}
        ]
    }
    customer = {"contacts": {"contact": [{"customAttributes": attribute}]}}
    url = f"{TASK_URL}?searchContactOnAttribute=custom.loyalty_tier"
    response = await client.post(url, headers=agent1, json=seed_sample(customer=customer))
    created = await read_back(client, agent1, location_id(response))
    assert created["customer"]["id"] == await customer_id(demo_database, SAM)


async def test_found_customer_ignores_the_rest_of_the_representation(
    client: httpx.AsyncClient, agent1: dict[str, str], demo_database: Database
) -> None:
    customer = new_customer(email=[{"emailAddress": MARIA}], firstName="Someone", lastName="Else")
    customer["contacts"]["contact"][0]["social"] = [{"twitterId": "maria_l"}]
    response = await client.post(BY_EMAIL, headers=agent1, json=seed_sample(customer=customer))
    location_id(response)
    async with demo_database.uow() as uow:
        stored = await uow.customers.get(await customer_id(demo_database, MARIA))
    assert stored is not None
    contact = stored.contacts[0]
    assert (contact.first_name, contact.last_name) == ("Maria", "Lopez")
    assert ContactPointKind.TWITTER not in {p.kind for p in contact.points}


async def test_customer_not_found_without_create_customer_is_refused(
    refused: Refusals, agent1: dict[str, str]
) -> None:
    await refused(
        "POST", BY_EMAIL, 400, "400-2024", headers=agent1, json=seed_sample(customer=new_customer())
    )


async def test_create_customer_yes_creates_an_individual_customer(
    client: httpx.AsyncClient, agent1: dict[str, str], demo_database: Database
) -> None:
    customer = new_customer(phone=[{"phoneNumber": "+1 555 0199", "type": "home"}])
    response = await client.post(
        f"{BY_EMAIL}&createCustomer=yes", headers=agent1, json=seed_sample(customer=customer)
    )
    created = await read_back(client, agent1, location_id(response))
    new_id = await customer_id(demo_database, NEW_ADDRESS)
    assert created["customer"]["id"] == new_id
    async with demo_database.uow() as uow:
        stored = await uow.customers.get(new_id)
    assert stored is not None
    contact = stored.contacts[0]
    assert (contact.first_name, contact.last_name) == ("Nora", "Quinn")
    assert {(p.kind, p.value) for p in contact.points} == {
        (ContactPointKind.EMAIL, NEW_ADDRESS),
        (ContactPointKind.HOME_PHONE, "+1 555 0199"),
    }
    # Customer departmentalization is off on the demo site: the customer is shared.
    assert stored.department_id is None


async def test_new_customer_is_created_in_the_activitys_department_when_departmentalized(
    client: httpx.AsyncClient, agent1: dict[str, str], demo_database: Database
) -> None:
    async with demo_database.uow() as uow:
        settings = await uow.directory.settings()
        settings.customer_departmentalization = True
        service = await uow.directory.department_by_name("Service")
        await uow.commit()
    assert service is not None
    response = await client.post(
        f"{BY_EMAIL}&createCustomer=yes", headers=agent1, json=seed_sample(customer=new_customer())
    )
    location_id(response)
    async with demo_database.uow() as uow:
        stored = await uow.customers.get(await customer_id(demo_database, NEW_ADDRESS))
    assert stored is not None
    assert stored.department_id == service.id


async def test_create_customer_takes_only_yes(refused: Refusals, agent1: dict[str, str]) -> None:
    await refused(
        "POST",
        f"{BY_EMAIL}&createCustomer=true",
        400,
        "400-102",
        headers=agent1,
        json=seed_sample(customer=new_customer()),
    )


async def test_new_customer_has_at_most_one_contact_point_per_kind(
    refused: Refusals, agent1: dict[str, str]
) -> None:
    phones = [
        {"phoneNumber": "+1 555 0101", "type": "office"},
        {"phoneNumber": "+1 555 0102", "type": "office"},
    ]
    await refused(
        "POST",
        f"{BY_EMAIL}&createCustomer=yes",
        400,
        "400-2018",
        headers=agent1,
        json=seed_sample(customer=new_customer(phone=phones)),
    )


async def test_phone_type_is_home_mobile_or_office(
    refused: Refusals, agent1: dict[str, str]
) -> None:
    phones = [{"phoneNumber": "+1 555 0101", "type": "fax"}]
    await refused(
        "POST",
        f"{BY_EMAIL}&createCustomer=yes",
        400,
        "400-196",
        headers=agent1,
        json=seed_sample(customer=new_customer(phone=phones)),
    )


async def test_activity_contact_links_the_task_to_that_contact_point(
    client: httpx.AsyncClient, agent1: dict[str, str]
) -> None:
    response = await client.post(
        f"{BY_EMAIL}&activityContact=email.emailAddress", headers=agent1, json=seed_sample()
    )
    created = await read_back(client, agent1, location_id(response))
    assert created["contactPointData"] == MARIA


async def test_without_activity_contact_the_task_has_no_contact_point(
    client: httpx.AsyncClient, agent1: dict[str, str], demo_database: Database
) -> None:
    response = await client.post(BY_EMAIL, headers=agent1, json=seed_sample())
    async with demo_database.uow() as uow:
        stored = await uow.activities.get(location_id(response))
    assert stored is not None
    assert stored.contact_point_id is None
    assert stored.contact_id is not None


async def test_activity_contact_takes_a_documented_value(
    refused: Refusals, agent1: dict[str, str]
) -> None:
    await refused(
        "POST",
        f"{BY_EMAIL}&activityContact=mobile.phone",
        400,
        "400-102",
        headers=agent1,
        json=seed_sample(),
    )


async def test_type_value_must_be_task(refused: Refusals, agent1: dict[str, str]) -> None:
    body = seed_sample(type={"value": "email", "subtype": {"value": "general"}})
    await refused("POST", BY_EMAIL, 400, "400-196", headers=agent1, json=body)


async def test_task_subtype_must_be_configured(refused: Refusals, agent1: dict[str, str]) -> None:
    body = seed_sample(type={"value": "task", "subtype": {"value": "meeting"}})
    result = await refused("POST", BY_EMAIL, 400, "400-196", headers=agent1, json=body)
    assert "general, callback" in result["developerMessage"]


async def test_department_name_is_required(refused: Refusals, agent1: dict[str, str]) -> None:
    body = seed_sample()
    del body["department"]
    result = await refused("POST", BY_EMAIL, 400, "400-2001", headers=agent1, json=body)
    assert "department.name" in result["developerMessage"]


async def test_department_must_exist(refused: Refusals, agent1: dict[str, str]) -> None:
    body = seed_sample(department={"name": "Marketing"})
    await refused("POST", BY_EMAIL, 400, "400-2023", headers=agent1, json=body)


async def test_subject_or_content_is_required(refused: Refusals, agent1: dict[str, str]) -> None:
    body = seed_sample()
    del body["subject"]
    await refused("POST", BY_EMAIL, 400, "400-2002", headers=agent1, json=body)


async def test_content_alone_is_enough(client: httpx.AsyncClient, agent1: dict[str, str]) -> None:
    body = seed_sample(payload={"task": {"content": [{"type": "html", "value": "<p>Call</p>"}]}})
    del body["subject"]
    response = await client.post(BY_EMAIL, headers=agent1, json=body)
    created = await read_back(client, agent1, location_id(response))
    assert created["payload"]["task"]["content"] == [{"type": "html", "value": "<p>Call</p>"}]


async def test_subject_is_at_most_255_characters(refused: Refusals, agent1: dict[str, str]) -> None:
    body = seed_sample(subject="s" * 256)
    await refused("POST", BY_EMAIL, 400, "400-2003", headers=agent1, json=body)


async def test_priority_is_1_to_7(
    client: httpx.AsyncClient, refused: Refusals, agent1: dict[str, str]
) -> None:
    for bad in ("0", "8", "high"):
        await refused(
            "POST", BY_EMAIL, 400, "400-196", headers=agent1, json=seed_sample(priority=bad)
        )
    response = await client.post(BY_EMAIL, headers=agent1, json=seed_sample(priority=7))
    assert (await read_back(client, agent1, location_id(response)))["priority"] == "7"


async def test_due_date_must_be_in_the_future(
    client: httpx.AsyncClient, refused: Refusals, agent1: dict[str, str]
) -> None:
    past = format_iso(datetime.now(UTC) - timedelta(minutes=1))
    await refused("POST", BY_EMAIL, 400, "400-2019", headers=agent1, json=seed_sample(dueDate=past))
    future = format_iso(datetime.now(UTC) + timedelta(days=2))
    response = await client.post(BY_EMAIL, headers=agent1, json=seed_sample(dueDate=future))
    assert (await read_back(client, agent1, location_id(response)))["dueDate"] == future


async def test_due_date_must_be_an_egain_date(refused: Refusals, agent1: dict[str, str]) -> None:
    body = seed_sample(dueDate="2030-01-15 09:00")
    await refused("POST", BY_EMAIL, 400, "400-2030", headers=agent1, json=body)


async def test_user_must_work_in_the_activitys_department(
    refused: Refusals, agent1: dict[str, str]
) -> None:
    body = seed_sample(department={"name": "Sales"})
    await refused("POST", BY_EMAIL, 403, "403-2004", headers=agent1, json=body)


async def test_foreign_user_may_create_in_the_foreign_department(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    super1 = await tokens.user("super1")
    response = await client.post(
        BY_EMAIL, headers=super1, json=seed_sample(department={"name": "Sales"})
    )
    created = await read_back(client, super1, location_id(response))
    assert created["department"]["name"] == "Sales"


async def test_user_must_have_a_user_license(refused: Refusals, tokens: Tokens) -> None:
    nolicense = await tokens.user("nolicense")
    await refused("POST", BY_EMAIL, 403, "403-2002", headers=nolicense, json=seed_sample())


async def test_assigning_to_another_user_needs_transfer_permission(
    refused: Refusals, agent1: dict[str, str]
) -> None:
    body = seed_sample(status=assigned_to(loginId="super1"))
    await refused("POST", BY_EMAIL, 403, "403-2003", headers=agent1, json=body)


async def test_target_user_must_have_a_user_license(refused: Refusals, tokens: Tokens) -> None:
    super1 = await tokens.user("super1")
    body = seed_sample(status=assigned_to(loginId="nolicense"))
    await refused("POST", BY_EMAIL, 403, "403-2002", headers=super1, json=body)


async def test_client_application_must_name_the_target_user(
    refused: Refusals, integrator: dict[str, str]
) -> None:
    await refused("POST", BY_EMAIL, 400, "400-2027", headers=integrator, json=seed_sample())


async def test_target_user_by_id_login_id_external_id_or_custom_attributes(
    client: httpx.AsyncClient, integrator: dict[str, str], demo_database: Database
) -> None:
    agent1_id = await user_id(demo_database, "agent1")
    super1_id = await user_id(demo_database, "super1")
    employee = {
        "customAttribute": [
            {
                "attribName": "employee_number",
                "attribValues": {"attribValue": [{"value": "E-1002"}]},
            }
        ]
    }
    cases = [
        (assigned_to(id=str(agent1_id)), agent1_id),
        (assigned_to(loginId="agent1"), agent1_id),
        (assigned_to(externalId="hr-2001"), super1_id),
        (assigned_to(customAttributes=employee), await user_id(demo_database, "agent2")),
    ]
    for status, expected in cases:
        response = await client.post(BY_EMAIL, headers=integrator, json=seed_sample(status=status))
        assert await assignee(demo_database, location_id(response)) == expected


async def test_only_one_target_user_attribute_may_be_given(
    refused: Refusals, integrator: dict[str, str]
) -> None:
    body = seed_sample(status=assigned_to(loginId="agent1", externalId="hr-2001"))
    await refused("POST", BY_EMAIL, 400, "400-2026", headers=integrator, json=body)


async def test_target_user_must_exist(refused: Refusals, integrator: dict[str, str]) -> None:
    for status in (assigned_to(loginId="nobody"), assigned_to(id="999999")):
        body = seed_sample(status=status)
        await refused("POST", BY_EMAIL, 400, "400-2028", headers=integrator, json=body)


async def test_case_id_associates_the_task_with_an_existing_case(
    client: httpx.AsyncClient, agent1: dict[str, str]
) -> None:
    first = await read_back(
        client, agent1, location_id(await client.post(BY_EMAIL, headers=agent1, json=seed_sample()))
    )
    case = {"id": str(first["case"]["id"])}
    second_id = location_id(
        await client.post(BY_EMAIL, headers=agent1, json=seed_sample(case=case))
    )
    assert (await read_back(client, agent1, second_id))["case"]["id"] == first["case"]["id"]


async def test_case_must_exist(refused: Refusals, agent1: dict[str, str]) -> None:
    body = seed_sample(case={"id": "999999"})
    await refused("POST", BY_EMAIL, 400, "400-2007", headers=agent1, json=body)


async def test_custom_attributes_must_match_the_configuration(
    refused: Refusals, agent1: dict[str, str]
) -> None:
    unknown = {
        "customAttribute": [
            {"attribName": "mood", "attribValues": {"attribValue": [{"value": "happy"}]}}
        ]
    }
    await refused(
        "POST",
        BY_EMAIL,
        400,
        "400-2012",
        headers=agent1,
        json=seed_sample(customAttributes=unknown),
    )


@pytest.mark.parametrize("media_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_text_plain_and_form_bodies_carry_the_document(
    client: httpx.AsyncClient, agent1: dict[str, str], media_type: str
) -> None:
    document = json.dumps(seed_sample(subject=f"via {media_type}"))
    if media_type == "text/plain":
        response = await client.post(
            BY_EMAIL, content=document.encode(), headers={**agent1, "Content-Type": media_type}
        )
    else:
        response = await client.post(BY_EMAIL, data={"data": document}, headers=agent1)
    created = await read_back(client, agent1, location_id(response))
    assert created["subject"] == f"via {media_type}"


async def test_activity_contact_attribute_must_be_in_the_customer_representation(
    refused: Refusals, agent1: dict[str, str]
) -> None:
    body = await refused(
        "POST",
        f"{BY_EMAIL}&activityContact=office.phone",
        400,
        "400-2001",
        headers=agent1,
        json=seed_sample(),
    )
    assert "office.phone" in body["developerMessage"]


async def test_customer_is_searched_in_the_activitys_department_when_departmentalized(
    client: httpx.AsyncClient,
    refused: Refusals,
    agent1: dict[str, str],
    demo_database: Database,
    blob_dir: Path,
) -> None:
    await set_partition(demo_database, customer_departmentalization=True)
    dora = "dora.diaz@example.org"
    await incoming_email(demo_database, blob_dir, dora, receiver=SALES)  # Dora of Sales
    customer = {"contacts": {"contact": [{"email": [{"emailAddress": dora}]}]}}
    await refused(
        "POST", BY_EMAIL, 400, "400-2024", headers=agent1, json=seed_sample(customer=customer)
    )
    response = await client.post(
        f"{BY_EMAIL}&createCustomer=yes", headers=agent1, json=seed_sample(customer=customer)
    )
    async with demo_database.uow() as uow:
        task = await uow.activities.get(location_id(response))
        service = await uow.directory.department_by_name("Service")
        assert task is not None and task.customer_id is not None and service is not None
        created = await uow.customers.get(task.customer_id)
    assert created is not None
    assert created.department_id == service.id  # a second Dora, of Service


async def test_user_needs_create_permission_on_activity(
    refused: Refusals, tokens: Tokens, demo_database: Database
) -> None:
    async with demo_database.uow() as uow:
        service = await uow.directory.department_by_name("Service")
        assert service is not None and service.id is not None
        await uow.directory.add(Role("viewer", ["View:Activity"]))
        await uow.directory.add(
            User(
                "viewer1",
                service.id,
                password_hash=Argon2PasswordHasher.for_tests().hash("Viewer1-demo"),
                licenses=["agent"],
                role_names=["viewer"],
            )
        )
        await uow.commit()
    viewer = await tokens.user("viewer1", password="Viewer1-demo")
    body = await refused("POST", BY_EMAIL, 403, "403-178", headers=viewer, json=seed_sample())
    assert "Create Activity" in body["developerMessage"]
