"""Outbound composition (emaildesk.mail.compose): structure, round trip through the stdlib
parser, folding, and that no field value can ever create a header."""

from __future__ import annotations

import email.policy
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from emaildesk.mail.compose import (
    ComposeError,
    OutboundAttachment,
    OutboundEmail,
    compose,
    envelope_recipients,
)

MESSAGE_ID = "ed.1042.5531.abcdefgh.abcdefghabcdefgh@desk.example.com"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4


def outbound(**overrides: object) -> OutboundEmail:
    base = OutboundEmail(
        from_address="support@example.com",
        from_name="Support",
        to=["jane@customer.org"],
        cc=[],
        bcc=[],
        reply_to=None,
        subject="Re: [#1042] Your order",
        text="Hello Jane,\nyour order ships today.\n",
        html=None,
        message_id=MESSAGE_ID,
        in_reply_to=None,
        references=[],
        date=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        attachments=[],
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def parse(message: EmailMessage) -> EmailMessage:
    raw = message.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def lines(text: str) -> list[str]:
    """Bodies travel as lines (CRLF on the wire, RFC 5322 §2.3): compare them line by line."""
    return text.splitlines()


def top_headers(message: EmailMessage) -> list[str]:
    return [name.lower() for name in message]


BASE_HEADERS = ["from", "to", "subject", "date", "message-id", "mime-version"]
CONTENT_HEADERS = {"content-type", "content-transfer-encoding"}


# --- structure ------------------------------------------------------------------------------


def test_text_only_is_a_single_text_plain_part() -> None:
    parsed = parse(compose(outbound()))
    assert parsed.get_content_type() == "text/plain"
    assert set(top_headers(parsed)) == set(BASE_HEADERS) | CONTENT_HEADERS


def test_html_only_is_a_single_text_html_part() -> None:
    parsed = parse(compose(outbound(text=None, html="<p>Hello</p>")))
    assert parsed.get_content_type() == "text/html"
    assert lines(parsed.get_content()) == ["<p>Hello</p>"]


def test_no_body_is_an_empty_text_part() -> None:
    parsed = parse(compose(outbound(text=None, html=None)))
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content().strip() == ""


def test_text_and_html_are_alternatives() -> None:
    parsed = parse(compose(outbound(html="<p>Hello Jane</p>")))
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_inline_images_are_related_to_the_html() -> None:
    logo = OutboundAttachment("logo.png", "image/png", PNG, inline=True, content_id="logo@x")
    report = OutboundAttachment("report.pdf", "application/pdf", PDF)
    parsed = parse(compose(outbound(html='<img src="cid:logo@x">', attachments=[logo, report])))
    assert parsed.get_content_type() == "multipart/mixed"
    body, attached = list(parsed.iter_parts())
    assert body.get_content_type() == "multipart/alternative"
    plain, related = list(body.iter_parts())
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, image = list(related.iter_parts())
    assert html.get_content_type() == "text/html"
    assert image["Content-ID"] == "<logo@x>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == PNG
    assert attached.get_content_disposition() == "attachment"
    assert attached.get_content() == PDF


def test_inline_image_without_html_is_an_ordinary_attachment() -> None:
    logo = OutboundAttachment("logo.png", "image/png", PNG, inline=True, content_id="logo@x")
    parsed = parse(compose(outbound(attachments=[logo])))
    assert parsed.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "image/png"]
    (image,) = parsed.iter_attachments()
    assert image.get_content() == PNG
    assert image["Content-ID"] == "<logo@x>"


def test_inline_attachment_needs_a_content_id() -> None:
    logo = OutboundAttachment("logo.png", "image/png", PNG, inline=True)
    with pytest.raises(ComposeError) as caught:
        compose(outbound(html="<p>x</p>", attachments=[logo]))
    assert caught.value.field == "attachments[0].content_id"


def test_body_parts_carry_no_mime_version() -> None:
    """MIME-Version belongs on the message only (RFC 2045 §4)."""
    logo = OutboundAttachment("logo.png", "image/png", PNG, inline=True, content_id="logo@x")
    message = compose(outbound(html="<p>x</p>", attachments=[logo]))
    parts = list(message.walk())
    assert len(parts) == 5
    assert [p for p in parts[1:] if "MIME-Version" in p] == []
    assert message.as_bytes().count(b"MIME-Version") == 1


