"""eGain v12 `POST /system/ws/v12/interaction/activity` with XML bodies: the published Example 1
(api-notes §1.5) with its namespaces, the same document without them, attachments, and hostile
XML (malformed, XXE, entity bombs), over real HTTP on both backends."""

from __future__ import annotations

import base64
from typing import Any

from v12_helpers import (
    ACTIVITY,
    ACTIVITY_NS,
    COMMON_NS,
    CUSTOMER,
    JSON,
    SUPPORT,
    XML,
    V12Api,
    activity_id_of,
    example_1_xml,
)

from emaildesk.api.codecs.xml import parse_xml

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-inline-logo"
PDF = b"%PDF-1.4\n\x00\xff binary invoice"


def plain_activity(inner: str = "", subject: str = "Parcel damaged") -> str:
    """An un-namespaced activity document with the required elements, plus `inner`."""
    return f"""<activity>
  <department><name>Service</name></department>
  <type><value>email</value><subtype><value>general</value></subtype></type>
  <subject>{subject}</subject>
  <payload><email>
    <date date="2016-01-04T08:30:00.000Z"/>
    <contents><content><type>text</type><value>The box was crushed.</value></content></contents>
    <emailAddresses><from>{CUSTOMER}</from><receiver>{SUPPORT}</receiver></emailAddresses>
  </email></payload>
  {inner}
</activity>"""


async def read_xml(api: V12Api, activity_id: int) -> dict[str, Any]:
    response = await api.read(activity_id, params={"$attribute": "all"}, headers={"Accept": XML})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(XML)
    assert f'xmlns="{ACTIVITY_NS}"' in response.text
    root, document = parse_xml(response.content)
    assert root == "activities"
    activities = document["activity"]
    assert len(activities) == 1
    activity: dict[str, Any] = activities[0]
    return activity


async def new_case(api: V12Api) -> int:
    return int((await api.read_one(await api.created()))["case"]["id"])


async def test_example_1_xml_answers_201_with_location_and_no_body(api: V12Api) -> None:
    response = await api.create_xml(example_1_xml(await new_case(api)))
    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["location"].startswith(f"{ACTIVITY}/")


async def test_example_1_xml_reads_back_in_xml_exactly_what_was_sent(api: V12Api) -> None:
    case_id = await new_case(api)
    activity_id = activity_id_of(await api.create_xml(example_1_xml(case_id)))
    activity = await read_xml(api, activity_id)
    assert activity["id"] == str(activity_id)
    assert activity["case"]["id"] == str(case_id)
    assert activity["department"]["name"] == "Service"
    assert activity["type"]["value"] == "email"
    assert activity["type"]["subtype"]["value"] == "general"
    assert activity["isSecure"] == "true"
    assert activity["subject"] == "Issue with mobile phone"
    email = activity["payload"]["email"]
    assert email["date"] == {"date": "2015-12-26T19:00:00.000Z"}
    assert email["contents"]["content"] == [
        {"type": "text", "value": "This is the issue"},
        {"type": "html", "value": "<HTML>...</HTML>"},
    ]
    assert email["emailAddresses"] == {"from": CUSTOMER, "receiver": SUPPORT}


async def test_example_1_xml_reads_back_in_json_too(api: V12Api) -> None:
    activity_id = activity_id_of(await api.create_xml(example_1_xml(await new_case(api))))
    activity = await api.read_one(activity_id)
    assert activity["isSecure"] is True
    assert activity["payload"]["email"]["contents"]["content"][1] == {
        "type": "html",
        "value": "<HTML>...</HTML>",
    }


async def test_xml_without_namespaces_creates_the_activity(api: V12Api) -> None:
    activity_id = activity_id_of(await api.create_xml(plain_activity()))
    activity = await api.read_one(activity_id)
    assert activity["subject"] == "Parcel damaged"
    assert activity["payload"]["email"]["date"] == {"date": "2016-01-04T08:30:00.000Z"}


async def test_text_xml_content_type_is_read_as_xml(api: V12Api) -> None:
    response = await api.create_xml(plain_activity(), **{"Content-Type": "text/xml"})
    assert response.status_code == 201


async def test_xml_special_characters_survive_the_round_trip(api: V12Api) -> None:
    subject = "Umlaut ü, ampersand &amp; angle &lt;b&gt; and 日本語"
    sent = "Umlaut ü, ampersand & angle <b> and 日本語"
    activity_id = activity_id_of(await api.create_xml(plain_activity(subject=subject)))
    assert (await api.read_one(activity_id))["subject"] == sent
    assert (await read_xml(api, activity_id))["subject"] == sent


async def test_xml_address_lists_use_address_elements(api: V12Api) -> None:
    document = plain_activity().replace(
        f"<receiver>{SUPPORT}</receiver>",
        f"<receiver>{SUPPORT}</receiver><to><address>a@example.org</address>"
        "<address>b@example.org</address></to><cc><address>c@example.org</address></cc>"
        "<replyTo>r@example.org</replyTo>",
    )
    activity = await read_xml(api, activity_id_of(await api.create_xml(document)))
    addresses = activity["payload"]["email"]["emailAddresses"]
    assert addresses["to"] == {"address": ["a@example.org", "b@example.org"]}
    assert addresses["cc"] == {"address": ["c@example.org"]}
    assert addresses["replyTo"] == "r@example.org"


