"""eGain v12 attachment download, `GET /system/ws/v12/interaction/activity/{id}/attachment/
{attachmentId}` (our path: the representation's attachment link): bytes, headers (RFC 6266 /
RFC 8187 Content-Disposition), and who may fetch what. Real HTTP, both backends."""

from __future__ import annotations

from typing import Any

from v12_helpers import (
    ALIAS,
    SESSION,
    V12,
    V12Api,
    assert_error,
    attachment,
    login,
    minimal_email,
)

PDF = bytes(range(256)) * 4 + b"%%EOF"


async def created_with(api: V12Api, *items: dict[str, str]) -> tuple[int, list[dict[str, Any]]]:
    """Create an activity with these attachments; its id and its attachment listing."""
    activity_id = await api.created(minimal_email(attachments={"attachment": list(items)}))
    listed = (await api.read_one(activity_id))["attachments"]["attachment"]
    return activity_id, listed


async def download(api: V12Api, href: str, token: str | None = None) -> Any:
    headers = {SESSION: token or api.token}
    return await api.client.get(href, headers=headers)


async def test_download_answers_the_bytes_with_type_length_and_disposition(api: V12Api) -> None:
    _, (item,) = await created_with(api, attachment("invoice.pdf", PDF, "application/pdf"))
    response = await download(api, item["link"]["href"])
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(PDF))
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"invoice.pdf\"; filename*=UTF-8''invoice.pdf"
    )
    assert response.headers[SESSION] == api.token


async def test_the_attachment_link_is_the_download_path(api: V12Api) -> None:
    activity_id, (item,) = await created_with(api, attachment("a.pdf", PDF, "application/pdf"))
    expected = f"{V12}/interaction/activity/{activity_id}/attachment/{item['id']}"
    assert item["link"] == {"rel": "attachment", "href": expected}


async def test_inline_attachment_is_served_inline(api: V12Api) -> None:
    png = b"\x89PNG\r\n\x1a\ninline"
    inline = attachment("logo.png", png, "image/png", isInline="true", contentId="logo")
    _, (item,) = await created_with(api, inline)
    response = await download(api, item["link"]["href"])
    assert response.content == png
    assert response.headers["content-disposition"].startswith("inline; ")


async def test_non_ascii_file_name_is_encoded_as_rfc_8187(api: V12Api) -> None:
    _, (item,) = await created_with(api, attachment('Größe €;"x".pdf', PDF, "application/pdf"))
    disposition = (await download(api, item["link"]["href"])).headers["content-disposition"]
    assert disposition == (
        'attachment; filename="Gr__e _;_x_.pdf"; '
        "filename*=UTF-8''Gr%C3%B6%C3%9Fe%20%E2%82%AC%3B%22x%22.pdf"
    )


async def test_only_the_last_path_segment_of_a_file_name_is_served(api: V12Api) -> None:
    _, (item,) = await created_with(api, attachment("..\\..\\x/evil.pdf", PDF, "application/pdf"))
    disposition = (await download(api, item["link"]["href"])).headers["content-disposition"]
    assert disposition == "attachment; filename=\"evil.pdf\"; filename*=UTF-8''evil.pdf"


async def test_the_stored_media_type_is_served_unchanged(api: V12Api) -> None:
    text = "Grüße".encode("latin-1")
    _, (item,) = await created_with(
        api, attachment("a.txt", text, "text/plain; charset=ISO-8859-1")
    )
    response = await download(api, item["link"]["href"])
    assert response.headers["content-type"] == "text/plain; charset=ISO-8859-1"
    assert response.content == text


async def test_attachments_never_run_as_pages_of_this_origin(api: V12Api) -> None:
    page = b"<script>alert(1)</script>"
    _, items = await created_with(
        api,
        attachment("page.html", page, "text/html"),
        attachment("odd.bin", page, "not a media type"),
    )
    html, odd = [await download(api, item["link"]["href"]) for item in items]
    for response in (html, odd):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in response.headers["content-security-policy"]
        assert response.headers["content-disposition"].startswith("attachment;")
    assert odd.headers["content-type"] == "application/octet-stream"


async def test_a_large_attachment_streams_complete(api: V12Api) -> None:
    data = bytes(range(256)) * (3 * 4096 + 7)  # ~3 MB: several blob-store chunks
    _, (item,) = await created_with(api, attachment("big.bin", data, "application/octet-stream"))
    response = await download(api, item["link"]["href"])
    assert response.headers["content-length"] == str(len(data))
    assert response.content == data


async def test_user_of_another_department_gets_404_101(api: V12Api) -> None:
    _, (item,) = await created_with(api, attachment("a.pdf", PDF, "application/pdf"))
    response = await download(api, item["link"]["href"], await login(api.client, "agent2"))
    assert_error(response, 404, "404-101")
    assert response.content != PDF


async def test_attachment_of_another_activity_is_404_101(api: V12Api) -> None:
    _, (item,) = await created_with(api, attachment("a.pdf", PDF, "application/pdf"))
    other = await api.created()
    href = f"{V12}/interaction/activity/{other}/attachment/{item['id']}"
    assert_error(await download(api, href), 404, "404-101", f"'{item['id']}'")


async def test_unknown_activity_or_attachment_is_404_101(api: V12Api) -> None:
    activity_id, (item,) = await created_with(api, attachment("a.pdf", PDF, "application/pdf"))
    unknown_activity = f"{V12}/interaction/activity/999999/attachment/{item['id']}"
    assert_error(await download(api, unknown_activity), 404, "404-101", "999999")
    unknown_attachment = f"{V12}/interaction/activity/{activity_id}/attachment/888888"
    assert_error(await download(api, unknown_attachment), 404, "404-101", "888888")


async def test_ids_that_are_not_ids_are_400_108(api: V12Api) -> None:
    activity_id, (item,) = await created_with(api, attachment("a.pdf", PDF, "application/pdf"))
    for path in [f"abc/attachment/{item['id']}", f"{activity_id}/attachment/1,2"]:
        response = await download(api, f"{V12}/interaction/activity/{path}")
        assert_error(response, 400, "400-108")


async def test_download_without_a_session_is_401_101(api: V12Api) -> None:
    _, (item,) = await created_with(api, attachment("a.pdf", PDF, "application/pdf"))
    response = await api.client.get(item["link"]["href"])
    assert_error(response, 401, "401-101", "X-egain-session")


async def test_download_refuses_query_parameters_with_400_101(api: V12Api) -> None:
    _, (item,) = await created_with(api, attachment("a.pdf", PDF, "application/pdf"))
    response = await api.client.get(
        item["link"]["href"], params={"inline": "yes"}, headers={SESSION: api.token}
    )
    assert_error(response, 400, "400-101", "'inline'")


async def test_download_ignores_accept_but_checks_accept_language(api: V12Api) -> None:
    _, (item,) = await created_with(api, attachment("a.pdf", PDF, "application/pdf"))
    href = item["link"]["href"]
    accepted = await api.client.get(href, headers={SESSION: api.token, "Accept": "application/pdf"})
    assert accepted.content == PDF
    refused = await api.client.get(href, headers={SESSION: api.token, "Accept-Language": "xx-XX"})
    assert_error(refused, 406, "406-100")


async def test_download_is_served_at_the_ws_v12_alias(api: V12Api) -> None:
    _, (item,) = await created_with(api, attachment("a.pdf", PDF, "application/pdf"))
    href = item["link"]["href"].replace(V12, ALIAS, 1)
    assert (await download(api, href)).content == PDF