# --- round trip ------------------------------------------------------------------------------


def test_round_trip_keeps_every_field() -> None:
    attachments = [
        OutboundAttachment("logo.png", "image/png", PNG, inline=True, content_id="logo.1@x"),
        OutboundAttachment("Rechnung März.pdf", "application/pdf", PDF),
        OutboundAttachment("notes.txt", "text/plain; charset=latin-1", "café\n".encode("latin-1")),
    ]
    sent = outbound(
        from_name="Jöhn Smith, Jr.",
        to=["jane@customer.org", "bob@customer.org"],
        cc=["carol@partner.net"],
        bcc=["audit@example.com"],
        reply_to="replies@example.com",
        subject="Re: [#1042] Ihre Bestellung — naïve café ✓",
        text="Grüße,\nJöhn\n\n" + "long line " * 200 + "\n",
        html='<p>Grüße</p><img src="cid:logo.1@x">',
        in_reply_to="CAF=abc@mail.gmail.com",
        references=["first@a.example", "CAF=abc@mail.gmail.com"],
        date=datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2))),
        attachments=attachments,
    )
    parsed = parse(compose(sent))

    assert parsed["Subject"] == sent.subject
    (sender,) = parsed["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Jöhn Smith, Jr.", "support@example.com")
    assert [a.addr_spec for a in parsed["To"].addresses] == sent.to
    assert [a.addr_spec for a in parsed["Cc"].addresses] == sent.cc
    assert [a.addr_spec for a in parsed["Reply-To"].addresses] == ["replies@example.com"]
    assert parsed["Message-ID"] == f"<{MESSAGE_ID}>"
    assert parsed["In-Reply-To"] == "<CAF=abc@mail.gmail.com>"
    assert parsed["References"].split() == ["<first@a.example>", "<CAF=abc@mail.gmail.com>"]
    assert parsed["Date"].datetime == sent.date
    assert parsed["MIME-Version"] == "1.0"
    assert "Bcc" not in parsed
    assert "Auto-Submitted" not in parsed

    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert lines(text.get_content()) == lines(sent.text or "")
    assert lines(html.get_content()) == lines(sent.html or "")

    inline = [p for p in parsed.walk() if p.get("Content-ID")]
    assert [(p.get_filename(), p.get_content()) for p in inline] == [("logo.png", PNG)]
    got = [
        (a.get_filename(), a.get_content_type(), a.get_payload(decode=True))
        for a in parsed.iter_attachments()
    ]
    assert got == [
        ("Rechnung März.pdf", "application/pdf", PDF),
        ("notes.txt", "text/plain", "café\n".encode("latin-1")),
    ]
    (notes,) = [a for a in parsed.iter_attachments() if a.get_filename() == "notes.txt"]
    assert notes.get_content_charset() == "latin-1"


def test_wire_format_is_seven_bit_with_short_lines() -> None:
    """Non-ASCII names, subject, file names and bodies are encoded (RFC 2047, RFC 2231,
    quoted-printable): no relay needs 8BITMIME or SMTPUTF8, and no line passes 998 octets."""
    sent = outbound(
        from_name="Jöhn",
        subject="Grüße " * 40,
        text="Grüße " * 500,
        html="<p>" + "x" * 5000 + "</p>",
        attachments=[OutboundAttachment("Überweisung.pdf", "application/pdf", PDF)],
    )
    raw = compose(sent).as_bytes()
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert b"filename*=utf-8''%C3%9Cberweisung.pdf" in raw
    assert b"From: =?utf-8?q?J=C3=B6hn?= <support@example.com>" in raw
    parsed = parse(compose(sent))
    assert parsed["Subject"] == sent.subject


def test_lines_end_in_crlf() -> None:
    raw = compose(outbound(text="a\nb\rc\r\nd")).as_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")


def test_composite_attachment_travels_as_octet_stream() -> None:
    """A forwarded .eml cannot be sent base64 as message/rfc822 (RFC 2046 §5.2.1); its bytes
    must arrive unchanged, so it goes as application/octet-stream under its file name."""
    eml = b"From: a@b.c\r\nSubject: old\r\n\r\nbody\r\n"
    parsed = parse(
        compose(outbound(attachments=[OutboundAttachment("old.eml", "message/rfc822", eml)]))
    )
    (attachment,) = parsed.iter_attachments()
    assert attachment.get_content_type() == "application/octet-stream"
    assert attachment.get_filename() == "old.eml"
    assert attachment.get_payload(decode=True) == eml


