"""Header fields as `parse_message` reads them: RFC 2047 words, address lists, message ids,
dates, List-Id, and MIME parameters (RFC 2231), each rule on a message built for it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emaildesk.mail.parse import ParsedEmail, parse_message
from support import tricky_mail as tm


def with_headers(*lines: str) -> ParsedEmail:
    """A message of these header lines (folded as written), a From unless one is given, and a
    short body."""
    has_from = any(line.lower().startswith("from:") for line in lines)
    return parse_message(tm.eml(list(lines) if has_from else ["From: a@example.org", *lines]))


# --- RFC 2047 encoded words -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=?utf-8?q?caf=C3=A9?= =?utf-8?q?_au_lait?=", "café au lait"),
        ("Re: =?iso-8859-1?q?caf=E9?=\r\n =?koi8-r?b?8NLJ18XU?= !", "Re: caféПривет !"),
        ("=?UTF-8?B?4oKs?=\t=?UTF-8?Q?_rates?=", "€ rates"),
        ("=?utf-8?b?w6k=?= plain =?utf-8?b?w6k=?=", "é plain é"),
        ("=?utf-8*en?q?hello?=", "hello"),
        ("=?utf-8?B?w6k?=", "é"),
    ],
    ids=["joined-words", "charsets-mixed", "tab-between", "text-between", "language", "no-pad"],
)
def test_encoded_words_are_decoded_and_the_space_between_them_dropped(
    raw: str, expected: str
) -> None:
    """RFC 2047 §6.2: whitespace between adjacent encoded words is not text; around plain
    text it is."""
    assert with_headers(f"Subject: {raw}").subject == expected


def test_a_character_split_across_two_encoded_words_is_joined() -> None:
    """Encoders cut multi-byte characters between words; adjacent words in one charset are
    decoded together so the character survives."""
    parsed = with_headers("Subject: =?utf-8?q?=E2?= =?utf-8?q?=82=AC?=")  # "€" in utf-8
    assert parsed.subject == "€"
    assert parsed.defects == []


def test_undecodable_encoded_word_is_kept_as_written() -> None:
    parsed = with_headers("Subject: before =?utf-8?b?!!!?= after")
    assert parsed.subject == "before =?utf-8?b?!!!?= after"
    assert parsed.defects == ["Subject: undecodable encoded word '=?utf-8?b?!!!?=' kept"]


def test_raw_utf8_header_is_decoded_as_rfc6532_allows() -> None:
    assert with_headers("Subject: Grüße direkt").subject == "Grüße direkt"


def test_subject_is_unfolded_and_trimmed() -> None:
    assert (
        with_headers("Subject:   a long\r\n subject\r\n\tfolded  ").subject
        == "a long subject\tfolded"
    )


# --- addresses ------------------------------------------------------------------------------


def test_display_name_with_an_encoded_comma_stays_one_mailbox() -> None:
    """Addresses are split before encoded words are decoded (RFC 2047 §5)."""
    parsed = with_headers(
        "From: =?utf-8?q?Smith=2C_J=C3=B6rg?= <jorg@example.org>", "To: a@example.org"
    )
    assert (parsed.from_name, parsed.from_address) == ("Smith, Jörg", "jorg@example.org")


def test_invalid_addresses_are_skipped_with_a_defect() -> None:
    parsed = with_headers(
        "From: jane@example.org",
        'To: "Quoted, Name" <q@example.org>, invalid@@x, no-at-all, b@example.org',
        "Cc: undisclosed-recipients:;",
    )
    assert parsed.to == ["q@example.org", "b@example.org"]
    assert parsed.cc == []
    # What getaddresses makes of the broken ones is what the defect repeats.
    assert parsed.defects == [
        "To: invalid address '@x' skipped",
        "To: invalid address 'no-at-all' skipped",
    ]


def test_idn_domains_and_utf8_local_parts_are_kept_as_written() -> None:
    parsed = with_headers("From: Jörg <jörg@bücher.example>", "To: support@xn--bcher-kva.example")
    assert parsed.from_address == "jörg@bücher.example"
    assert parsed.to == ["support@xn--bcher-kva.example"]


def test_repeated_address_fields_are_all_read() -> None:
    parsed = with_headers("From: a@example.org", "To: b@example.org", "To: c@example.org")
    assert parsed.to == ["b@example.org", "c@example.org"]


def test_first_from_and_reply_to_mailbox_win() -> None:
    parsed = with_headers(
        "From: First <first@example.org>, second@example.org",
        "Reply-To: replies@example.org, other@example.org",
    )
    assert (parsed.from_address, parsed.from_name) == ("first@example.org", "First")
    assert parsed.reply_to == "replies@example.org"


def test_comment_display_name_is_used() -> None:
    assert with_headers("From: jane@example.org (Jane Doe)").from_name == "Jane Doe"


def test_from_without_a_valid_address_gives_no_sender() -> None:
    parsed = with_headers("From: Just A Name")
    assert (parsed.from_address, parsed.from_name) == (None, "")
    assert parsed.defects == ["From: invalid address 'Just' skipped"]


# --- message identifiers --------------------------------------------------------------------


def test_message_ids_lose_brackets_and_whitespace() -> None:
    parsed = with_headers("From: a@example.org", "Message-ID: < abc@example.org >")
    assert parsed.message_id == "abc@example.org"


def test_message_id_without_brackets_is_taken_as_written() -> None:
    assert with_headers("Message-ID: abc@example.org").message_id == "abc@example.org"


def test_in_reply_to_takes_the_id_out_of_a_phrase() -> None:
    parsed = with_headers('In-Reply-To: Your message of "Mon, 4 Mar" <parent@example.org>')
    assert parsed.in_reply_to == "parent@example.org"


def test_in_reply_to_without_any_id_is_none() -> None:
    assert with_headers("In-Reply-To: your message of Monday").in_reply_to is None


def test_references_are_split_in_order_whatever_the_separators() -> None:
    parsed = with_headers(
        "References: <a@x.example>\r\n <b@x.example>,<c@x.example><d@x.example>",
        "References: <e@x.example> <a@x.example>",
    )
    assert parsed.references == [
        "a@x.example",
        "b@x.example",
        "c@x.example",
        "d@x.example",
        "e@x.example",
    ]


def test_references_without_brackets_keep_the_tokens_with_an_at_sign() -> None:
    parsed = with_headers("References: a@x.example, b@x.example junk")
    assert parsed.references == ["a@x.example", "b@x.example"]


# --- dates and List-Id ----------------------------------------------------------------------


def test_date_is_aware_utc() -> None:
    parsed = with_headers("Date: Tue, 05 Mar 2024 10:15:00 -0800")
    assert parsed.date == datetime(2024, 3, 5, 18, 15, tzinfo=UTC)


def test_date_without_a_zone_is_taken_as_utc() -> None:
    parsed = with_headers("Date: Tue, 05 Mar 2024 10:15:00 -0000")
    assert parsed.date == datetime(2024, 3, 5, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize("garbage", ["yesterday", "Tue, 05 Mar 99999 10:15 +0000", ""])
def test_garbage_date_is_none_with_a_defect(garbage: str) -> None:
    parsed = with_headers(f"Date: {garbage}")
    assert parsed.date is None
    assert parsed.defects == [f"Date: unparseable {garbage!r} ignored"]


def test_list_id_is_the_identifier_between_brackets() -> None:
    parsed = with_headers("List-Id: Customer announcements <news.example.org>")
    assert parsed.header_list_id == "news.example.org"
    assert with_headers("Subject: none").header_list_id is None


# --- MIME parameters and file names ---------------------------------------------------------


def attachment_named(disposition: str, content_type: str = "application/pdf") -> str:
    raw = tm.attachment_message(
        f"Content-Disposition: {disposition}", content_type, tm.b64_lines(tm.PDF_BYTES)
    )
    (attachment,) = parse_message(raw).attachments
    assert attachment.data == tm.PDF_BYTES
    return attachment.file_name


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ("attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf", "€ rates.pdf"),
        ("attachment; filename*=iso-8859-1'fr'caf%E9.pdf", "café.pdf"),
        ("attachment; filename=\"fallback.pdf\"; filename*=UTF-8''%C3%BC.pdf", "ü.pdf"),
        ('attachment; filename*1="b.pdf"; filename*0="a"', "ab.pdf"),
        ('attachment; filename="=?UTF-8?B?4oKsIHJhdGVzLnBkZg==?="', "€ rates.pdf"),
        ('attachment; filename="r\\"q\\".pdf"', 'r"q".pdf'),
        ("attachment; filename=no quotes.pdf", "no quotes.pdf"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="C:\\Users\\jane\\scan.pdf"', "scan.pdf"),
        ('attachment; filename="invoice\u202efdp.exe"', "invoicefdp.exe"),
        ('attachment; filename=".."', "attachment-1.pdf"),
        ("attachment", "attachment-1.pdf"),
    ],
)
def test_attachment_file_names_are_decoded_and_made_safe(disposition: str, expected: str) -> None:
    assert attachment_named(disposition) == expected


def test_file_name_falls_back_to_the_content_type_name_parameter() -> None:
    assert attachment_named("attachment", 'application/pdf; name="n.pdf"') == "n.pdf"


def test_long_file_name_is_cut_keeping_its_extension() -> None:
    name = attachment_named(f'attachment; filename="{"x" * 300}.pdf"')
    assert len(name) == 255
    assert name.endswith("x.pdf")


def test_unknown_charset_in_rfc2231_file_name_is_guessed() -> None:
    raw = tm.attachment_message(
        "Content-Disposition: attachment; filename*=x-unknown''caf%E9.pdf",
        "application/pdf",
        tm.b64_lines(tm.PDF_BYTES),
    )
    parsed = parse_message(raw)
    assert parsed.attachments[0].file_name == "café.pdf"
    assert parsed.defects == [
        "part 3 (application/pdf) parameter filename:"
        " unknown charset 'x-unknown', decoded as cp1252"
    ]
