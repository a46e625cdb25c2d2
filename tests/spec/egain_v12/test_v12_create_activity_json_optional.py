"""eGain v12 `POST /system/ws/v12/interaction/activity`, JSON bodies: the optional elements of
seed 001 (specs/egain-v12-incoming-email.txt) — isSecure, customAttributes, attachments (with the
partition's size limits and blocked file types) and customer — over real HTTP against the demo
site, on SQLite and PostgreSQL. Every refusal is also checked to write nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from v12_helpers import (
    CUSTOMER,
    V12Api,
    attachment,
    minimal_email,
    replaced,
    update_settings,
)

from emaildesk.db import tables as t

ADDRESSES = "payload.email.emailAddresses"


def with_attachments(*items: Any, **top: Any) -> dict[str, Any]:
    return minimal_email(attachments={"attachment": list(items)}, **top)


# --- secure messaging ------------------------------------------------------------------------


async def test_secure_email_with_secure_messaging_enabled_is_201(api: V12Api) -> None:
    activity = await api.read_one(await api.created(minimal_email(isSecure="true")))
    assert activity["isSecure"] is True


async def test_secure_email_with_secure_messaging_disabled_is_400_2008(api: V12Api) -> None:
    await update_settings(api.database, secure_messaging_enabled=False)
    await api.refused(api.create(minimal_email(isSecure="true")), 400, "400-2008")


async def test_non_secure_email_with_secure_messaging_disabled_is_201(api: V12Api) -> None:
    await update_settings(api.database, secure_messaging_enabled=False)
    activity = await api.read_one(await api.created(minimal_email(isSecure="false")))
    assert activity["isSecure"] is False


async def test_is_secure_must_be_true_or_false(api: V12Api) -> None:
    for value in ["yes", "1", "TRUEISH", "", 1]:
        await api.refused(api.create(minimal_email(isSecure=value)), 400, "400-152", "isSecure")


# --- custom attributes -----------------------------------------------------------------------


def custom(**values: str) -> dict[str, Any]:
    return {
        "customAttribute": [
            {"attribName": name, "attribValues": {"attribValue": [{"value": value}]}}
            for name, value in values.items()
        ]
    }


async def test_configured_custom_attributes_are_stored(api: V12Api) -> None:
    body = minimal_email(customAttributes=custom(customer_rating="5", order_number="A-1001 (web)"))
    activity = await api.read_one(await api.created(body))
    assert activity["customAttributes"] == custom(customer_rating="5", order_number="A-1001 (web)")


async def test_unknown_custom_attribute_is_400_2012(api: V12Api) -> None:
    body = minimal_email(customAttributes=custom(shoe_size="42"))
    await api.refused(api.create(body), 400, "400-2012", "shoe_size")


async def test_enumerated_custom_attribute_outside_its_values_is_400_2013(api: V12Api) -> None:
    body = minimal_email(customAttributes=custom(customer_rating="6"))
    await api.refused(api.create(body), 400, "400-2013", "customer_rating")


async def test_custom_attribute_with_a_character_not_allowed_is_400_2014(api: V12Api) -> None:
    body = minimal_email(customAttributes=custom(order_number="A+1001"))
    await api.refused(api.create(body), 400, "400-2014", "order_number")


async def test_custom_attribute_without_a_name_is_400_2001(api: V12Api) -> None:
    body = minimal_email(customAttributes={"customAttribute": [{"attribValues": {}}]})
    await api.refused(api.create(body), 400, "400-2001", "attribName")


# --- attachments (JSON mode) -----------------------------------------------------------------


async def test_attachments_are_stored_and_listed(api: V12Api) -> None:
    pdf, png = b"%PDF-1.4 invoice", b"\x89PNG\r\n\x1a\nlogo"
    body = with_attachments(
        attachment("invoice.pdf", pdf),
        attachment("logo.png", png, "image/png", isInline="true", contentId="logo@x"),
    )
    listed = (await api.read_one(await api.created(body)))["attachments"]
    assert listed["count"] == 2
    first, second = listed["attachment"]
    assert (first["fileName"], first["contentType"], first["size"], first["isInline"]) == (
        "invoice.pdf",
        "application/pdf",
        len(pdf),
        False,
    )
    assert (second["fileName"], second["isInline"], second["contentId"]) == (
        "logo.png",
        True,
        "logo@x",
    )
    downloaded = await api.client.get(first["link"]["href"], headers=api.headers())
    assert downloaded.content == pdf


async def test_attachment_of_a_blocked_file_type_is_400_2022(api: V12Api) -> None:
    for name, extension in [("setup.exe", "exe"), ("SETUP.EXE", "exe"), ("run.bat", "bat")]:
        body = with_attachments(attachment("fine.pdf", b"%PDF"), attachment(name, b"MZ"))
        await api.refused(api.create(body), 400, "400-2022", f"'{extension}'")


async def test_attachment_without_content_type_or_content_is_400_2001(api: V12Api) -> None:
    for field in ["contentType", "content"]:
        for missing in [None, ""]:
            item = attachment("a.pdf", b"%PDF")
            if missing is None:
                del item[field]
            else:
                item[field] = missing
            body = with_attachments(item)
            await api.refused(api.create(body), 400, "400-2001", f"attachments.attachment.{field}")


async def test_attachment_content_that_is_not_base64_is_400_152(api: V12Api) -> None:
    for content in ["not base64!", "QU=JD", "QUJ", "QUJD\u00e9"]:
        item = {"fileName": "a.pdf", "contentType": "application/pdf", "content": content}
        body = with_attachments(item)
        await api.refused(api.create(body), 400, "400-152", "attachments.attachment.content")


async def test_inline_attachment_without_content_id_is_400_2001(api: V12Api) -> None:
    body = with_attachments(attachment("logo.png", b"png", "image/png", isInline="true"))
    await api.refused(api.create(body), 400, "400-2001", "contentId")


async def test_email_larger_than_the_maximum_email_size_is_400_2020(api: V12Api) -> None:
    await update_settings(api.database, max_email_size_mb=1)
    body = with_attachments(attachment("big.pdf", b"x" * (1024 * 1024 + 1)))
    await api.refused(api.create(body), 400, "400-2020", "1 MB")


async def test_email_at_the_maximum_email_size_is_accepted(api: V12Api) -> None:
    await update_settings(api.database, max_email_size_mb=1)
    text_size = len(b"It has not arrived.")
    body = with_attachments(attachment("fits.pdf", b"x" * (1024 * 1024 - text_size)))
    assert (await api.create(body)).status_code == 201


async def test_content_larger_than_the_maximum_body_size_is_400_2021(api: V12Api) -> None:
    await update_settings(api.database, max_body_size_kb=1)
    body = replaced(
        minimal_email(), "payload.email.contents.content", [{"type": "text", "value": "x" * 1025}]
    )
    await api.refused(api.create(body), 400, "400-2021", "1 KB")


# --- customer ---------------------------------------------------------------------------------


async def test_customer_element_creates_the_new_customer(api: V12Api) -> None:
    body = minimal_email(
        customer={
            "contacts": {
                "contact": [
                    {
                        "firstName": "John",
                        "lastName": "Henry",
                        "email": [{"emailAddress": CUSTOMER}],
                        "phone": [{"phoneNumber": "+1 555 0199", "type": "mobile"}],
                    }
                ]
            }
        }
    )
    activity = await api.read_one(await api.created(body))
    contact = activity["customer"]["contacts"]["contact"][0]
    assert (contact["firstName"], contact["lastName"]) == ("John", "Henry")
    assert contact["email"] == [{"emailAddress": CUSTOMER}]
    async with api.database.engine.connect() as connection:
        phones = (
            await connection.scalars(
                select(t.contact_points.c.value).where(t.contact_points.c.kind == "mobile.phone")
            )
        ).all()
    assert "+1 555 0199" in phones


async def test_customer_element_is_ignored_when_the_sender_is_a_customer(api: V12Api) -> None:
    body = replaced(minimal_email(), f"{ADDRESSES}.from", "maria.lopez@example.net")
    body["customer"] = {"contacts": {"contact": [{"firstName": "Someone", "lastName": "Else"}]}}
    before = await api.counts()
    activity = await api.read_one(await api.created(body))
    contact = activity["customer"]["contacts"]["contact"][0]
    assert (contact["firstName"], contact["lastName"]) == ("Maria", "Lopez")
    assert (await api.counts())["customers"] == before["customers"]


async def test_customer_element_must_not_name_a_department(api: V12Api) -> None:
    body = minimal_email(customer={"department": {"name": "Sales"}})
    await api.refused(api.create(body), 400, "400-152", "customer.department.name")


async def test_customer_phone_of_an_unknown_type_is_400_196(api: V12Api) -> None:
    contact = {"phone": [{"phoneNumber": "+1 555 0199", "type": "pager"}]}
    body = minimal_email(customer={"contacts": {"contact": [contact]}})
    await api.refused(api.create(body), 400, "400-196", "customer.contacts.contact.phone.type")
