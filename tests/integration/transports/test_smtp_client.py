"""The relay client against a real SMTP server on loopback: what it sends, and how each of the
relay's answers (and silences) becomes a retry or a permanent failure."""

from __future__ import annotations

import asyncio
import re
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr

from emaildesk.settings import Settings
from emaildesk.transports.smtp_client import (
    RelayConfig,
    RelaySecurity,
    RelaySender,
    Reply,
    relay_config_from_settings,
    wire_bytes,
)
from emaildesk.workers.errors import PermanentJobError, TransientJobError
from integration.transports.smtp_sink_support import PasswordCheck, SinkHandler, smtp_sink

FROM = "support@example.com"
TO = ["jane@customer.example", "boss@customer.example"]


def message(subject: str = "Grüße [#7]") -> EmailMessage:
    built = EmailMessage()
    built["From"] = FROM
    built["To"] = ", ".join(TO)
    built["Subject"] = subject
    built["Message-ID"] = "<ed.7.9.abc@desk.example.com>"
    built.set_content("Zürich, line one\n.leading dot survives dot-stuffing\n")
    return built


def sender(port: int, **options: object) -> RelaySender:
    config: dict[str, object] = {"security": RelaySecurity.NONE, "timeout": 5.0}
    config.update(options)
    return RelaySender(RelayConfig("127.0.0.1", port, **config))  # type: ignore[arg-type]


async def test_relay_receives_the_exact_wire_bytes_and_envelope() -> None:
    async with smtp_sink() as sink:
        refused = await sender(sink.port).send(message(), FROM, TO)
    assert refused == {}
    [delivery] = sink.deliveries
    assert (delivery.mail_from, delivery.rcpt_tos) == (FROM, TO)
    assert delivery.data == wire_bytes(message())


def test_wire_bytes_are_seven_bit_with_crlf_line_ends() -> None:
    """RFC 6376 §5.3 (sign 7-bit) and RFC 5321 §2.3.8 (CRLF): no relay has to convert."""
    raw = wire_bytes(message())
    assert raw.isascii()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


async def test_bytes_are_sent_unchanged() -> None:
    raw = wire_bytes(message("signed already"))
    async with smtp_sink() as sink:
        await sender(sink.port).send(raw, FROM, TO[:1])
    assert sink.deliveries[0].data == raw


async def test_4xx_reply_is_transient() -> None:
    handler = SinkHandler()
    handler.data_replies.append("421 4.3.2 Service shutting down")
    async with smtp_sink(handler) as sink:
        with pytest.raises(TransientJobError, match=re.escape("421 4.3.2 Service shutting down")):
            await sender(sink.port).send(message(), FROM, TO)
    assert sink.deliveries == []


async def test_4xx_at_mail_from_is_transient() -> None:
    handler = SinkHandler()
    handler.mail_replies.append("451 4.7.1 Greylisted, try again")
    async with smtp_sink(handler) as sink:
        with pytest.raises(TransientJobError, match=re.escape("451 4.7.1 Greylisted")):
            await sender(sink.port).send(message(), FROM, TO)


async def test_5xx_reply_is_permanent_with_the_servers_reply() -> None:
    handler = SinkHandler()
    handler.data_replies.append("554 5.7.1 Message rejected as spam")
    async with smtp_sink(handler) as sink:
        with pytest.raises(PermanentJobError) as caught:
            await sender(sink.port).send(message(), FROM, TO)
    assert caught.value.reason == "554 5.7.1 Message rejected as spam"


async def test_some_recipients_refused_delivers_to_the_rest_and_reports_them() -> None:
    handler = SinkHandler(rcpt_replies={TO[1]: "550 5.1.1 No such user"})
    async with smtp_sink(handler) as sink:
        refused = await sender(sink.port).send(message(), FROM, TO)
    assert refused == {TO[1]: Reply(550, "5.1.1 No such user")}
    [delivery] = sink.deliveries
    assert delivery.rcpt_tos == TO[:1]


async def test_all_recipients_refused_permanently_is_permanent() -> None:
    handler = SinkHandler(
        rcpt_replies={TO[0]: "550 5.1.1 No such user", TO[1]: "553 5.1.3 Bad address"}
    )
    async with smtp_sink(handler) as sink:
        with pytest.raises(PermanentJobError) as caught:
            await sender(sink.port).send(message(), FROM, TO)
    assert f"<{TO[0]}>: 550 5.1.1 No such user" in caught.value.reason
    assert f"<{TO[1]}>: 553 5.1.3 Bad address" in caught.value.reason


