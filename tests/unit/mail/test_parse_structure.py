"""Which parts are bodies and which are attachments (RFC 2046, RFC 2387, RFC 2183), how their
bytes are decoded, and what happens when the structure or the stdlib parser misbehaves."""

from __future__ import annotations

import base64
import binascii

from emaildesk.mail.parse import parse_message
from support import tricky_mail as tm


def mixed(*parts: bytes, boundary: str = "mx", subtype: str = "mixed", extra: str = "") -> bytes:
    return tm.eml(
        [
            *tm.basic_headers("Structure"),
            f'Content-Type: multipart/{subtype}; boundary="{boundary}"{extra}',
        ],
        tm.multipart(subtype, boundary, list(parts)),
    )


TEXT = tm.part(["Content-Type: text/plain; charset=utf-8"], b"Body text")
IMAGE = tm.part(
    ["Content-Type: image/png", "Content-Transfer-Encoding: base64"], tm.b64_lines(tm.PNG_BYTES)
)


def test_text_parts_shown_in_sequence_are_joined() -> None:
    """Apple Mail's text, inline picture, text: multipart/mixed is displayed serially."""
    second = tm.part(["Content-Type: text/plain; charset=utf-8"], b"After the picture")
    parsed = parse_message(mixed(TEXT, IMAGE, second))
    assert parsed.text == "Body text\nAfter the picture"
    (image,) = parsed.attachments
    assert (image.file_name, image.data, image.inline) == ("attachment-1.png", tm.PNG_BYTES, False)


def test_text_with_attachment_disposition_is_an_attachment() -> None:
    notes = tm.part(
        ["Content-Type: text/plain; charset=utf-8", "Content-Disposition: attachment"],
        b"notes",
    )
    parsed = parse_message(mixed(TEXT, notes))
    assert parsed.text == "Body text"
    assert [(a.file_name, a.content_type, a.data) for a in parsed.attachments] == [
        ("attachment-1.txt", "text/plain", b"notes")
    ]


def test_part_with_a_file_name_but_no_disposition_is_an_attachment() -> None:
    page = tm.part(['Content-Type: text/html; name="page.html"'], b"<p>saved page</p>")
    parsed = parse_message(mixed(TEXT, page))
    assert parsed.html is None
    assert [(a.file_name, a.data) for a in parsed.attachments] == [
        ("page.html", b"<p>saved page</p>")
    ]


def test_calendar_alternative_is_kept_as_an_attachment() -> None:
    """An invitation's text/calendar is an alternative, and the one the recipient needs."""
    calendar = tm.part(["Content-Type: text/calendar; method=REQUEST"], b"BEGIN:VCALENDAR")
    parsed = parse_message(mixed(TEXT, calendar, subtype="alternative", boundary="alt"))
    assert parsed.text == "Body text"
    assert [(a.file_name, a.content_type) for a in parsed.attachments] == [
        ("attachment-1.ics", "text/calendar")
    ]


def test_related_root_is_the_start_parameter() -> None:
    cover = tm.part(["Content-Type: text/html", "Content-ID: <cover@x>"], b'<img src="cid:pic@x">')
    picture = tm.part(
        [
            "Content-Type: image/png",
            "Content-Transfer-Encoding: base64",
            "Content-ID: <pic@x>",
        ],
        tm.b64_lines(tm.PNG_BYTES),
    )
    raw = mixed(picture, cover, subtype="related", boundary="rel", extra='; start="<cover@x>"')
    parsed = parse_message(raw)
    assert parsed.html == '<img src="cid:pic@x">'
    (image,) = parsed.attachments
    assert (image.content_id, image.inline, image.data) == ("pic@x", True, tm.PNG_BYTES)


