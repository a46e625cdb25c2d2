"""Structured header fields: address lists (RFC 5322 §3.4), message identifiers (§3.6.4), the
origination date (§3.6.1) and List-Id (RFC 2919), read leniently from raw values.

Addresses are split with `email.utils.getaddresses` BEFORE encoded words are decoded: a display
name like `=?utf-8?q?Smith=2C_John?=` decodes to a comma, and splitting after decoding would cut
one mailbox in two (RFC 2047 §5 is why encoded words may not appear in addr-specs at all). The
8-bit bytes of RFC 6532 headers are decoded first, so IDN domains and UTF-8 local parts are kept
as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from emaildesk.mail.defects import DefectLog, quoted
from emaildesk.mail.header_text import decode_words, raw_text

MAX_ADDRESS_LENGTH = 254  # RFC 5321 §4.5.3.1.3: a path is at most 256 octets including "<>"
_ANGLE_ID = re.compile(r"<([^<>]*)>")
_ID_SEPARATORS = re.compile(r"[\s,]+")
_WHITESPACE = re.compile(r"\s+")
_SPECIALS = r'\s<>()\[\],;:"\\@'
_DOT_ATOM_LOCAL = re.compile(rf"[^{_SPECIALS}]+\Z")  # lenient: "a..b" and UTF-8 (RFC 6531) pass
_QUOTED_LOCAL = re.compile(r'"(?:[^"\\\r\n]|\\.)+"\Z')
_DOMAIN = re.compile(rf"[^{_SPECIALS}.][^{_SPECIALS}]*\Z")
_DOMAIN_LITERAL = re.compile(r"\[[^\[\]\\\s]+\]\Z")


@dataclass(frozen=True)
class Mailbox:
    name: str  # decoded display name, "" if none
    address: str  # addr-spec


def mailboxes(raws: list[str], defects: DefectLog, field: str) -> list[Mailbox]:
    """Every valid mailbox of every occurrence of an address field, in order; invalid ones are
    skipped with a defect, empty group syntax ("undisclosed-recipients:;") silently."""
    found: list[Mailbox] = []
    for raw in raws:
        text = raw_text(raw, defects, field)
        for name, address in getaddresses([text]):
            address = address.strip()
            if not address and not name:
                continue
            if not is_addr_spec(address):
                defects.add(f"{field}: invalid address {quoted(address or name)} skipped")
                continue
            found.append(Mailbox(decode_words(name.strip(), defects, field), address))
    return found


def is_addr_spec(address: str) -> bool:
    if not address or len(address) > MAX_ADDRESS_LENGTH or any(ord(c) < 32 for c in address):
        return False
    local, at, domain = address.rpartition("@")
    if not at or domain.endswith("."):
        return False
    local_ok = _DOT_ATOM_LOCAL.match(local) or _QUOTED_LOCAL.match(local)
    domain_ok = _DOMAIN.match(domain) or _DOMAIN_LITERAL.match(domain)
    return bool(local_ok and domain_ok)


def message_ids(raw: str | None, defects: DefectLog, field: str) -> list[str]:
    """The msg-ids of a Message-ID, In-Reply-To or References value, without "<>" and
    whitespace, in order, each once. Old mailers omit the brackets or add commas and phrases
    ("In-Reply-To: your message of ... <id>"): bracketed ids win; without any, the
    whitespace/comma separated tokens holding an "@" are taken."""
    if raw is None:
        return []
    text = raw_text(raw, defects, field)
    candidates = _ANGLE_ID.findall(text)
    if not candidates:
        candidates = [token for token in _ID_SEPARATORS.split(text) if "@" in token]
    found: list[str] = []
    for candidate in candidates:
        identifier = _WHITESPACE.sub("", candidate)
        if identifier and identifier not in found:
            found.append(identifier)
    return found


def message_id(raw: str | None, defects: DefectLog, field: str) -> str | None:
    """A single message identifier; without brackets or an "@", the first token as written."""
    found = message_ids(raw, defects, field)
    if found:
        return found[0]
    if raw is None:
        return None
    tokens = _ID_SEPARATORS.split(raw_text(raw, defects, field).strip())
    return tokens[0] or None


def origination_date(raw: str | None, defects: DefectLog) -> datetime | None:
    """The Date field as an aware UTC datetime; a zone-less ("-0000") date is taken as UTC,
    garbage is None and a defect."""
    if raw is None:
        return None
    text = raw_text(raw, defects, "Date").strip()
    try:
        parsed = parsedate_to_datetime(text)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (TypeError, ValueError, OverflowError, IndexError):
        defects.add(f"Date: unparseable {quoted(text)} ignored")
        return None


def list_id(raw: str | None, defects: DefectLog) -> str | None:
    """RFC 2919 §3: the list identifier between "<>" (the phrase before it is a description);
    the whole trimmed value when there are no brackets."""
    if raw is None:
        return None
    text = raw_text(raw, defects, "List-Id").strip()
    bracketed = _ANGLE_ID.search(text)
    identifier = bracketed.group(1).strip() if bracketed else text
    return identifier or None