@pytest.mark.parametrize("content_type", ["", "nonsense", "image/", "a b/c", "text/plain x/y"])
def test_unreadable_content_type_becomes_octet_stream(content_type: str) -> None:
    attachment = OutboundAttachment("f.bin", content_type, b"\x00\x01")
    (part,) = parse(compose(outbound(attachments=[attachment]))).iter_attachments()
    assert part.get_content_type() == "application/octet-stream"
    assert part.get_payload(decode=True) == b"\x00\x01"


# --- threading and automatic mail headers ----------------------------------------------------


def test_references_fold_between_ids_and_are_never_encoded() -> None:
    references = [f"{'m' * 40}.{i}@mail{i}.example.org" for i in range(60)]
    references.append("x" * 300 + "@long.example")  # longer than a folded line
    raw = compose(outbound(in_reply_to=references[-1], references=references)).as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "=?" not in head
    block = head[head.index("References:") : head.index("MIME-Version:")]
    folded = block.split("\r\n")[:-1]
    assert len(folded) > 50
    for line in folded:
        assert len(line) <= 78 or line.strip().count("<") == 1
    parsed = parse(compose(outbound(in_reply_to=references[-1], references=references)))
    assert parsed["References"].split() == [f"<{r}>" for r in references]
    assert parsed["In-Reply-To"] == f"<{references[-1]}>"


def test_long_message_id_is_not_encoded() -> None:
    long_id = "ed.1.2.abcdefgh.abcdefghabcdefgh@" + ".".join(["sub"] * 40) + ".example"
    parsed = parse(compose(outbound(message_id=long_id)))
    assert parsed["Message-ID"] == f"<{long_id}>"


def test_thread_ids_with_angle_brackets_are_normalised() -> None:
    parsed = parse(compose(outbound(in_reply_to="<a@b>", references=["<a@b>"])))
    assert parsed["In-Reply-To"] == "<a@b>"
    assert parsed["References"] == "<a@b>"


def test_malformed_thread_ids_are_left_out() -> None:
    parsed = parse(
        compose(outbound(in_reply_to="no at sign", references=["ok@x", "a b@c", "<x>@y", "nope"]))
    )
    assert "In-Reply-To" not in parsed
    assert parsed["References"] == "<ok@x>"


@pytest.mark.parametrize("message_id", ["<a@b>", "a b@c", "no-at-sign", "a@b@c", "", "a@"])
def test_own_message_id_must_be_a_valid_msg_id(message_id: str) -> None:
    with pytest.raises(ComposeError) as caught:
        compose(outbound(message_id=message_id))
    assert caught.value.field == "message_id"


@pytest.mark.parametrize("value", ["auto-replied", "auto-generated"])
def test_auto_submitted_is_written_when_set(value: str) -> None:
    parsed = parse(compose(outbound(auto_submitted=value)))
    assert parsed["Auto-Submitted"] == value


@pytest.mark.parametrize("value", ["no", "yes", "auto-replied; x=1", ""])
def test_auto_submitted_accepts_only_automatic_values(value: str) -> None:
    with pytest.raises(ComposeError) as caught:
        compose(outbound(auto_submitted=value))
    assert caught.value.field == "auto_submitted"


def test_date_must_be_timezone_aware() -> None:
    with pytest.raises(ComposeError) as caught:
        compose(outbound(date=datetime(2024, 1, 1)))
    assert caught.value.field == "date"


# --- addresses and recipients ------------------------------------------------------------------


def test_bcc_is_never_a_header_but_is_a_recipient() -> None:
    sent = outbound(bcc=["hidden@example.net"])
    raw = compose(sent).as_bytes()
    assert b"hidden@example.net" not in raw
    assert b"Bcc" not in raw
    assert "hidden@example.net" in envelope_recipients(sent)


def test_envelope_recipients_are_to_cc_bcc_deduplicated() -> None:
    sent = outbound(
        to=["jane@customer.org", "bob@customer.org"],
        cc=["jane@CUSTOMER.org", "carol@partner.net"],
        bcc=["bob@customer.org", "audit@example.com", " carol@partner.net "],
    )
    assert envelope_recipients(sent) == [
        "jane@customer.org",
        "bob@customer.org",
        "carol@partner.net",
        "audit@example.com",
    ]