async def test_xml_attachments_inline_and_not_are_stored_byte_exact(api: V12Api) -> None:
    """Example 3 (seed 001): inline and non-inline attachments in an XML body."""
    attachments = f"""<attachments>
      <attachment><contentType>image/png</contentType>
        <content>{base64.b64encode(PNG).decode()}</content>
        <isInline>true</isInline><contentId>logo123</contentId><fileName>logo.png</fileName>
      </attachment>
      <attachment><contentType>application/pdf</contentType>
        <content>{base64.encodebytes(PDF).decode()}</content><fileName>invoice.pdf</fileName>
      </attachment>
    </attachments>"""
    document = plain_activity(attachments).replace(
        "<contents>",
        '<contents><content><type>html</type><value><![CDATA[<p><img src="cid:logo123"></p>]]>'
        "</value></content>",
    )
    activity_id = activity_id_of(await api.create_xml(document))
    listed = (await api.read_one(activity_id))["attachments"]["attachment"]
    assert [(a["fileName"], a["isInline"], a.get("contentId")) for a in listed] == [
        ("logo.png", True, "logo123"),
        ("invoice.pdf", False, None),
    ]
    for item, data in zip(listed, [PNG, PDF], strict=True):
        downloaded = await api.client.get(item["link"]["href"], headers=api.headers())
        assert downloaded.status_code == 200
        assert downloaded.content == data


async def test_xml_custom_attributes_are_stored(api: V12Api) -> None:
    inner = """<customAttributes><customAttribute><attribName>customer_rating</attribName>
      <attribValues><attribValue><value>4</value></attribValue></attribValues>
    </customAttribute></customAttributes>"""
    activity = await api.read_one(activity_id_of(await api.create_xml(plain_activity(inner))))
    assert activity["customAttributes"]["customAttribute"] == [
        {"attribName": "customer_rating", "attribValues": {"attribValue": [{"value": "4"}]}}
    ]


async def test_xml_required_element_missing_is_400_2001(api: V12Api) -> None:
    document = plain_activity().replace("<department><name>Service</name></department>", "")
    await api.refused(api.create_xml(document), 400, "400-2001", "department.name")


async def test_xml_is_secure_other_than_true_or_false_is_400_152(api: V12Api) -> None:
    await api.refused(
        api.create_xml(plain_activity("<isSecure>maybe</isSecure>")), 400, "400-152", "isSecure"
    )


async def test_xml_attachment_content_not_base64_is_400_152(api: V12Api) -> None:
    inner = (
        "<attachments><attachment><contentType>text/plain</contentType>"
        "<content>%%%not-base64%%%</content><fileName>a.txt</fileName></attachment></attachments>"
    )
    await api.refused(
        api.create_xml(plain_activity(inner)), 400, "400-152", "attachments.attachment.content"
    )


async def test_malformed_xml_is_400_2000_never_500(api: V12Api) -> None:
    for document in [
        "<activity><subject>unclosed</activity>",
        "not xml at all",
        "<activity><subject>text <b>mixed</b> in</subject></activity>",
        "<activity></activity><activity></activity>",
        "<activity>" * 100 + "</activity>" * 100,
    ]:
        await api.refused(api.create_xml(document), 400, "400-2000", XML)


async def test_xxe_attempt_is_400_2000_and_reads_no_file(api: V12Api, tmp_path: Any) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE activity [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        + plain_activity(subject="&xxe;")
    )
    body = await api.refused(api.create_xml(document), 400, "400-2000", XML)
    assert "TOP-SECRET" not in str(body)


async def test_entity_expansion_bomb_is_400_2000(api: V12Api) -> None:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    document = f"<!DOCTYPE activity [{entities}]>" + plain_activity(subject="&i;")
    await api.refused(api.create_xml(document), 400, "400-2000", XML)


async def test_xml_of_another_root_element_is_400_152(api: V12Api) -> None:
    document = plain_activity().replace("<activity>", "<task>").replace("</activity>", "</task>")
    await api.refused(api.create_xml(document), 400, "400-152", "task")


async def test_errors_are_xml_in_the_common_namespace_when_xml_is_accepted(
    api: V12Api,
) -> None:
    document = plain_activity().replace("<department><name>Service</name></department>", "")
    response = await api.create_xml(document, Accept=XML)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(XML)
    assert f'xmlns="{COMMON_NS}"' in response.text
    root, body = parse_xml(response.content)
    assert root == "error"
    assert body["code"] == "400-2001"
    assert "department.name" in body["developerMessage"]


async def test_json_accept_with_an_xml_body_answers_errors_in_json(api: V12Api) -> None:
    response = await api.create_xml("<activity><subject>x", Accept=JSON)
    assert response.status_code == 400
    assert response.json()["code"] == "400-2000"
