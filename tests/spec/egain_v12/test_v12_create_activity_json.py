"""eGain v12 `POST /system/ws/v12/interaction/activity` with JSON bodies: every rule of seed 001
(specs/egain-v12-incoming-email.txt) and api-notes §1.5, over real HTTP against the demo site,
on SQLite and PostgreSQL: Example 1, the required elements, addresses, aliases, cases, dates and
the request envelope (the optional elements: test_v12_create_activity_json_optional.py). Every
refusal is also checked to write nothing (`V12Api.refused`)."""

from __future__ import annotations

from sqlalchemy import select
from v12_helpers import (
    ACTIVITY,
    ALIAS,
    CUSTOMER,
    JSON,
    RETIRED,
    SALES,
    SESSION,
    V12Api,
    activity_id_of,
    attachment,
    example_1_json,
    login,
    minimal_email,
    replaced,
    without,
)

from emaildesk.api.i18n import Translator
from emaildesk.db import tables as t
from emaildesk.domain import errors

ADDRESSES = "payload.email.emailAddresses"


async def new_case(api: V12Api) -> int:
    created = await api.read_one(await api.created())
    return int(created["case"]["id"])


# --- Example 1 and what a created activity is -----------------------------------------------


async def test_example_1_json_answers_201_with_location_and_no_body(api: V12Api) -> None:
    response = await api.create(example_1_json(await new_case(api)))
    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["location"].startswith(f"{ACTIVITY}/")
    assert response.headers[SESSION] == api.token


async def test_example_1_json_reads_back_exactly_what_was_sent(api: V12Api) -> None:
    case_id = await new_case(api)
    activity_id = activity_id_of(await api.create(example_1_json(case_id)))
    activity = await api.read_one(activity_id)
    assert activity["id"] == str(activity_id)
    assert activity["case"]["id"] == str(case_id)
    assert activity["department"]["name"] == "Service"
    assert activity["type"]["value"] == "email"
    assert activity["type"]["subtype"]["value"] == "general"
    assert activity["mode"]["value"] == "inbound"
    assert activity["isSecure"] is True
    assert activity["subject"] == "Issue with mobile phone"
    email = activity["payload"]["email"]
    assert email["date"] == {"date": "2015-12-26T19:00:00.000Z"}
    assert email["contents"]["content"] == [
        {"type": "text", "value": "This is the issue"},
        {"type": "html", "value": "<HTML>...</HTML>"},
    ]
    assert email["emailAddresses"] == {"from": CUSTOMER, "receiver": "support@example.com"}


async def test_the_activity_is_committed_before_201(api: V12Api) -> None:
    activity_id = await api.created()
    async with api.database.engine.connect() as connection:
        subject = await connection.scalar(
            select(t.activities.c.subject).where(t.activities.c.id == activity_id)
        )
    assert subject == "Where is my order?"


async def test_created_activity_emits_an_activity_created_event(api: V12Api) -> None:
    activity_id = await api.created()
    async with api.database.engine.connect() as connection:
        events = (
            await connection.execute(
                select(t.events.c.kind, t.events.c.actor_type, t.events.c.actor_id).where(
                    t.events.c.aggregate_type == "activity", t.events.c.aggregate_id == activity_id
                )
            )
        ).all()
        agent1 = await connection.scalar(select(t.users.c.id).where(t.users.c.login_id == "agent1"))
    assert [(e.kind, e.actor_type, e.actor_id) for e in events] == [
        ("ActivityCreated", "user", agent1)
    ]


async def test_without_case_id_a_new_case_is_created(api: V12Api) -> None:
    first = await api.read_one(await api.created())
    second = await api.read_one(await api.created())
    assert first["case"]["id"] != second["case"]["id"]


async def test_with_case_id_the_activity_joins_that_case(api: V12Api) -> None:
    case_id = await new_case(api)
    activity = await api.read_one(await api.created(minimal_email(case={"id": str(case_id)})))
    assert activity["case"]["id"] == str(case_id)


