"""eGain v12 `POST /system/ws/v12/interaction/activity` as multipart/form-data (seed 001,
Examples 2, 4 and 6; api-notes §1.5): a `data` part with the activity as JSON or XML, a
`data-type` part naming which, and one file part per attachment; a part's `Content-ID` header
makes it inline. Over real HTTP on both backends."""

from __future__ import annotations

import json
from typing import Any

from v12_helpers import (
    ACTIVITY,
    CUSTOMER,
    JSON,
    SESSION,
    SUPPORT,
    XML,
    V12Api,
    activity_id_of,
    minimal_email,
    update_settings,
)

PNG = b"\x89PNG\r\n\x1a\n\x00\x00multipart-inline-logo"
PDF = b"%PDF-1.7\n\x00\x01\x02\xff statement"

XML_DATA = f"""<activity xmlns="http://bindings.egain.com/ws/model/v12/gen/interaction/activity">
  <department><name>Service</name></department>
  <type><value>email</value><subtype><value>general</value></subtype></type>
  <subject>Statement attached</subject>
  <payload><email>
    <date date="2016-02-01T10:00:00.000Z"/>
    <emailAddresses><from>{CUSTOMER}</from><receiver>{SUPPORT}</receiver></emailAddresses>
  </email></payload>
</activity>"""


def data_of(**top: Any) -> str:
    return json.dumps(minimal_email(**top))


def part(name: str, data: bytes, content_type: str, **headers: str) -> tuple[str, tuple[Any, ...]]:
    return ("attachment", (name, data, content_type, headers))


async def test_multipart_with_json_data_and_attachments_is_201(api: V12Api) -> None:
    """Examples 2 and 4: regular and inline attachments as parts; the inline one by Content-ID."""
    html = '<p>See the logo: <img src="cid:logo@example"></p>'
    data = data_of()
    body = json.loads(data)
    body["payload"]["email"]["contents"]["content"].append({"type": "html", "value": html})
    response = await api.create_multipart(
        json.dumps(body),
        files=[
            part("statement.pdf", PDF, "application/pdf"),
            part("logo.png", PNG, "image/png", **{"Content-ID": "<logo@example>"}),
        ],
    )
    activity_id = activity_id_of(response)
    assert response.headers[SESSION] == api.token
    activity = await api.read_one(activity_id)
    listed = activity["attachments"]["attachment"]
    assert [(a["fileName"], a["contentType"], a["isInline"]) for a in listed] == [
        ("statement.pdf", "application/pdf", False),
        ("logo.png", "image/png", True),
    ]
    assert listed[1]["contentId"] == "logo@example"
    for item, sent in zip(listed, [PDF, PNG], strict=True):
        downloaded = await api.client.get(item["link"]["href"], headers=api.headers())
        assert downloaded.content == sent
    assert activity["payload"]["email"]["contents"]["content"][1]["value"] == html


async def test_multipart_with_xml_data_is_201(api: V12Api) -> None:
    response = await api.create_multipart(
        XML_DATA, XML, files=[part("statement.pdf", PDF, "application/pdf")]
    )
    activity = await api.read_one(activity_id_of(response))
    assert activity["subject"] == "Statement attached"
    assert activity["attachments"]["count"] == 1


async def test_multipart_without_attachment_parts_is_201(api: V12Api) -> None:
    response = await api.create_multipart(data_of())
    assert (await api.read_one(activity_id_of(response)))["attachments"] == {"count": 0}


async def test_attachments_element_inside_data_is_400_2032(api: V12Api) -> None:
    item = {"fileName": "a.pdf", "contentType": "application/pdf", "content": "JVBERg=="}
    data = data_of(attachments={"attachment": [item]})
    await api.refused(api.create_multipart(data), 400, "400-2032", "attachments")


async def test_attachments_element_inside_xml_data_is_400_2032(api: V12Api) -> None:
    data = XML_DATA.replace(
        "</activity>",
        "<attachments><attachment><contentType>text/plain</contentType><content>YQ==</content>"
        "</attachment></attachments></activity>",
    )
    await api.refused(api.create_multipart(data, XML), 400, "400-2032")


async def test_missing_data_or_data_type_part_is_400_2001(api: V12Api) -> None:
    for fields, missing in [({"data-type": JSON}, "data"), ({"data": data_of()}, "data-type")]:
        call = api.client.post(
            ACTIVITY,
            data=fields,
            files=[part("a.pdf", PDF, "application/pdf")],
            headers=api.headers(),
        )
        await api.refused(call, 400, "400-2001", f"'{missing}'")


async def test_data_type_other_than_json_or_xml_is_400_196(api: V12Api) -> None:
    await api.refused(api.create_multipart(data_of(), "text/plain"), 400, "400-196", "data-type")


async def test_data_that_does_not_parse_as_its_data_type_is_400_2000(api: V12Api) -> None:
    await api.refused(api.create_multipart(data_of(), XML), 400, "400-2000", XML)
    await api.refused(api.create_multipart(XML_DATA, JSON), 400, "400-2000", JSON)


async def test_required_element_missing_in_data_is_400_2001(api: V12Api) -> None:
    body = minimal_email()
    del body["payload"]["email"]["emailAddresses"]["receiver"]
    await api.refused(
        api.create_multipart(json.dumps(body)),
        400,
        "400-2001",
        "payload.email.emailAddresses.receiver",
    )


async def test_attachment_part_of_a_blocked_file_type_is_400_2022(api: V12Api) -> None:
    files = [part("ok.pdf", PDF, "application/pdf"), part("tool.exe", b"MZ", "application/x")]
    await api.refused(api.create_multipart(data_of(), files=files), 400, "400-2022", "'exe'")


async def test_email_with_parts_larger_than_the_maximum_email_size_is_400_2020(
    api: V12Api,
) -> None:
    await update_settings(api.database, max_email_size_mb=1)
    files = [part("big.bin", b"\x00" * (1024 * 1024), "application/octet-stream")]
    await api.refused(api.create_multipart(data_of(), files=files), 400, "400-2020")


async def test_a_text_field_besides_data_and_data_type_is_400_152(api: V12Api) -> None:
    call = api.client.post(
        ACTIVITY,
        data={"data": data_of(), "data-type": JSON, "note": "not a file"},
        files=[part("a.pdf", PDF, "application/pdf")],
        headers=api.headers(),
    )
    await api.refused(call, 400, "400-152", "note")


async def test_malformed_multipart_body_is_400_2000(api: V12Api) -> None:
    part_without_name = b"--XYZ\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--XYZ--\r\n"
    for content_type, body in [
        ("multipart/form-data", b"--XYZ\r\n\r\n--XYZ--\r\n"),  # no boundary parameter
        ("multipart/form-data; boundary=XYZ", part_without_name),
    ]:
        call = api.client.post(
            ACTIVITY, content=body, headers=api.headers(**{"Content-Type": content_type})
        )
        await api.refused(call, 400, "400-2000", "multipart/form-data")