async def test_all_recipients_refused_with_one_temporary_refusal_is_transient() -> None:
    handler = SinkHandler(
        rcpt_replies={TO[0]: "550 5.1.1 No such user", TO[1]: "452 4.2.2 Mailbox full"}
    )
    async with smtp_sink(handler) as sink:
        with pytest.raises(TransientJobError, match=re.escape("452 4.2.2 Mailbox full")):
            await sender(sink.port).send(message(), FROM, TO)


async def test_connection_refused_is_transient() -> None:
    async with smtp_sink() as sink:
        port = sink.port  # closed when the block ends: nothing listens there any more
    with pytest.raises(TransientJobError, match="SMTPConnectError"):
        await sender(port).send(message(), FROM, TO)


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never says a word (a hung relay)."""
    connections: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_timeout_is_transient(silent_server: int) -> None:
    with pytest.raises(TransientJobError, match="Timeout"):
        await sender(silent_server, timeout=0.3).send(message(), FROM, TO)


async def test_no_recipients_is_permanent() -> None:
    with pytest.raises(PermanentJobError, match="no recipients"):
        await sender(1).send(message(), FROM, [])


async def test_login_when_a_username_is_configured() -> None:
    check = PasswordCheck("desk", "s3cret")
    async with smtp_sink(authenticator=check) as sink:
        await sender(sink.port, username="desk", password="s3cret").send(message(), FROM, TO)
    assert check.logins == ["desk"]
    assert len(sink.deliveries) == 1


async def test_wrong_password_is_permanent() -> None:
    check = PasswordCheck("desk", "s3cret")
    async with smtp_sink(authenticator=check) as sink:
        with pytest.raises(PermanentJobError, match="535"):
            await sender(sink.port, username="desk", password="wrong").send(message(), FROM, TO)
    assert sink.deliveries == []


def test_relay_config_repr_never_shows_the_password() -> None:
    config = RelayConfig("relay.example", 587, username="desk", password="s3cret")
    assert "s3cret" not in repr(config)
    assert "relay.example" in repr(config)


def test_relay_config_comes_from_settings() -> None:
    settings = Settings(
        relay_host="relay.example",
        relay_port=465,
        relay_security="tls",
        relay_username="desk",
        relay_password=SecretStr("s3cret"),
        relay_timeout_seconds=12.5,
    )
    config = relay_config_from_settings(settings)
    assert (config.host, config.port, config.security, config.timeout) == (
        "relay.example",
        465,
        RelaySecurity.TLS,
        12.5,
    )
    assert (config.username, config.password) == ("desk", "s3cret")


# --- TLS -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command line."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    command += " -addext subjectAltName=IP:127.0.0.1"
    subprocess.run(
        [*command.split(), "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True
    )
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


async def test_starttls_upgrades_before_sending(certificate: tuple[Path, Path]) -> None:
    async with smtp_sink(tls_context=server_context(certificate)) as sink:
        relay = RelaySender(
            RelayConfig("127.0.0.1", sink.port, RelaySecurity.STARTTLS, timeout=5),
            tls_context=trusting(certificate),
        )
        await relay.send(message(), FROM, TO)
    assert len(sink.deliveries) == 1


async def test_starttls_with_an_untrusted_certificate_is_refused(
    certificate: tuple[Path, Path],
) -> None:
    async with smtp_sink(tls_context=server_context(certificate)) as sink:
        relay = RelaySender(RelayConfig("127.0.0.1", sink.port, RelaySecurity.STARTTLS, timeout=5))
        with pytest.raises(TransientJobError):
            await relay.send(message(), FROM, TO)
    assert sink.deliveries == []


async def test_starttls_required_but_not_offered_never_sends_in_clear() -> None:
    async with smtp_sink() as sink:
        relay = RelaySender(RelayConfig("127.0.0.1", sink.port, RelaySecurity.STARTTLS, timeout=5))
        with pytest.raises(TransientJobError, match="STARTTLS"):
            await relay.send(message(), FROM, TO)
    assert sink.deliveries == []


async def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    async with smtp_sink(implicit_tls=server_context(certificate)) as sink:
        relay = RelaySender(
            RelayConfig("127.0.0.1", sink.port, RelaySecurity.TLS, timeout=5),
            tls_context=trusting(certificate),
        )
        await relay.send(message(), FROM, TO)
    assert len(sink.deliveries) == 1


async def test_security_none_never_upgrades(certificate: tuple[Path, Path]) -> None:
    """A relay that offers STARTTLS with a certificate we would not trust still gets the mail
    in clear when the site said `none` (a loopback relay)."""
    async with smtp_sink(tls_context=server_context(certificate)) as sink:
        await sender(sink.port).send(message(), FROM, TO)
    assert len(sink.deliveries) == 1