def test_inline_needs_a_reference_or_an_inline_disposition() -> None:
    """The contract's inline rule: referenced by cid:, or disposition inline with an id."""
    html = tm.part(["Content-Type: text/html"], b'<img src="CID:Ref%40x">')  # RFC 2392 encoded
    referenced = tm.part(["Content-Type: image/png", "Content-ID: <Ref@x>"], b"r")
    declared = tm.part(
        ["Content-Type: image/png", "Content-ID: <decl@x>", "Content-Disposition: inline"], b"d"
    )
    unused = tm.part(["Content-Type: image/png", "Content-ID: <unused@x>"], b"u")
    parsed = parse_message(mixed(html, referenced, declared, unused, subtype="related"))
    assert [(a.content_id, a.inline) for a in parsed.attachments] == [
        ("Ref@x", True),
        ("decl@x", True),
        ("unused@x", False),
    ]


def test_text_line_breaks_are_normalised_and_html_is_kept_as_sent() -> None:
    html = tm.part(["Content-Type: text/html"], b"<p>a</p>\r\n<script>x()</script>\r\n")
    text = tm.part(["Content-Type: text/plain"], b"line one\r\nline two\rline three")
    parsed = parse_message(mixed(text, html, subtype="alternative"))
    assert parsed.text == "line one\nline two\nline three"
    assert parsed.html == "<p>a</p>\r\n<script>x()</script>\r\n"  # not sanitized here


def test_html_charset_comes_from_its_meta_when_the_header_has_none() -> None:
    html = b'<html><head><meta charset="iso-8859-1"></head><body>caf\xe9</body></html>'
    parsed = parse_message(mixed(tm.part(["Content-Type: text/html"], html)))
    assert parsed.html is not None
    assert "café" in parsed.html
    assert parsed.defects == []


def test_bytes_invalid_in_the_declared_charset_fall_back_with_a_defect() -> None:
    text = tm.part(["Content-Type: text/plain; charset=utf-8"], b"caf\xe9")
    parsed = parse_message(mixed(text))
    assert parsed.text == "café"
    assert parsed.defects == [
        "part 2 (text/plain): bytes not valid in declared charset 'utf-8', decoded as cp1252"
    ]


def test_quoted_printable_and_binary_attachments_are_byte_exact() -> None:
    data = bytes(range(256)) + b"\r\n\r\x00\n--mx-not-a-boundary\n"
    qp = tm.part(
        [
            "Content-Type: application/octet-stream",
            "Content-Transfer-Encoding: quoted-printable",
            'Content-Disposition: attachment; filename="qp.bin"',
        ],
        binascii.b2a_qp(data, istext=False),  # binary: CR and LF encoded too
    )
    raw_binary = tm.part(
        [
            "Content-Type: application/octet-stream",
            "Content-Transfer-Encoding: binary",
            'Content-Disposition: attachment; filename="raw.bin"',
        ],
        data,
    )
    parsed = parse_message(mixed(TEXT, qp, raw_binary))
    assert [(a.file_name, a.data) for a in parsed.attachments] == [
        ("qp.bin", data),
        ("raw.bin", data),
    ]


def test_uuencoded_attachment_is_decoded() -> None:
    encoded = b"begin 644 u.bin\n" + binascii.b2a_uu(b"uu data") + b"`\nend\n"
    part = tm.part(
        [
            "Content-Type: application/octet-stream",
            "Content-Transfer-Encoding: x-uuencode",
            'Content-Disposition: attachment; filename="u.bin"',
        ],
        encoded,
    )
    (attachment,) = parse_message(mixed(TEXT, part)).attachments
    assert attachment.data == b"uu data"


def test_unknown_transfer_encoding_keeps_the_bytes_with_a_defect() -> None:
    part = tm.part(
        [
            "Content-Type: application/octet-stream",
            "Content-Transfer-Encoding: x-gzip64",
            'Content-Disposition: attachment; filename="z.bin"',
        ],
        b"H4sIAAAA",
    )
    parsed = parse_message(mixed(TEXT, part))
    assert parsed.attachments[0].data == b"H4sIAAAA"
    assert parsed.defects == [
        "part 3 (application/octet-stream):"
        " unknown Content-Transfer-Encoding 'x-gzip64', kept as is"
    ]


