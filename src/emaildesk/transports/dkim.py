"""Optional DKIM signing of outbound mail (RFC 6376) with `dkimpy` (the `dkim` extra).

Signing is on when `settings.dkim_key_file` is set. A configured key that cannot be used (the
package is not installed, the file is missing or not a key) stops start-up with a message that
says what to fix: mail silently sent unsigned by a site that published a DKIM record and a
strict DMARC policy would be rejected or junked far away, where nobody here sees it.

The signature covers the 7-bit wire bytes (`smtp_client.wire_bytes`; RFC 6376 §5.3), with
relaxed header and simple body canonicalization, dkimpy's default and the common choice (§3.4:
relaxed headers survive refolding by relays).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from emaildesk.settings import Settings

# RFC 6376 §5.4.1: From is required; these are the recommended ones a relay will not rewrite.
SIGNED_HEADERS = (
    b"From",
    b"To",
    b"Cc",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"In-Reply-To",
    b"References",
    b"Reply-To",
    b"MIME-Version",
    b"Content-Type",
    b"Content-Transfer-Encoding",
    b"Auto-Submitted",
)
_PROBE = b"From: probe@example.invalid\r\nSubject: key check\r\n\r\nkey check\r\n"


class DkimConfigurationError(RuntimeError):
    """A DKIM key is configured but cannot be used; raised at start-up."""


@dataclass(frozen=True)
class DkimSigner:
    selector: str
    domain: str
    private_key: bytes
    module: ModuleType  # dkimpy, imported when the key was loaded

    def __repr__(self) -> str:  # never print the key
        return f"DkimSigner(selector={self.selector!r}, domain={self.domain!r})"

    def signature_header(self, raw: bytes) -> bytes:
        """The `DKIM-Signature: ...` header line (CRLF-terminated) for these wire bytes."""
        header: bytes = self.module.sign(
            raw,
            self.selector.encode(),
            self.domain.encode(),
            self.private_key,
            include_headers=list(SIGNED_HEADERS),
        )
        return header

    def sign(self, raw: bytes) -> bytes:
        """The wire bytes with the signature header prepended (RFC 6376 §5.6)."""
        return self.signature_header(raw) + raw


def load_dkim_signer(key_file: Path, selector: str, domain: str) -> DkimSigner:
    """Import dkimpy, read the key and sign a probe message with it, so that every way a key
    can be unusable shows now, at start-up, rather than on the first send."""
    try:
        module = importlib.import_module("dkim")
    except ImportError as exc:
        raise DkimConfigurationError(
            "dkim_key_file is set but dkimpy is not installed: "
            "pip install 'emaildesk[dkim]', or unset dkim_key_file"
        ) from exc
    if not selector or not domain:
        raise DkimConfigurationError("DKIM signing needs dkim_selector and dkim_domain")
    try:
        private_key = key_file.read_bytes()
    except OSError as exc:
        raise DkimConfigurationError(
            f"dkim_key_file {key_file} cannot be read: {exc.strerror}"
        ) from exc
    signer = DkimSigner(selector=selector, domain=domain, private_key=private_key, module=module)
    try:
        signer.signature_header(_PROBE)
    except Exception as exc:  # dkimpy raises several unrelated types for a bad key
        raise DkimConfigurationError(
            f"dkim_key_file {key_file} is not a usable private key ({type(exc).__name__})"
        ) from exc
    return signer


def dkim_signer_from_settings(settings: Settings) -> DkimSigner | None:
    """The signer when a key is configured, else None (signing off). The signing domain
    defaults to the mail domain, the right-hand side of our Message-IDs."""
    if settings.dkim_key_file is None:
        return None
    return load_dkim_signer(
        settings.dkim_key_file,
        settings.dkim_selector,
        settings.dkim_domain or settings.mail_domain,
    )