async def test_ids_and_flags_may_be_json_numbers_and_booleans(api: V12Api) -> None:
    case_id = await new_case(api)
    body = minimal_email(case={"id": case_id}, isSecure=True)
    activity = await api.read_one(await api.created(body))
    assert activity["case"]["id"] == str(case_id)
    assert activity["isSecure"] is True


async def test_v3_spelling_payload_email_content_is_accepted(api: V12Api) -> None:
    body = without(minimal_email(), "payload.email.contents")
    body["payload"]["email"]["content"] = {"type": "html", "value": "<p>Hello</p>"}
    activity = await api.read_one(await api.created(body))
    assert activity["payload"]["email"]["contents"]["content"] == [
        {"type": "html", "value": "<p>Hello</p>"}
    ]


async def test_the_ws_v12_alias_creates_with_a_system_location(api: V12Api) -> None:
    response = await api.client.post(
        f"{ALIAS}/interaction/activity", json=minimal_email(), headers=api.headers()
    )
    activity_id = activity_id_of(response)  # checks the /system/ws/v12 Location
    assert (await api.read_one(activity_id))["subject"] == "Where is my order?"


# --- required elements ----------------------------------------------------------------------


REQUIRED = [  # seed 001 "All of the following are required": (element removed, named)
    ("department", "department.name"),
    ("department.name", "department.name"),
    ("type", "type.value"),
    ("type.value", "type.value"),
    ("type.subtype", "type.subtype.value"),
    ("type.subtype.value", "type.subtype.value"),
    (f"{ADDRESSES}.from", f"{ADDRESSES}.from"),
    (f"{ADDRESSES}.receiver", f"{ADDRESSES}.receiver"),
    ("payload.email.date", "payload.email.date"),
    ("payload.email.date.date", "payload.email.date"),
]


async def test_every_required_element_missing_is_400_2001_naming_it(api: V12Api) -> None:
    for removed, attribute in REQUIRED:
        body = without(minimal_email(), removed)
        await api.refused(api.create(body), 400, "400-2001", attribute)


async def test_subject_content_and_attachments_all_missing_is_400_2002(api: V12Api) -> None:
    body = without(without(minimal_email(), "subject"), "payload.email.contents")
    await api.refused(api.create(body), 400, "400-2002", "subject")


async def test_an_attachment_alone_satisfies_subject_or_attachments_or_content(
    api: V12Api,
) -> None:
    body = without(without(minimal_email(), "subject"), "payload.email.contents")
    body["attachments"] = {"attachment": [attachment("a.pdf", b"%PDF-1.4")]}
    assert (await api.create(body)).status_code == 201


# --- type, department, alias, case ---------------------------------------------------------


async def test_type_must_be_email_general_else_400_196(api: V12Api) -> None:
    for path, value in [("type.value", "task"), ("type.subtype.value", "compose")]:
        body = replaced(minimal_email(), path, value)
        await api.refused(api.create(body), 400, "400-196", path)


async def test_department_name_is_matched_case_insensitively(api: V12Api) -> None:
    body = minimal_email(department={"name": "SERVICE"})
    assert (await api.read_one(await api.created(body)))["department"]["name"] == "Service"


async def test_unknown_department_is_400_2023(api: V12Api) -> None:
    body = minimal_email(department={"name": "Marketing"})
    await api.refused(api.create(body), 400, "400-2023", "Marketing")


async def test_receiver_of_an_inactive_alias_is_400_2006(api: V12Api) -> None:
    body = replaced(minimal_email(), f"{ADDRESSES}.receiver", RETIRED)
    await api.refused(api.create(body), 400, "400-2006", RETIRED)


async def test_receiver_alias_of_another_department_is_400_2006(api: V12Api) -> None:
    body = replaced(minimal_email(), f"{ADDRESSES}.receiver", SALES)
    await api.refused(api.create(body), 400, "400-2006", SALES, "Service")