def test_base64_wrapped_forwarded_message_is_unwrapped() -> None:
    """RFC 2046 §5.2.1 forbids encoding message/rfc822; some webmail does it anyway."""
    wrapped = tm.part(
        ["Content-Type: message/rfc822", "Content-Transfer-Encoding: base64"],
        tm.b64_lines(tm.FORWARDED_INNER),
    )
    (forwarded,) = parse_message(mixed(TEXT, wrapped)).attachments
    assert forwarded.data == tm.FORWARDED_INNER
    assert forwarded.file_name == "Original question.eml"


def test_forwarded_message_is_re_serialized_when_its_bytes_cannot_be_found() -> None:
    """A stray close delimiter right after a delimiter: the stdlib parser still finds a second
    part, a boundary split does not; the parsed copy is written out instead."""
    raw = tm.eml(
        [*tm.basic_headers("Odd"), 'Content-Type: multipart/mixed; boundary="b"'],
        b"--b\r\nContent-Type: text/plain\r\n\r\nA\r\n--b\r\n--b--\r\n"
        b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n",
    )
    parsed = parse_message(raw)
    (forwarded,) = parsed.attachments
    assert forwarded.file_name == "inner.eml"
    assert forwarded.data.startswith(b"Subject: inner\r\n\r\ninner body")
    assert "part 3 (message/rfc822): original bytes not found, re-serialized" in parsed.defects


def test_top_level_forwarded_message_is_an_attachment() -> None:
    raw = tm.eml([*tm.basic_headers("Whole"), "Content-Type: message/rfc822"], tm.FORWARDED_INNER)
    parsed = parse_message(raw)
    assert (parsed.text, parsed.html) == (None, None)
    (forwarded,) = parsed.attachments
    assert (forwarded.data, forwarded.forwarded_message) == (tm.FORWARDED_INNER, True)


def test_top_level_image_is_an_attachment_and_there_is_no_body() -> None:
    raw = tm.eml(
        [*tm.basic_headers("Scan"), "Content-Type: image/png", "Content-Transfer-Encoding: base64"],
        base64.b64encode(tm.PNG_BYTES),
    )
    parsed = parse_message(raw)
    assert (parsed.text, parsed.html) == (None, None)
    assert [(a.file_name, a.data) for a in parsed.attachments] == [
        ("attachment-1.png", tm.PNG_BYTES)
    ]


def test_tnef_without_a_name_is_called_winmail_dat() -> None:
    raw = tm.attachment_message(
        "Content-Disposition: attachment", "application/ms-tnef", tm.b64_lines(tm.TNEF_BYTES)
    )
    (tnef,) = parse_message(raw).attachments
    assert (tnef.file_name, tnef.content_type, tnef.data) == (
        "winmail.dat",
        "application/ms-tnef",
        tm.TNEF_BYTES,
    )


def test_boundary_that_never_appears_keeps_the_body_as_text() -> None:
    raw = tm.eml(
        [*tm.basic_headers("Lost"), 'Content-Type: multipart/mixed; boundary="nowhere"'],
        b"just some text\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.text == "just some text\n"
    assert "part 1 (multipart/mixed): StartBoundaryNotFoundDefect" in parsed.defects


def test_default_policy_failure_falls_back_to_compat32() -> None:
    """Thousands of nested comments make the default policy's Content-Type parser recurse
    until RecursionError; compat32 reads the same header as a plain string."""
    content_type = "Content-Type: text/plain; charset=utf-8 " + "(" * 5_000
    parsed = parse_message(tm.eml([*tm.basic_headers("Comments"), content_type], b"caf\xc3\xa9"))
    assert parsed.text == "café"
    assert parsed.defects[0] == (
        "MIME structure re-parsed with compat32 after RecursionError under the default policy"
    )
