"""eGain v12 `GET /system/ws/v12/interaction/activity/{IDs}` (api-notes §1.6): ids, query
parameters, formats, visibility by department, inline images, and the session echo on every
kind of answer. Over real HTTP against the demo site, on both backends."""

from __future__ import annotations

import base64
import re

from v12_helpers import (
    ALIAS,
    JSON,
    SESSION,
    V12,
    XML,
    V12Api,
    activity_id_of,
    assert_error,
    login,
    minimal_email,
    replaced,
)

from emaildesk.api.codecs.xml import parse_xml

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-embedded"
INLINE_HTML = '<p>Logo: <img src="cid:logo@example"> and <a href="cid:logo@example">it</a></p>'


def with_inline_image() -> dict[str, object]:
    body = minimal_email(
        attachments={
            "attachment": [
                {
                    "fileName": "logo.png",
                    "contentType": "image/png",
                    "content": base64.b64encode(PNG).decode(),
                    "isInline": "true",
                    "contentId": "logo@example",
                },
                {"fileName": "notes.txt", "contentType": "text/plain", "content": "bm90ZXM="},
            ]
        }
    )
    return replaced(
        body, "payload.email.contents.content", [{"type": "html", "value": INLINE_HTML}]
    )


def html_of(activity: dict[str, object]) -> str:
    contents = activity["payload"]["email"]["contents"]["content"]  # type: ignore[index]
    return next(c["value"] for c in contents if c["type"] == "html")


async def test_get_one_activity_answers_200_in_json_with_the_default_attributes(
    api: V12Api,
) -> None:
    activity_id = await api.created()
    response = await api.read(activity_id)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSON)
    (activity,) = response.json()["activity"]
    assert activity["id"] == str(activity_id)
    assert activity["link"] == {"rel": "self", "href": f"{V12}/interaction/activity/{activity_id}"}
    assert activity["subject"] == "Where is my order?"
    assert activity["department"]["name"] == "Service"
    assert "payload" not in activity  # not in the default subset (api-notes §1.6)


async def test_get_answers_xml_when_xml_is_accepted(api: V12Api) -> None:
    activity_id = await api.created()
    response = await api.read(activity_id, headers={"Accept": XML})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(XML)
    root, document = parse_xml(response.content)
    assert root == "activities"
    assert document["activity"][0]["id"] == str(activity_id)
    assert document["activity"][0]["subject"] == "Where is my order?"


async def test_attribute_all_adds_payload_and_every_other_attribute(api: V12Api) -> None:
    activity = await api.read_one(await api.created())
    assert activity["payload"]["email"]["emailAddresses"]["from"] == "jhenry@customer.com"
    assert {"created", "language", "contactPointData"} <= set(activity)


async def test_attribute_names_select_exactly_those_attributes(api: V12Api) -> None:
    activity_id = await api.created()
    response = await api.read(activity_id, params={"$attribute": "subject,payload"})
    (activity,) = response.json()["activity"]
    assert set(activity) == {"id", "link", "subject", "payload"}


async def test_unknown_attribute_name_is_400_102(api: V12Api) -> None:
    response = await api.read(await api.created(), params={"$attribute": "subject,shoeSize"})
    assert_error(response, 400, "400-102", "$attribute")


async def test_several_ids_answer_in_the_order_asked(api: V12Api) -> None:
    first, second = await api.created(), await api.created()
    response = await api.read(f"{second},{first},{second}")
    assert [a["id"] for a in response.json()["activity"]] == [str(second), str(first)]


async def test_at_most_75_ids_else_400(api: V12Api) -> None:
    known = await api.created()
    unknown = [str(1_000_000 + i) for i in range(74)]
    seventy_five = await api.read(",".join([str(known), *unknown]))
    assert_error(seventy_five, 404, "404-101", unknown[0])  # accepted, then looked up
    too_many = await api.read(",".join([str(known), *unknown, "2000000"]))
    assert_error(too_many, 400, "400-10424", "75")


async def test_unknown_ids_are_404_101_naming_them(api: V12Api) -> None:
    known = await api.created()
    response = await api.read(f"{known},999998,999999")
    assert_error(response, 404, "404-101", "'999998,999999'")


async def test_ids_that_are_not_ids_are_400_108(api: V12Api) -> None:
    for ids in ["abc", "1,,2", "0", "-1", "1.0"]:
        assert_error(await api.read(ids), 400, "400-108")


async def test_user_of_another_department_cannot_read_the_activity(api: V12Api) -> None:
    """agent2 works in Sales only: a Service activity is "not found" for them."""
    activity_id = await api.created()
    agent2 = await login(api.client, "agent2")
    response = await api.read(activity_id, token=agent2)
    assert_error(response, 404, "404-101", str(activity_id))


async def test_users_read_the_activities_of_each_of_their_departments(api: V12Api) -> None:
    service = await api.created()
    sales_body = minimal_email(department={"name": "Sales"})
    sales = await api.created(
        replaced(sales_body, "payload.email.emailAddresses.receiver", "sales@example.com")
    )
    super1 = await login(api.client, "super1")  # Service, and Sales as a foreign user
    both = await api.read(f"{service},{sales}", token=super1)
    assert [a["id"] for a in both.json()["activity"]] == [str(service), str(sales)]
    agent2 = await login(api.client, "agent2")
    assert (await api.read(sales, token=agent2)).status_code == 200
    assert_error(await api.read(sales), 404, "404-101", str(sales))  # agent1: Service only