async def test_receiver_that_is_no_alias_is_400_2006(api: V12Api) -> None:
    body = replaced(minimal_email(), f"{ADDRESSES}.receiver", "support@business.com")
    await api.refused(api.create(body), 400, "400-2006", "support@business.com")


async def test_unknown_case_id_is_400_2007(api: V12Api) -> None:
    await api.refused(api.create(minimal_email(case={"id": "1060"})), 400, "400-2007", "1060")


async def test_case_id_that_is_no_id_is_400_152(api: V12Api) -> None:
    for case_id in ["abc", "-3", "0", "1.5", "99999999999999999999999"]:
        body = minimal_email(case={"id": case_id})
        await api.refused(api.create(body), 400, "400-152", "case.id")


# --- addresses -------------------------------------------------------------------------------


async def test_single_address_fields_refuse_two_addresses_with_400_2005(api: V12Api) -> None:
    for field in ["from", "receiver", "replyTo"]:
        for value in ["a@example.org, b@example.org", ["a@example.org", "b@example.org"]]:
            body = replaced(minimal_email(), f"{ADDRESSES}.{field}", value)
            await api.refused(api.create(body), 400, "400-2005", f"{ADDRESSES}.{field}")


async def test_invalid_address_is_400_2004(api: V12Api) -> None:
    for field in ["from", "to", "cc", "replyTo"]:
        body = replaced(minimal_email(), f"{ADDRESSES}.{field}", "jhenry at customer.com")
        await api.refused(api.create(body), 400, "400-2004", f"{ADDRESSES}.{field}")


async def test_address_longer_than_255_characters_is_400_2003(api: V12Api) -> None:
    long_address = "a" * 250 + "@example.org"
    for field in ["to", "cc", "replyTo"]:
        body = replaced(minimal_email(), f"{ADDRESSES}.{field}", long_address)
        await api.refused(api.create(body), 400, "400-2003", f"{ADDRESSES}.{field}", "255")


async def test_to_cc_and_reply_to_are_stored_in_every_documented_form(api: V12Api) -> None:
    body = minimal_email()
    body["payload"]["email"]["emailAddresses"].update(
        {
            "to": {"address": ["first@example.org", "second@example.org"]},
            "cc": "copy@example.org, other@example.org",
            "replyTo": "replies@customer.com",
        }
    )
    addresses = (await api.read_one(await api.created(body)))["payload"]["email"]["emailAddresses"]
    assert addresses["to"] == {"address": ["first@example.org", "second@example.org"]}
    assert addresses["cc"] == {"address": ["copy@example.org", "other@example.org"]}
    assert addresses["replyTo"] == "replies@customer.com"


# --- subject, contents, date -----------------------------------------------------------------


async def test_subject_of_255_characters_is_accepted(api: V12Api) -> None:
    activity = await api.read_one(await api.created(minimal_email(subject="s" * 255)))
    assert activity["subject"] == "s" * 255


async def test_subject_longer_than_255_characters_is_400_2003(api: V12Api) -> None:
    await api.refused(api.create(minimal_email(subject="s" * 256)), 400, "400-2003", "subject")


async def test_content_type_other_than_text_or_html_is_400_196(api: V12Api) -> None:
    body = replaced(
        minimal_email(), "payload.email.contents.content", [{"type": "rtf", "value": "x"}]
    )
    await api.refused(api.create(body), 400, "400-196", "payload.email.contents.content")


async def test_html_content_alone_is_stored(api: V12Api) -> None:
    content = [{"type": "html", "value": "<p>Only <b>HTML</b></p>"}]
    body = replaced(minimal_email(), "payload.email.contents.content", content)
    activity = await api.read_one(await api.created(body))
    assert activity["payload"]["email"]["contents"]["content"] == content