def test_envelope_recipients_keep_local_part_case() -> None:
    """RFC 5321 §2.4: the local part may be case-sensitive; only the domain is not."""
    sent = outbound(to=["Jane@customer.org"], cc=["jane@customer.org"])
    assert envelope_recipients(sent) == ["Jane@customer.org", "jane@customer.org"]


def test_international_domains_become_idna() -> None:
    sent = outbound(to=["jane@exämple.org"])
    parsed = parse(compose(sent))
    assert [a.addr_spec for a in parsed["To"].addresses] == ["jane@xn--exmple-cua.org"]
    assert envelope_recipients(sent) == ["jane@xn--exmple-cua.org"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", ["jane@customer.org, evil@attacker.example"]),
        ("to", ["Jane <jane@customer.org>"]),
        ("cc", ["ok@x.org", "jane@customer.org;evil@attacker.example"]),
        ("bcc", ["jöhn@customer.org"]),
        ("to", ["no-at-sign"]),
        ("to", ["a@b@c"]),
        ("to", ["jane@"]),
        ("to", ["@customer.org"]),
        ("to", ["a@b..c"]),
        ("to", ["jane@customer.org (comment)"]),
        ("reply_to", "a@b.c d@e.f"),
        ("from_address", "evil@attacker.example>, <x@y"),
    ],
)
def test_a_single_address_field_holds_exactly_one_address(field: str, value: object) -> None:
    sent = outbound(**{field: value})
    with pytest.raises(ComposeError) as caught:
        compose(sent)
    assert caught.value.field.split("[")[0] == field
    if field in ("to", "cc", "bcc"):
        with pytest.raises(ComposeError):
            envelope_recipients(sent)


def test_display_name_cannot_smuggle_an_address() -> None:
    name = 'Support" <evil@attacker.example>, "x'
    parsed = parse(compose(outbound(from_name=name)))
    (sender,) = parsed["From"].addresses
    assert sender.addr_spec == "support@example.com"
    assert sender.display_name == name


# --- header injection ----------------------------------------------------------------------------

BREAKS = ["\r\n", "\n", "\r", "\x00", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\x1e"]
INJECTED = "Bcc: evil@attacker.example"


def with_value(field: str, value: str) -> OutboundEmail:
    """An email with `value` in `field` (list fields get it as their only element)."""
    attachment = OutboundAttachment("a.png", "image/png", PNG, inline=True, content_id="a@x")
    if field.startswith("attachments."):
        name = field.split(".", 1)[1]
        return outbound(html="<p/>", attachments=[replace(attachment, **{name: value})])  # type: ignore[arg-type]
    if field in ("to", "cc", "bcc", "references"):
        return outbound(**{field: [value]})
    return outbound(**{field: value})


FIELDS = [
    ("from_address", "support@example.com"),
    ("from_name", "Support"),
    ("to", "jane@customer.org"),
    ("cc", "jane@customer.org"),
    ("bcc", "jane@customer.org"),
    ("reply_to", "jane@customer.org"),
    ("subject", "Hello"),
    ("message_id", MESSAGE_ID),
    ("in_reply_to", "a@b.example"),
    ("references", "a@b.example"),
    ("auto_submitted", "auto-replied"),
    ("attachments.file_name", "a.png"),
    ("attachments.content_type", "image/png"),
    ("attachments.content_id", "a@x"),
]


@pytest.mark.parametrize("brk", BREAKS, ids=repr)
@pytest.mark.parametrize(("field", "good"), FIELDS, ids=[f for f, _ in FIELDS])
def test_line_break_in_any_header_field_is_rejected_naming_the_field(
    field: str, good: str, brk: str
) -> None:
    compose(with_value(field, good))  # the good value itself composes
    for value in (good + brk + INJECTED, brk + good, good + brk):
        sent = with_value(field, value)
        with pytest.raises(ComposeError) as caught:
            compose(sent)
        expected = field.replace("attachments.", "attachments[0].")
        if field in ("to", "cc", "bcc", "references"):
            expected += "[0]"
        assert caught.value.field == expected
        assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("subject", "subject"),
        ("from_name", "from_name"),
        ("attachments.file_name", "attachments[0].file_name"),
    ],
)
def test_encoded_word_that_decodes_to_a_line_break_is_rejected(field: str, expected: str) -> None:
    """The stdlib folder decodes RFC 2047 words it finds in a value (CVE-2024-6923 before
    Python 3.11.10) and would write this CRLF; the final fold check refuses it."""
    with pytest.raises(ComposeError) as caught:
        compose(with_value(field, "Hello " + ENCODED_CRLF))
    assert caught.value.field == expected


