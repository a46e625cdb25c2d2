"""Signed tokens in our Message-IDs, and case tokens in subjects (emaildesk.mail.tokens)."""

from __future__ import annotations

import email.policy
import re
from email.message import EmailMessage
from email.utils import parseaddr

import pytest

from emaildesk.mail.tokens import (
    DEFAULT_SUBJECT_TOKEN,
    case_id_from_subject,
    make_message_id,
    read_message_id,
    subject_with_case_token,
)

SECRET = b"site-secret-for-tests"
OTHER_SECRET = b"another-site-secret"
DOMAIN = "desk.example.com"

# RFC 5322 §3.6.4 msg-id = "<" id-left "@" id-right ">", both dot-atom-text here (§3.2.3),
# written out independently of the module under test.
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
STRICT_MSG_ID = re.compile(rf"{ATEXT}+(\.{ATEXT}+)*@{ATEXT}+(\.{ATEXT}+)*")


def make(case_id: int = 1042, activity_id: int = 5531, **kwargs: object) -> str:
    args: dict[str, object] = {"domain": DOMAIN, "secret": SECRET, **kwargs}
    return make_message_id(case_id=case_id, activity_id=activity_id, **args)  # type: ignore[arg-type]


def replace_field(message_id: str, index: int, value: str) -> str:
    local, domain = message_id.split("@")
    parts = local.split(".")
    parts[index] = value
    return ".".join(parts) + "@" + domain


# --- the Message-ID token -------------------------------------------------------------------


def test_message_id_is_a_strict_rfc5322_msg_id() -> None:
    message_id = make()
    assert STRICT_MSG_ID.fullmatch(message_id)
    assert message_id.endswith("@" + DOMAIN)
    assert parseaddr(f"<{message_id}>") == ("", message_id)
    message = EmailMessage(policy=email.policy.SMTP)
    message["Message-ID"] = f"<{message_id}>"
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == f"<{message_id}>"
    assert not parsed["Message-ID"].defects


def test_message_id_names_case_and_activity() -> None:
    assert read_message_id(make(1042, 5531), secret=SECRET) == (1042, 5531)
    assert read_message_id(make(1, 0), secret=SECRET) == (1, 0)
    big = 9_223_372_036_854_775_807  # the largest 64-bit id
    assert read_message_id(make(big, big), secret=SECRET) == (big, big)


def test_message_id_reads_with_angle_brackets_and_whitespace() -> None:
    message_id = make()
    assert read_message_id(f"  <{message_id}> ", secret=SECRET) == (1042, 5531)


def test_message_id_verification_ignores_case() -> None:
    """base32 is case-insensitive; some gateways fold the case of header values."""
    message_id = make()
    assert read_message_id(message_id.upper(), secret=SECRET) == (1042, 5531)


def test_message_ids_of_one_activity_differ_by_nonce() -> None:
    first, second = make(), make()
    assert first != second
    assert read_message_id(first, secret=SECRET) == read_message_id(second, secret=SECRET)


def test_message_id_with_fixed_nonce_is_deterministic() -> None:
    assert make(nonce="abcdefgh") == make(nonce="abcdefgh")
    assert make(nonce="abcdefgh") != make(nonce="abcdefgi")


@pytest.mark.parametrize(("index", "value"), [(1, "1043"), (1, "10420"), (2, "5532"), (2, "1")])
def test_tampered_case_or_activity_fails_verification(index: int, value: str) -> None:
    assert read_message_id(replace_field(make(), index, value), secret=SECRET) is None


def test_tampered_nonce_fails_verification() -> None:
    message_id = make(nonce="abcdefgh")
    assert read_message_id(replace_field(message_id, 3, "abcdefgi"), secret=SECRET) is None


def test_tampered_mac_fails_verification() -> None:
    message_id = make()
    mac = message_id.split("@")[0].split(".")[4]
    flipped = ("b" if mac[0] == "a" else "a") + mac[1:]
    assert read_message_id(replace_field(message_id, 4, flipped), secret=SECRET) is None


def test_leading_zero_ids_fail_verification() -> None:
    """Only the canonical number was signed; "01042" is a different claim."""
    assert read_message_id(replace_field(make(), 1, "01042"), secret=SECRET) is None


def test_token_from_another_secret_fails_verification() -> None:
    assert read_message_id(make(secret=OTHER_SECRET), secret=SECRET) is None
    assert read_message_id(make(), secret=OTHER_SECRET) is None


def test_message_id_domain_is_not_signed() -> None:
    """Changing the site's Message-ID domain must not orphan replies to earlier mail."""
    message_id = make()
    moved = message_id.split("@")[0] + "@new-name.example.net"
    assert read_message_id(moved, secret=SECRET) == (1042, 5531)


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        make(secret=b"")
    assert read_message_id(make(), secret=b"") is None


