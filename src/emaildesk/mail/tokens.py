"""Tokens that tie a reply back to its case: a signed token in our own Message-IDs, and a case
token in the subject.

Message-ID token. Every outbound email gets a Message-ID of the form

    ed.<case_id>.<activity_id>.<nonce>.<mac>@<domain>

which is an RFC 5322 §3.6.4 msg-id (`dot-atom-text "@" dot-atom-text`). Mail clients copy it
into `In-Reply-To` / `References` of a reply, so a reply names its case even when the subject
was rewritten. The MAC is HMAC-SHA256 (RFC 2104) keyed with the site secret over the case,
activity and nonce, truncated to `MAC_CHARS` base32 characters (80 bits): nobody without the
secret can make an id that names a case of their choosing. The nonce keeps two ids of one
activity (a re-send) distinct and the id unguessable. The domain is deliberately not signed:
changing the site's Message-ID domain must not orphan replies to mail sent before the change.
Verification is case-insensitive because base32 is, and some gateways fold case.

Subject token. A configurable template such as `[#{case_id}]` is put into outbound subjects;
a reply that lost its headers (forwarded, copied into a new mail) still names the case. It is
a claim anyone can type, so the threading use case accepts it only from the case's customer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

MESSAGE_ID_PREFIX = "ed"
MAC_CHARS = 16  # base32 characters = 80 bits of HMAC-SHA256
NONCE_CHARS = 8  # base32 characters = 40 random bits
# Domain separation: the site secret may sign other things; this label makes a Message-ID MAC
# useless anywhere else (and other MACs useless here).
_MAC_LABEL = b"emaildesk/message-id/v1\x00"
MAX_ID = 2**63 - 1  # ids are signed 64-bit integers in the database (BIGINT)
_MAX_ID_DIGITS = len(str(MAX_ID))

# RFC 5322 §3.2.3 atext and dot-atom-text; §3.4.1 domain-literal dtext (no obs-).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
DOT_ATOM_TEXT = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_DOMAIN_LITERAL = r"\[[\x21-\x5a\x5e-\x7e]*\]"
MSG_ID_RE = re.compile(rf"{DOT_ATOM_TEXT}@(?:{DOT_ATOM_TEXT}|{_DOMAIN_LITERAL})", re.ASCII)
_DOMAIN_RE = re.compile(DOT_ATOM_TEXT, re.ASCII)
_NUMBER = rf"(?:0|[1-9][0-9]{{0,{_MAX_ID_DIGITS - 1}}})"
_TOKEN_RE = re.compile(
    rf"{MESSAGE_ID_PREFIX}\.({_NUMBER})\.({_NUMBER})\.([a-z2-7]{{{NONCE_CHARS}}})"
    rf"\.([a-z2-7]{{{MAC_CHARS}}})@.+",
    re.ASCII | re.IGNORECASE,
)

DEFAULT_SUBJECT_TOKEN = "[#{case_id}]"  # noqa: S105 - a subject template, not a secret
CASE_ID_FIELD = "{case_id}"
# Reply and forward prefixes (English, German, Nordic, Dutch, French, Italian, Spanish) that stay
# in front of the case token, so a reply reads "Re: [#1042] Order" rather than "[#1042] Re: ...".
_REPLY_PREFIX_RE = re.compile(
    r"^(?:\s*(?:re|fwd?|aw|wg|sv|vs|antw|tr|rif|rv|r)(?:\[[0-9]+\])?\s*:\s*)+", re.IGNORECASE
)


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _mac(secret: bytes, case_id: int, activity_id: int, nonce: str) -> str:
    signed = f"{MESSAGE_ID_PREFIX}.{case_id}.{activity_id}.{nonce}".encode("ascii")
    digest = hmac.new(secret, _MAC_LABEL + signed, hashlib.sha256).digest()
    return _b32(digest)[:MAC_CHARS]


def make_message_id(
    *, case_id: int, activity_id: int, domain: str, secret: bytes, nonce: str | None = None
) -> str:
    """Our Message-ID for an outbound activity, without the angle brackets.

    `nonce` is for tests only; by default a fresh random one is drawn. Raises ValueError for an
    empty secret (it would make every token forgeable), a negative or oversized id, or a domain
    that is not RFC 5322 dot-atom-text.
    """
    if not secret:
        raise ValueError("the Message-ID secret must not be empty")
    for name, value in (("case_id", case_id), ("activity_id", activity_id)):
        if value < 0 or len(str(value)) > _MAX_ID_DIGITS:
            raise ValueError(f"{name} out of range: {value}")
    if not _DOMAIN_RE.fullmatch(domain):
        raise ValueError(f"not an RFC 5322 dot-atom domain: {domain!r}")
    nonce = (nonce or _b32(secrets.token_bytes(5))).lower()
    if not re.fullmatch(rf"[a-z2-7]{{{NONCE_CHARS}}}", nonce):
        raise ValueError(f"nonce must be {NONCE_CHARS} base32 characters")
    mac = _mac(secret, case_id, activity_id, nonce)
    return f"{MESSAGE_ID_PREFIX}.{case_id}.{activity_id}.{nonce}.{mac}@{domain}"


def read_message_id(message_id: str, *, secret: bytes) -> tuple[int, int] | None:
    """(case_id, activity_id) when `message_id` is one of ours and its MAC verifies, else None.

    Accepts the id with or without its angle brackets. Never raises: this runs on whatever a
    stranger put into `In-Reply-To`.
    """
    if not secret:
        return None
    text = message_id.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    match = _TOKEN_RE.fullmatch(text)
    if match is None:
        return None
    case_text, activity_text, nonce, mac = match.groups()
    case_id, activity_id = int(case_text), int(activity_text)
    if case_id > MAX_ID or activity_id > MAX_ID:
        return None
    expected = _mac(secret, case_id, activity_id, nonce.lower())
    if not hmac.compare_digest(expected, mac.lower()):
        return None
    return case_id, activity_id


def _template_parts(template: str) -> tuple[str, str]:
    """The text before and after `{case_id}`; refuses templates that could not be found again."""
    if template.count(CASE_ID_FIELD) != 1:
        raise ValueError(f"the subject token template needs exactly one {CASE_ID_FIELD}")
    prefix, suffix = template.split(CASE_ID_FIELD)
    if not (prefix.strip() or suffix.strip()):
        # A bare number would match every number in every subject.
        raise ValueError("the subject token template needs text around {case_id}")
    if any(ch in template for ch in "\r\n") or any(ch.isdigit() for ch in prefix + suffix):
        raise ValueError("the subject token template must not contain line breaks or digits")
    return prefix, suffix


def _subject_token_re(template: str) -> re.Pattern[str]:
    prefix, suffix = _template_parts(template)
    return re.compile(
        rf"{re.escape(prefix)}([0-9]{{1,{_MAX_ID_DIGITS}}})(?![0-9]){re.escape(suffix)}",
        re.IGNORECASE,
    )


def case_id_from_subject(subject: str, template: str = DEFAULT_SUBJECT_TOKEN) -> int | None:
    """The case named by the first (leftmost) case token in the subject, or None. A number
    no case can have (beyond 64 bits) is no token: it must never reach a database query."""
    for match in _subject_token_re(template).finditer(subject):
        case_id = int(match.group(1))
        if case_id <= MAX_ID:
            return case_id
    return None


def subject_with_case_token(
    subject: str, case_id: int, template: str = DEFAULT_SUBJECT_TOKEN
) -> str:
    """The subject with this case's token, placed after any leading "Re:"/"Fwd:" prefixes.

    Idempotent: a subject that already carries this case's token anywhere is returned as is.
    The token goes in front rather than at the end so that a subject cut to a length limit
    (eGain: subject ≤ 255) keeps it.
    """
    pattern = _subject_token_re(template)
    if any(int(m.group(1)) == case_id for m in pattern.finditer(subject)):
        return subject
    token = template.replace(CASE_ID_FIELD, str(case_id))
    match = _REPLY_PREFIX_RE.match(subject)
    head = match.group(0) if match else ""
    rest = subject[len(head) :].strip()
    return " ".join(part for part in (head.strip(), token, rest) if part)
