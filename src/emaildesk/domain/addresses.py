"""The eGain definition of a valid email address (api-notes §1.7), used for every address field.

This is deliberately the vendor's rule, not RFC 5322: integrators rely on eGain refusing exactly
these forms. Parsing real RFC 5322 headers is `mail/`'s job; what it extracts is checked here.
"""

from __future__ import annotations

MAX_ADDRESS_LENGTH = 255  # eGain: "Must not exceed 255 characters"
_FORBIDDEN = frozenset('()[]:;<>" ')


def is_valid_email_address(address: str) -> bool:
    """Exactly one @; a dot after it with at least one character between; no trailing dot."""
    if not address or len(address) > MAX_ADDRESS_LENGTH:
        return False
    if address.count("@") != 1 or "\\\\" in address:
        return False
    if any(ch in _FORBIDDEN or ord(ch) < 32 for ch in address):
        return False
    local, domain = address.split("@")
    if not local or address.endswith("."):
        return False
    dot = domain.find(".")
    return dot >= 1


def normalize_address(address: str) -> str:
    """The lookup key of an address: trimmed and case-folded (domains are case-insensitive, and
    in practice every mail system treats local parts so too)."""
    return address.strip().lower()
