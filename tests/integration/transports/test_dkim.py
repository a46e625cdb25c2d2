"""Optional DKIM signing: signatures that verify, and a configured key that cannot be used
stopping the start-up with a reason."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from emaildesk.settings import Settings
from emaildesk.transports.dkim import (
    DkimConfigurationError,
    dkim_signer_from_settings,
    load_dkim_signer,
)
from emaildesk.transports.smtp_client import wire_bytes

dkim = pytest.importorskip("dkim", reason="the optional 'dkim' extra (dkimpy) is not installed")

SELECTOR = "emaildesk"
DOMAIN = "desk.example.com"


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """An RSA private key file and its DKIM DNS TXT record (RFC 6376 §3.6.1)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def message() -> EmailMessage:
    built = EmailMessage()
    built["From"] = "Support <support@desk.example.com>"
    built["To"] = "jane@customer.example"
    built["Subject"] = "Grüße [#7]"
    built["Message-ID"] = "<ed.7.9.abc@desk.example.com>"
    built.set_content("Zürich\n")
    return built


def dns_for(record: bytes) -> object:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None

    return lookup


def test_signed_message_verifies_with_the_published_key(key_pair: tuple[Path, bytes]) -> None:
    key, record = key_pair
    signed = load_dkim_signer(key, SELECTOR, DOMAIN).sign(wire_bytes(message()))
    assert signed.startswith(b"DKIM-Signature: ")
    assert dkim.verify(signed, dnsfunc=dns_for(record))


def test_signature_breaks_when_the_body_changes(key_pair: tuple[Path, bytes]) -> None:
    key, record = key_pair
    signed = load_dkim_signer(key, SELECTOR, DOMAIN).sign(wire_bytes(message()))
    assert not dkim.verify(signed + b"one more line\r\n", dnsfunc=dns_for(record))


def test_signature_covers_from_subject_and_message_id(key_pair: tuple[Path, bytes]) -> None:
    key, _record = key_pair
    header = load_dkim_signer(key, SELECTOR, DOMAIN).signature_header(wire_bytes(message()))
    signed_fields = b"".join(header.split()).split(b"h=")[1].split(b";")[0].lower().split(b":")
    assert {b"from", b"to", b"subject", b"date", b"message-id"} <= set(signed_fields)


def test_no_key_configured_means_no_signing(tmp_path: Path) -> None:
    assert dkim_signer_from_settings(Settings(data_dir=tmp_path)) is None


def test_signing_domain_defaults_to_the_mail_domain(key_pair: tuple[Path, bytes]) -> None:
    key, _record = key_pair
    signer = dkim_signer_from_settings(Settings(dkim_key_file=key, mail_domain=DOMAIN))
    assert signer is not None
    assert (signer.domain, signer.selector) == (DOMAIN, "emaildesk")
    assert "PRIVATE" not in repr(signer)


def test_configured_key_without_dkimpy_fails_at_start_up(
    key_pair: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dkim", None)  # makes `import dkim` raise ImportError
    with pytest.raises(DkimConfigurationError, match="dkimpy is not installed"):
        load_dkim_signer(key_pair[0], SELECTOR, DOMAIN)


def test_missing_key_file_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(DkimConfigurationError, match="cannot be read"):
        load_dkim_signer(tmp_path / "absent.pem", SELECTOR, DOMAIN)


def test_a_file_that_is_not_a_key_fails_at_start_up(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    with pytest.raises(DkimConfigurationError, match="not a usable private key"):
        load_dkim_signer(bogus, SELECTOR, DOMAIN)


def test_selector_and_domain_are_required(key_pair: tuple[Path, bytes]) -> None:
    with pytest.raises(DkimConfigurationError, match="dkim_selector and dkim_domain"):
        load_dkim_signer(key_pair[0], "", DOMAIN)