def test_encoded_word_that_decodes_harmlessly_is_kept() -> None:
    parsed = parse(compose(outbound(subject="=?utf-8?q?Gr=C3=BC=C3=9Fe?= from us")))
    assert parsed["Subject"] == "Grüße from us"


@pytest.mark.parametrize("field", ["to", "cc", "bcc", "reply_to", "from_address"])
def test_encoded_word_is_not_an_address(field: str) -> None:
    """RFC 2047 §5: never in an addr-spec; the header would name someone else than RCPT TO."""
    value = "=?utf-8?q?boss?=@example.com"
    with pytest.raises(ComposeError) as caught:
        compose(with_value(field, value))
    assert caught.value.field.split("[")[0] == field


@pytest.mark.parametrize("field", ["to", "cc", "bcc"])
def test_line_break_in_a_recipient_never_reaches_the_envelope(field: str) -> None:
    """A CR/LF in RCPT TO would be SMTP command injection (RFC 5321 §4.1.1.3)."""
    with pytest.raises(ComposeError):
        envelope_recipients(with_value(field, "jane@customer.org\r\nDATA"))


ENCODED_CRLF = "=?utf-8?q?x=0D=0ABcc=3A_evil=40attacker.example?="
HOSTILE = [
    "x\r\nBcc: evil@attacker.example",
    "x\nX-Injected: yes",
    "x\r\n\r\n<html>body</html>",
    "=?utf-8?q?x=0D=0ABcc=3A_evil=40attacker.example?=",
    "=?utf-8?b?eA0KQmNjOiBldmlsQGF0dGFja2VyLmV4YW1wbGU=?=",
    'x"\r\nBcc: evil@attacker.example',
    'x; filename="evil.exe"\r\nX-Injected: 1',
    "x>, <evil@attacker.example",
    "x\u2028Bcc: evil@attacker.example",
    "\tX-Injected: folded",
    " " * 200 + "X-Injected: after a fold",
    "x" * 2000,
    "é" * 300,
    ENCODED_CRLF + "@example.com",
    "=?utf-7?q?x+AA0ACg-Bcc=3A_evil=40attacker.example?=",
    "=?utf-16?b?AHgADQAKAEIAYwBjADoAIABl?=",
    "=?iso-8859-1?q?x=0ABcc=3A_evil?= =?utf-8?b?DQo=?=",
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize(("field", "good"), FIELDS, ids=[f for f, _ in FIELDS])
def test_no_composition_can_ever_produce_an_extra_header(
    field: str, good: str, hostile: str
) -> None:
    """Whatever goes into a field, the composed message either is refused or, parsed back by the
    stdlib, has exactly the headers we write, one From address and no Bcc."""
    for value in (hostile, good + hostile):
        try:
            message = compose(with_value(field, value))
        except ComposeError:
            continue
        raw = message.as_bytes()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        names = {name.lower() for name in parsed}
        allowed = (
            set(BASE_HEADERS)
            | CONTENT_HEADERS
            | {"cc", "reply-to", "in-reply-to", "references", "auto-submitted"}
        )
        assert names <= allowed, (field, value, names - allowed)
        assert "bcc" not in names
        assert len(parsed.get_all("From") or []) == 1
        assert len(parsed["From"].addresses) == 1
        assert not parsed.defects, parsed.defects
        for part in list(parsed.walk())[1:]:
            part_names = {name.lower() for name in part}
            assert part_names <= CONTENT_HEADERS | {"content-disposition", "content-id"}
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_display_name_that_cannot_be_folded_is_rejected() -> None:
    """RFC 5322 §2.1.1: no line over 998 octets, and a single word cannot be folded."""
    with pytest.raises(ComposeError) as caught:
        compose(outbound(from_name="x" * 1200))
    assert caught.value.field == "from_name"
    parsed = parse(compose(outbound(from_name="word " * 200)))
    assert parsed["From"].addresses[0].display_name == ("word " * 200).strip()