async def test_unsupported_query_parameter_is_400_101_naming_it(api: V12Api) -> None:
    response = await api.read(await api.created(), params={"$order": "asc", "customer": "1"})
    assert_error(response, 400, "400-101", "'$order,customer'")


async def test_chat_only_parameters_are_accepted_and_change_nothing_for_email(
    api: V12Api,
) -> None:
    activity_id = await api.created()
    plain = (await api.read(activity_id, params={"$attribute": "all"})).json()
    response = await api.read(
        activity_id,
        params={
            "$attribute": "all",
            "payloadVersion": "2",
            "transcriptDatetimeFormat": "h:mm a (dd MMM yyyy)",
            "timeOffset": "-330",
        },
    )
    assert response.status_code == 200
    assert response.json() == plain


async def test_inline_images_keep_their_cid_references_by_default(api: V12Api) -> None:
    activity = await api.read_one(await api.created(with_inline_image()))
    assert html_of(activity) == INLINE_HTML


async def test_embed_inline_attachment_yes_embeds_the_image_bytes(api: V12Api) -> None:
    activity_id = await api.created(with_inline_image())
    activity = await api.read_one(activity_id, embedInlineAttachment="yes")
    html = html_of(activity)
    assert "cid:" not in html
    urls = re.findall(r'(?:src|href)="(data:[^"]+)"', html)
    assert urls == [f"data:image/png;base64,{base64.b64encode(PNG).decode()}"] * 2


async def test_embed_inline_attachment_in_xml_embeds_too(api: V12Api) -> None:
    activity_id = await api.created(with_inline_image())
    response = await api.read(
        activity_id,
        params={"$attribute": "payload", "embedInlineAttachment": "yes"},
        headers={"Accept": XML},
    )
    _, document = parse_xml(response.content)
    contents = document["activity"][0]["payload"]["email"]["contents"]["content"]
    assert base64.b64encode(PNG).decode() in contents[0]["value"]


async def test_embed_inline_attachment_for_several_ids_is_400_101(api: V12Api) -> None:
    first, second = await api.created(with_inline_image()), await api.created()
    response = await api.read(f"{first},{second}", params={"embedInlineAttachment": "yes"})
    assert_error(response, 400, "400-101", "embedInlineAttachment")


async def test_embed_inline_attachment_accepts_only_yes(api: V12Api) -> None:
    response = await api.read(await api.created(), params={"embedInlineAttachment": "true"})
    assert_error(response, 400, "400-102", "embedInlineAttachment", "'yes'")


async def test_get_without_a_session_is_401_101(api: V12Api) -> None:
    activity_id = await api.created()
    response = await api.client.get(f"{V12}/interaction/activity/{activity_id}")
    assert_error(response, 401, "401-101", "X-egain-session")


async def test_user_without_a_licence_is_403(api: V12Api) -> None:
    activity_id = await api.created()
    response = await api.read(activity_id, token=await login(api.client, "nolicense"))
    assert_error(response, 403, "403-2002")


async def test_unsupported_accept_is_406_and_accept_language_406_100(api: V12Api) -> None:
    activity_id = await api.created()
    assert_error(await api.read(activity_id, headers={"Accept": "text/plain"}), 406, "406-101")
    language = await api.read(activity_id, headers={"Accept-Language": "klingon"})
    assert_error(language, 406, "406-100")


async def test_every_v12_response_echoes_the_session(api: V12Api) -> None:
    activity_id = await api.created()
    responses = [
        await api.read(activity_id),  # 200
        await api.read("abc"),  # 400
        await api.read(999999),  # 404
        await api.read(activity_id, headers={"Accept": "image/png"}),  # 406
        await api.client.get(f"{V12}/no/such/resource", headers=api.headers()),  # 404 path
        await api.client.put(f"{V12}/interaction/activity", headers=api.headers()),  # 405
        await api.client.get(f"{V12}/interaction/activity/{activity_id}", headers={SESSION: "x"}),
    ]
    assert [r.status_code for r in responses] == [200, 400, 404, 406, 404, 405, 401]
    assert [r.headers.get(SESSION) for r in responses] == [api.token] * 6 + ["x"]


async def test_responses_outside_v12_do_not_echo_the_session(api: V12Api) -> None:
    response = await api.client.get("/healthz", headers=api.headers())
    assert response.status_code == 200
    assert SESSION not in response.headers


async def test_get_is_served_at_the_ws_v12_alias_with_system_links(api: V12Api) -> None:
    activity_id = activity_id_of(
        await api.client.post(
            f"{ALIAS}/interaction/activity", json=minimal_email(), headers=api.headers()
        )
    )
    response = await api.client.get(
        f"{ALIAS}/interaction/activity/{activity_id}", headers=api.headers()
    )
    assert response.status_code == 200
    assert response.headers[SESSION] == api.token
    link = response.json()["activity"][0]["link"]["href"]
    assert link == f"{V12}/interaction/activity/{activity_id}"
