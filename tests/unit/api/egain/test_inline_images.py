"""`cid:` references in HTML email bodies: resolving to links and embedding as `data:` URLs."""

from __future__ import annotations

import pytest

from emaildesk.api.egain.inline_images import (
    embed_inline,
    embeddable_media_type,
    referenced_attachments,
    resolve_cid_references,
)
from emaildesk.domain.attachments import Attachment

PNG_SHA = "a" * 64
PNG_BYTES = b"\x89PNG\r\n"  # base64: iVBORw0K


def image(
    content_id: str | None = "img1", content_type: str = "image/png", **extra: object
) -> Attachment:
    fields: dict[str, object] = {
        "file_name": "photo.png",
        "content_type": content_type,
        "size": len(PNG_BYTES),
        "sha256": PNG_SHA,
        "inline": True,
        "content_id": content_id,
        "id": 55,
    }
    fields.update(extra)
    return Attachment(**fields)  # type: ignore[arg-type]


def link(attachment: Attachment) -> str:
    return f"/att/{attachment.id}"


def data(attachment: Attachment) -> bytes | None:
    return PNG_BYTES if attachment.sha256 == PNG_SHA else None


# --- resolve -----------------------------------------------------------------------------


def test_cid_reference_in_src_becomes_the_attachment_link() -> None:
    html = '<p>Look: <img src="cid:img1" alt="x"></p>'
    assert (
        resolve_cid_references(html, [image()], link) == '<p>Look: <img src="/att/55" alt="x"></p>'
    )


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<img SRC='cid:img1'>", '<img SRC="/att/55">'),
        ("<img src=cid:img1>", '<img src="/att/55">'),
        ('<img src = "CID:img1">', '<img src = "/att/55">'),
        ('<a href="cid:img1">open</a>', '<a href="/att/55">open</a>'),
        ('<td background="cid:img1">', '<td background="/att/55">'),
    ],
)
def test_cid_scheme_attribute_and_quoting_are_matched_case_insensitively(
    markup: str, expected: str
) -> None:
    assert resolve_cid_references(markup, [image()], link) == expected


def test_angle_brackets_and_percent_escapes_in_content_ids_match() -> None:
    """RFC 2392: the URL carries the Content-ID without <> and %hh-escaped."""
    attachment = image(content_id="<part1.abc@example.com>")
    html = '<img src="cid:part1.abc%40example.com">'
    assert resolve_cid_references(html, [attachment], link) == '<img src="/att/55">'


def test_content_id_differing_only_in_case_still_matches() -> None:
    assert resolve_cid_references('<img src="cid:IMG1">', [image()], link) == '<img src="/att/55">'


def test_exact_content_id_wins_over_case_insensitive_one() -> None:
    upper = image(content_id="Logo", id=1)
    lower = image(content_id="logo", id=2)
    assert resolve_cid_references('<img src="cid:logo">', [upper, lower], link) == (
        '<img src="/att/2">'
    )


def test_unknown_cid_and_other_urls_are_left_alone() -> None:
    html = '<img src="cid:missing"><img src="https://example.com/cid:img1"><p>cid:img1</p>'
    assert resolve_cid_references(html, [image()], link) == html


def test_data_src_attribute_is_not_a_src_attribute() -> None:
    html = '<img data-src="cid:img1">'
    assert resolve_cid_references(html, [image()], link) == html


def test_attachments_without_content_id_are_never_matched() -> None:
    html = '<img src="cid:">'
    plain = image(content_id=None, inline=False)
    assert resolve_cid_references(html, [plain], link) == html


def test_link_is_escaped_so_metadata_cannot_break_out_of_the_attribute() -> None:
    def hostile(_: Attachment) -> str:
        return '/att/1" onerror="alert(1)'

    result = resolve_cid_references('<img src="cid:img1">', [image()], hostile)
    assert result == '<img src="/att/1&quot; onerror=&quot;alert(1)">'


def test_entity_encoded_cid_reference_is_decoded_before_matching() -> None:
    attachment = image(content_id="a&b")
    assert resolve_cid_references('<img src="cid:a&amp;b">', [attachment], link) == (
        '<img src="/att/55">'
    )


# --- embed -------------------------------------------------------------------------------


def test_inline_image_is_embedded_as_base64_data_url() -> None:
    html = '<img src="cid:img1">'
    assert embed_inline(html, [image()], data) == '<img src="data:image/png;base64,iVBORw0K">'


def test_embedding_uses_the_bare_lower_case_media_type() -> None:
    attachment = image(content_type='IMAGE/PNG; name="photo.png"')
    assert embed_inline('<img src="cid:img1">', [attachment], data) == (
        '<img src="data:image/png;base64,iVBORw0K">'
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "application/pdf",
        "image/svg+xml",
        'image/png"><script>alert(1)</script>',
        "image/",
        "image",
    ],
)
def test_only_plain_raster_image_types_are_embedded(content_type: str) -> None:
    html = '<img src="cid:img1">'
    assert embed_inline(html, [image(content_type=content_type)], data) == html


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("image/jpeg", "image/jpeg"),
        ("Image/GIF", "image/gif"),
        ("image/png; charset=x", "image/png"),
        ("image/svg+xml", None),
        ("text/plain", None),
        ("image/pn g", None),
    ],
)
def test_embeddable_media_type(content_type: str, expected: str | None) -> None:
    assert embeddable_media_type(content_type) == expected


def test_reference_whose_bytes_are_not_at_hand_stays_a_cid_url() -> None:
    html = '<img src="cid:img1">'
    assert embed_inline(html, [image(sha256="b" * 64)], data) == html


def test_referenced_attachments_lists_each_referenced_attachment_once_in_order() -> None:
    first = image(content_id="one", id=1)
    second = image(content_id="two", id=2)
    unused = image(content_id="three", id=3)
    html = '<img src="cid:two"><img src="cid:one"><img src="cid:two">'
    assert referenced_attachments(html, [first, second, unused]) == [second, first]