@pytest.mark.parametrize("domain", ["", "desk example.com", "desk.example.com\r\nBcc: x", ".a"])
def test_message_id_domain_must_be_dot_atom(domain: str) -> None:
    with pytest.raises(ValueError, match="domain"):
        make(domain=domain)


@pytest.mark.parametrize(("case_id", "activity_id"), [(-1, 1), (1, -5), (10**19, 1)])
def test_message_id_ids_must_fit(case_id: int, activity_id: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        make(case_id, activity_id)


@pytest.mark.parametrize(
    "foreign",
    [
        "",
        "<>",
        "CAF=abc123@mail.gmail.com",
        "ed.1042.5531@desk.example.com",
        "ed.1042.5531.abcdefgh.abcdefghabcdefgh@desk.example.com",
        "ed.1042.5531.abcdefgh.abcdefghabcdefgh",
        "ed.x.5531.abcdefgh.abcdefghabcdefgh@d",
        "ed.1042.5531.abcdefgh.abcdefghabcdefg1@d",
        "ed." + "9" * 5000 + ".1.abcdefgh.abcdefghabcdefgh@d",
        "ed.١٠٤٢.5531.abcdefgh.abcdefghabcdefgh@d",
        "\x00\r\n<ed.1.2>",
    ],
)
def test_foreign_message_ids_read_as_none(foreign: str) -> None:
    assert read_message_id(foreign, secret=SECRET) is None


# --- the subject token ----------------------------------------------------------------------


def test_subject_token_goes_after_reply_prefixes() -> None:
    assert subject_with_case_token("Order missing", 1042) == "[#1042] Order missing"
    assert subject_with_case_token("Re: Order missing", 1042) == "Re: [#1042] Order missing"
    assert subject_with_case_token("RE: AW: Fwd: x", 7) == "RE: AW: Fwd: [#7] x"
    assert subject_with_case_token("", 7) == "[#7]"
    assert subject_with_case_token("Re:", 7) == "Re: [#7]"


def test_subject_token_is_idempotent() -> None:
    once = subject_with_case_token("Re: Order missing", 1042)
    assert subject_with_case_token(once, 1042) == once
    assert subject_with_case_token("Re: " + once, 1042) == "Re: " + once
    assert subject_with_case_token("Order [#1042] missing", 1042) == "Order [#1042] missing"


def test_subject_token_of_another_case_is_kept_and_ours_goes_first() -> None:
    subject = subject_with_case_token("Fwd: [#99] old matter", 1042)
    assert subject == "Fwd: [#1042] [#99] old matter"
    assert case_id_from_subject(subject) == 1042


def test_subject_token_read_back() -> None:
    assert case_id_from_subject("Re: [#1042] Order missing") == 1042
    assert case_id_from_subject("Order missing") is None
    assert case_id_from_subject("Order #1042 missing") is None
    assert case_id_from_subject("[#] x") is None


def test_subject_token_ignores_non_ascii_digits() -> None:
    assert case_id_from_subject("Re: [#١٠٤٢] x") is None


def test_subject_token_beyond_64_bits_is_no_token() -> None:
    assert case_id_from_subject("Re: [#9999999999999999999] x") is None
    assert case_id_from_subject("[#9999999999999999999] [#12]") == 12
    assert case_id_from_subject("[#9223372036854775807]") == 9223372036854775807


@pytest.mark.parametrize(
    ("template", "subject", "expected"),
    [
        ("[Case {case_id}]", "Re: [case 1042] x", 1042),
        ("#{case_id}", "Re: #10421 x", 10421),
        ("#{case_id}", "Re: #10421x", 10421),
        ("(ticket:{case_id})", "(ticket:5)", 5),
        ("(ticket:{case_id})", "(ticket:5 )", None),
    ],
)
def test_subject_token_template_is_configurable(
    template: str, subject: str, expected: int | None
) -> None:
    assert case_id_from_subject(subject, template) == expected


def test_subject_token_round_trips_through_any_template() -> None:
    for template in (DEFAULT_SUBJECT_TOKEN, "[Case {case_id}]", "#{case_id}", "{case_id}#"):
        subject = subject_with_case_token("Re: something", 314, template)
        assert case_id_from_subject(subject, template) == 314
        assert subject_with_case_token(subject, 314, template) == subject


@pytest.mark.parametrize(
    "template", ["[#]", "{case_id}", " {case_id} ", "[{case_id}-{case_id}]", "[2024-{case_id}]"]
)
def test_subject_token_template_must_be_findable(template: str) -> None:
    with pytest.raises(ValueError, match="template"):
        case_id_from_subject("x", template)
    with pytest.raises(ValueError, match="template"):
        subject_with_case_token("x", 1, template)