async def test_date_not_in_the_egain_format_is_400_2030(api: V12Api) -> None:
    for date in [
        "2015-12-26",
        "26/12/2015 19:00",
        "2015-12-26T19:00:00+01:00",
        "2015-02-30T10:00:00Z",
    ]:
        body = replaced(minimal_email(), "payload.email.date.date", date)
        await api.refused(api.create(body), 400, "400-2030", "payload.email.date")


# --- the request envelope --------------------------------------------------------------------


async def test_malformed_json_is_400_2000_never_500(api: V12Api) -> None:
    call = api.client.post(
        ACTIVITY, content=b'{"department": {"name": ', headers=api.headers(**{"Content-Type": JSON})
    )
    await api.refused(call, 400, "400-2000", JSON)


async def test_json_that_is_not_an_activity_object_is_400_2000(api: V12Api) -> None:
    for document in [b"[]", b'"activity"', b'{"subject": NaN}', b"\xff\xfe{}"]:
        call = api.client.post(
            ACTIVITY, content=document, headers=api.headers(**{"Content-Type": JSON})
        )
        await api.refused(call, 400, "400-2000")


async def test_element_of_the_wrong_shape_is_400_152(api: V12Api) -> None:
    for path, value, attribute in [
        ("subject", {"text": "x"}, "subject"),
        ("department", "Service", "department"),
        ("payload.email.contents.content", [42], "payload.email.contents.content"),
        ("attachments", {"attachment": ["x"]}, "attachments.attachment"),
    ]:
        body = replaced(minimal_email(), path, value)
        await api.refused(api.create(body), 400, "400-152", attribute)


async def test_empty_body_is_400_2001(api: V12Api) -> None:
    call = api.client.post(ACTIVITY, content=b"", headers=api.headers(**{"Content-Type": JSON}))
    await api.refused(call, 400, "400-2001", "body")


async def test_unsupported_content_type_is_415_100(api: V12Api) -> None:
    for content_type in ["text/csv", "application/x-www-form-urlencoded", "text/plain"]:
        call = api.client.post(
            ACTIVITY, content=b"a=b", headers=api.headers(**{"Content-Type": content_type})
        )
        await api.refused(call, 415, "415-100", content_type)


async def test_unsupported_accept_is_406_101(api: V12Api) -> None:
    call = api.create(minimal_email(), headers={"Accept": "text/html"})
    await api.refused(call, 406, "406-101")


async def test_unsupported_accept_language_is_406_100(api: V12Api) -> None:
    call = api.create(minimal_email(), headers={"Accept-Language": "xx"})
    await api.refused(call, 406, "406-100")


async def test_error_messages_are_in_the_accepted_language(api: V12Api) -> None:
    translator = Translator()
    english = errors.REQUIRED_ATTRIBUTE(attribute="department.name").english()
    for locale in ["de-DE", "ja-JP"]:
        body = await api.refused(
            api.create(without(minimal_email(), "department"), headers={"Accept-Language": locale}),
            400,
            "400-2001",
            "department.name",
        )
        translated = translator.message(
            errors.REQUIRED_ATTRIBUTE, {"attribute": "department.name"}, locale
        )
        assert body["developerMessage"] == translated != english


async def test_error_message_header_yes_adds_the_user_message(api: V12Api) -> None:
    response = await api.create(
        minimal_email(subject="s" * 256), headers={"X-egain-error-message": "yes"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "400-2003"
    assert "subject" in body["userMessage"]


async def test_unsupported_query_parameter_is_400_101_naming_it(api: V12Api) -> None:
    call = api.create(minimal_email(), params={"expandMacros": "yes"})
    await api.refused(call, 400, "400-101", "'expandMacros'")


async def test_without_a_session_create_is_401_101(api: V12Api) -> None:
    call = api.client.post(ACTIVITY, json=minimal_email(), headers={"Accept": JSON})
    await api.refused(call, 401, "401-101", "X-egain-session")


async def test_user_without_a_licence_is_403(api: V12Api) -> None:
    token = await login(api.client, "nolicense")
    await api.refused(api.create(minimal_email(), token=token), 403, "403-2002", "nolicense")
