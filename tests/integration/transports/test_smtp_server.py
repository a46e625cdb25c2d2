"""The SMTP and LMTP listeners over real loopback sockets, on both database backends.

Each test starts the listeners in its own event loop on ephemeral ports (as `emaildesk serve`
does, with `loop.create_server`), talks to them with a real client (aiosmtplib, or raw LMTP
lines), and asserts on what is durably stored: ingestion rows, their blobs, their jobs.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy import select

from emaildesk.app import build_runtime, build_worker
from emaildesk.db import tables as t
from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.db.uow import SqlUnitOfWork
from emaildesk.domain.directory import PartitionSettings
from emaildesk.domain.ingestion import IngestionSource, IngestionState
from emaildesk.services.ports import BlobStore
from emaildesk.settings import Settings
from emaildesk.transports import smtp_codes
from emaildesk.transports.smtp_server import (
    ENGINE_LOGGER,
    MAX_LINE_BYTES,
    MAX_RECIPIENTS,
    MEGABYTE,
    MailListeners,
    start_mail_listeners,
)
from support.seed import BasicSite, seed_basic_site
from support.tricky_mail import large_message, tricky_messages

SUPPORT = "support@example.com"
SALES = "sales@example.com"
INACTIVE = "old@example.com"
UNKNOWN = "nobody@example.com"
CUSTOMER = "jane@example.org"
MAIL_DOMAIN = "mx.emaildesk.test"
QUEUED = re.compile(r"^2\.0\.0 Ok: queued as (\d+)$")


@dataclass
class ListenerRuntimeDouble:
    """The parts of the app's Runtime the listeners use; attributes may be swapped mid-test."""

    settings: Settings
    database: Database
    blobs: BlobStore
    wakes: list[int] = field(default_factory=list)

    async def wake(self) -> None:
        self.wakes.append(1)


@pytest.fixture
async def site(database: Database) -> BasicSite:
    async with database.uow() as uow:
        seeded = await seed_basic_site(uow)
        await uow.commit()
    return seeded


@pytest.fixture
def runtime(
    database: Database, database_url: str, blobs: FileBlobStore, tmp_path: Path
) -> ListenerRuntimeDouble:
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        smtp_port=0,
        lmtp_enabled=True,
        lmtp_port=0,
        mail_domain=MAIL_DOMAIN,
    )
    return ListenerRuntimeDouble(settings, database, blobs)


@pytest.fixture
async def listeners(
    site: BasicSite, runtime: ListenerRuntimeDouble
) -> AsyncIterator[MailListeners]:
    started = await start_mail_listeners(runtime, on_received=runtime.wake)
    try:
        yield started
    finally:
        await started.close()


def port_of(listeners: MailListeners, source: IngestionSource = IngestionSource.SMTP) -> int:
    address = listeners.address(source)
    assert address is not None
    return address[1]


def message(
    subject: str = "Order 1234 not delivered", size: int = 0, sender: str = CUSTOMER
) -> tuple[bytes, str]:
    """An RFC 5322 message (CRLF) and its Message-ID; `size` pads the body to about that many
    bytes."""
    msg = EmailMessage()
    msg["From"] = f"Jane Doe <{sender}>"
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    msg_id = make_msgid(domain="example.org")
    msg["Message-ID"] = msg_id
    msg.set_content("Hello,\nwhere is my order?\n" + ("x" * 70 + "\n") * (size // 71))
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")), msg_id.strip("<>")


def client(port: int, **options: Any) -> aiosmtplib.SMTP:
    options.setdefault("start_tls", False)
    return aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30, **options)


async def ingestion_rows(database: Database) -> list[Any]:
    async with database.engine.connect() as connection:
        result = await connection.execute(select(t.ingestions).order_by(t.ingestions.c.id))
        return list(result.mappings())


async def ingest_jobs(database: Database) -> list[Any]:
    async with database.engine.connect() as connection:
        result = await connection.execute(
            select(t.outbox_jobs).where(t.outbox_jobs.c.kind == "mail.ingest")
        )
        return list(result.mappings())


async def data_reply(smtp: aiosmtplib.SMTP, raw: bytes) -> Any:
    """The reply to DATA, a refusal included (aiosmtplib raises it; it has .code and .message)."""
    try:
        return await smtp.data(raw)
    except aiosmtplib.SMTPResponseException as refused:
        return refused


async def send(port: int, raw: bytes, recipients: list[str], sender: str = CUSTOMER) -> Any:
    """MAIL, RCPT..., DATA on a fresh connection; returns the DATA reply (never raises on it)."""
    async with client(port) as smtp:
        await smtp.mail(sender)
        for recipient in recipients:
            await smtp.execute_command(b"RCPT", f"TO:<{recipient}>".encode())
        return await data_reply(smtp, raw)


def queued_id(reply: Any) -> int:
    assert reply.code == 250, reply
    found = QUEUED.match(reply.message)
    assert found is not None, reply.message
    return int(found.group(1))


def broken_database(database: Database, tmp_path: Path) -> Database:
    """A database of the same backend that cannot be reached: SQLite at a path that is a
    directory (cannot be opened), PostgreSQL at a port nobody listens on."""
    if database.is_sqlite:
        directory = tmp_path / "not-a-database"
        directory.mkdir()
        return Database(f"sqlite+aiosqlite:///{directory}")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    return Database(f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/nowhere")


# --- the reply constants ------------------------------------------------------------------------


def test_reply_constants_carry_their_code_in_the_name_and_a_matching_enhanced_code() -> None:
    """STYLE.md habit 8 / the aiosmtpd anchor: REPLY_<code>_... starts with <code>, followed by
    an RFC 3463 enhanced status code of the same class (2.x.x, 4.x.x, 5.x.x)."""
    replies = {n: v for n, v in vars(smtp_codes).items() if n.startswith("REPLY_")}
    assert len(replies) >= 7
    for name, text in replies.items():
        code = name.split("_")[1]
        assert re.fullmatch(r"[245]\d\d", code), name
        assert text.startswith(f"{code} {code[0]}."), (name, text)
        assert re.match(rf"{code} {code[0]}\.\d{{1,3}}\.\d{{1,3}} \S", text), (name, text)
    for engine_text, ours in smtp_codes.ENGINE_REPLIES.items():
        assert ours in replies.values()
        assert engine_text[:3] == ours[:3]  # a translation never changes the reply code


# --- recipients ---------------------------------------------------------------------------------


async def test_unknown_recipient_is_refused_550_at_rcpt_and_nothing_is_stored(
    listeners: MailListeners, database: Database, blobs: FileBlobStore
) -> None:
    async with client(port_of(listeners)) as smtp:
        await smtp.mail(CUSTOMER)
        reply = await smtp.execute_command(b"RCPT", f"TO:<{UNKNOWN}>".encode())
        assert reply.code == 550
        assert reply.message.startswith("5.1.1")
        data = await smtp.execute_command(b"DATA")
        assert data.code == 503  # no recipient accepted: no body is ever read
    assert await ingestion_rows(database) == []
    assert not blobs.root.exists() or not any(blobs.root.rglob("*"))


async def test_inactive_alias_is_refused_550_at_rcpt(
    listeners: MailListeners, database: Database
) -> None:
    async with client(port_of(listeners)) as smtp:
        await smtp.mail(CUSTOMER)
        reply = await smtp.execute_command(b"RCPT", f"TO:<{INACTIVE}>".encode())
    assert (reply.code, reply.message[:5]) == (550, "5.1.1")
    assert await ingestion_rows(database) == []


async def test_recipient_check_ignores_case_and_refuses_the_rest_of_a_mixed_envelope(
    listeners: MailListeners, database: Database
) -> None:
    raw, _ = message()
    reply = await send(port_of(listeners), raw, ["Support@Example.COM", UNKNOWN, SALES, SUPPORT])
    ingestion_id = queued_id(reply)
    [row] = await ingestion_rows(database)
    assert row["id"] == ingestion_id
    assert row["recipients"] == [SUPPORT, SALES]  # accepted ones only, each once


async def test_more_than_max_recipients_are_answered_452(
    listeners: MailListeners,
) -> None:
    async with client(port_of(listeners)) as smtp:
        await smtp.mail(CUSTOMER)
        for _ in range(MAX_RECIPIENTS):
            assert (await smtp.execute_command(b"RCPT", f"TO:<{SUPPORT}>".encode())).code == 250
        reply = await smtp.execute_command(b"RCPT", f"TO:<{SALES}>".encode())
    assert (reply.code, reply.message[:5]) == (452, "4.5.3")


# --- size ---------------------------------------------------------------------------------------


async def set_max_email_mb(database: Database, megabytes: int) -> None:
    async with database.uow() as uow:
        settings = await uow.directory.settings()
        assert isinstance(settings, PartitionSettings) and settings.id is not None
        settings.max_email_size_mb = megabytes
        await uow.commit()


async def test_size_is_advertised_from_the_partition_setting_and_too_large_is_refused_552(
    site: BasicSite, runtime: ListenerRuntimeDouble, database: Database
) -> None:
    await set_max_email_mb(database, 1)
    listeners = await start_mail_listeners(runtime)
    try:
        port = port_of(listeners)
        async with client(port) as smtp:
            ehlo = await smtp.ehlo()
            assert f"SIZE {MEGABYTE}" in ehlo.message
            # RFC 1870 §6.1: a declared size over the limit is refused at MAIL FROM.
            declared = await smtp.execute_command(
                b"MAIL", f"FROM:<{CUSTOMER}> SIZE={MEGABYTE + 1}".encode()
            )
            assert (declared.code, declared.message[:5]) == (552, "5.3.4")
        big, _ = message(size=MEGABYTE + 10_000)
        reply = await send(port, big, [SUPPORT])
        assert (reply.code, reply.message[:5]) == (552, "5.3.4")
        assert await ingestion_rows(database) == []
        small, _ = message(size=MEGABYTE // 2)  # the listener serves on, under the limit
        queued_id(await send(port, small, [SUPPORT]))
    finally:
        await listeners.close()


async def test_size_limit_follows_a_changed_partition_setting(
    site: BasicSite, runtime: ListenerRuntimeDouble, database: Database
) -> None:
    listeners = await start_mail_listeners(runtime, size_refresh_seconds=0.05)
    try:
        async with client(port_of(listeners)) as smtp:
            assert f"SIZE {10 * MEGABYTE}" in (await smtp.ehlo()).message
        await set_max_email_mb(database, 3)
        for _ in range(200):
            if listeners.size.bytes == 3 * MEGABYTE:
                break
            await asyncio.sleep(0.02)
        async with client(port_of(listeners)) as smtp:  # a new connection sees the new limit
            assert f"SIZE {3 * MEGABYTE}" in (await smtp.ehlo()).message
    finally:
        await listeners.close()


# --- durability ---------------------------------------------------------------------------------


async def test_accepted_message_is_stored_byte_exact_with_its_ingest_job_then_250(
    listeners: MailListeners,
    database: Database,
    blobs: FileBlobStore,
    runtime: ListenerRuntimeDouble,
) -> None:
    raw, _ = message()
    raw += b"..leading dot line is unstuffed\r\n"  # RFC 5321 §4.5.2 transparency
    ingestion_id = queued_id(await send(port_of(listeners), raw, [SUPPORT]))
    [row] = await ingestion_rows(database)
    assert row["id"] == ingestion_id
    assert row["state"] is IngestionState.RECEIVED
    assert row["source"] is IngestionSource.SMTP
    assert row["envelope_from"] == CUSTOMER
    assert row["size"] == len(raw)
    assert await blobs.get(row["raw_sha256"]) == raw  # the bytes as sent, dot-stuffing undone
    [job] = await ingest_jobs(database)
    assert job["payload"]["ingestion_id"] == ingestion_id
    assert runtime.wakes == [1]  # the worker was told after the commit


async def test_null_sender_bounce_is_accepted_with_an_empty_envelope_from(
    listeners: MailListeners, database: Database
) -> None:
    raw, _ = message(subject="Undelivered Mail Returned to Sender")
    async with client(port_of(listeners)) as smtp:
        await smtp.ehlo()
        assert (await smtp.execute_command(b"MAIL", b"FROM:<>")).code == 250
        assert (await smtp.execute_command(b"RCPT", f"TO:<{SUPPORT}>".encode())).code == 250
        queued_id(await smtp.data(raw))
    [row] = await ingestion_rows(database)
    assert row["envelope_from"] == ""


async def test_250_is_sent_only_after_the_commit(
    listeners: MailListeners,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    committing, release = asyncio.Event(), asyncio.Event()
    sessionmaker = database.sessionmaker

    class HeldCommit(SqlUnitOfWork):
        async def commit(self) -> None:
            committing.set()
            await release.wait()
            await super().commit()

    monkeypatch.setattr(database, "uow", lambda: HeldCommit(sessionmaker))
    raw, _ = message()
    sending = asyncio.create_task(send(port_of(listeners), raw, [SUPPORT]))
    await asyncio.wait_for(committing.wait(), timeout=30)
    await asyncio.sleep(0.3)
    assert not sending.done()  # the commit is pending: no reply yet
    if not database.is_sqlite:  # (SQLite: the held transaction holds the only write lock)
        assert await ingestion_rows(database) == []
    release.set()
    ingestion_id = queued_id(await asyncio.wait_for(sending, timeout=30))
    assert [row["id"] for row in await ingestion_rows(database)] == [ingestion_id]


async def test_messages_arriving_during_a_commit_share_the_next_commit(
    listeners: MailListeners,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Group commit (receive_batches.py): one transaction for what arrived together, and still
    no 250 before that transaction's commit."""
    committing, release = asyncio.Event(), asyncio.Event()
    commits: list[int] = []
    sessionmaker = database.sessionmaker

    class FirstCommitHeld(SqlUnitOfWork):
        async def commit(self) -> None:
            commits.append(1)
            if len(commits) == 1:
                committing.set()
                await release.wait()
            await super().commit()

    port = port_of(listeners)
    waiting = [client(port) for _ in range(3)]
    for smtp in waiting:  # up to RCPT now: on SQLite a held transaction would block the lookup
        await smtp.connect()
        await smtp.mail(CUSTOMER)
        await smtp.rcpt(SUPPORT)
    monkeypatch.setattr(database, "uow", lambda: FirstCommitHeld(sessionmaker))
    first = asyncio.create_task(send(port, message()[0], [SUPPORT]))
    await asyncio.wait_for(committing.wait(), timeout=30)
    others = [asyncio.create_task(data_reply(smtp, message()[0])) for smtp in waiting]
    for _ in range(1000):
        if listeners.batcher.waiting == 3:
            break
        await asyncio.sleep(0.01)
    assert listeners.batcher.waiting == 3
    assert not any(task.done() for task in [first, *others])  # nobody answered before commit
    release.set()
    replies = await asyncio.wait_for(asyncio.gather(first, *others), timeout=30)
    for smtp in waiting:
        await smtp.quit()
    ids = [queued_id(reply) for reply in replies]
    assert len(set(ids)) == 4
    assert len(commits) == 2  # the first alone, then the three that came during its commit
    assert sorted(row["id"] for row in await ingestion_rows(database)) == sorted(ids)


async def test_database_outage_at_rcpt_is_answered_451(
    listeners: MailListeners,
    runtime: ListenerRuntimeDouble,
    database: Database,
    tmp_path: Path,
) -> None:
    runtime.database = broken_database(database, tmp_path)
    try:
        async with client(port_of(listeners)) as smtp:
            await smtp.mail(CUSTOMER)
            reply = await smtp.execute_command(b"RCPT", f"TO:<{SUPPORT}>".encode())
        assert (reply.code, reply.message[:5]) == (451, "4.3.0")
    finally:
        await runtime.database.dispose()
        runtime.database = database
    raw, _ = message()  # back: the same listener accepts again
    queued_id(await send(port_of(listeners), raw, [SUPPORT]))


async def test_database_outage_during_data_is_answered_451_and_nothing_is_half_stored(
    listeners: MailListeners,
    runtime: ListenerRuntimeDouble,
    database: Database,
    tmp_path: Path,
) -> None:
    raw, _ = message()
    broken = broken_database(database, tmp_path)
    try:
        async with client(port_of(listeners)) as smtp:
            await smtp.mail(CUSTOMER)
            assert (await smtp.execute_command(b"RCPT", f"TO:<{SUPPORT}>".encode())).code == 250
            runtime.database = broken  # the database goes away between RCPT and DATA
            with pytest.raises(aiosmtplib.SMTPDataError) as refused:
                await smtp.data(raw)
    finally:
        runtime.database = database
        await broken.dispose()
    assert (refused.value.code, refused.value.message[:5]) == (451, "4.3.0")
    assert await ingestion_rows(database) == []
    assert await ingest_jobs(database) == []
    assert runtime.wakes == []


async def test_disk_failure_during_data_is_answered_451_and_nothing_is_stored(
    listeners: MailListeners, runtime: ListenerRuntimeDouble, database: Database, tmp_path: Path
) -> None:
    blocker = tmp_path / "blobs-are-a-file"
    blocker.write_bytes(b"")
    runtime.blobs = FileBlobStore(blocker)  # every write fails (NotADirectoryError)
    raw, _ = message()
    reply = await send(port_of(listeners), raw, [SUPPORT])
    assert (reply.code, reply.message[:5]) == (451, "4.3.0")
    assert await ingestion_rows(database) == []


async def test_engine_errors_are_logged_by_type_without_addresses(
    listeners: MailListeners, caplog: pytest.LogCaptureFixture
) -> None:
    """aiosmtpd logs every address at INFO; the listener turns its logger down (STYLE.md 15)."""
    import logging

    caplog.set_level(logging.INFO)
    raw, _ = message()
    queued_id(await send(port_of(listeners), raw, [SUPPORT]))
    assert logging.getLogger(ENGINE_LOGGER).getEffectiveLevel() >= logging.WARNING
    assert all(CUSTOMER not in r.getMessage() and SUPPORT not in r.getMessage()
               for r in caplog.records)  # fmt: skip
    assert any(getattr(r, "fields", {}).get("ingestion_id") for r in caplog.records)


# --- LMTP ---------------------------------------------------------------------------------------


async def read_reply(reader: asyncio.StreamReader) -> list[str]:
    """One reply, all its lines (`250-...` continues, `250 ...` ends)."""
    lines: list[str] = []
    while True:
        line = (await asyncio.wait_for(reader.readline(), timeout=30)).decode().rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return lines


async def lmtp_session(
    port: int,
    recipients: list[str],
    raw: bytes,
    *,
    before_data: Callable[[], None] = lambda: None,
) -> tuple[list[str], list[str]]:
    """LHLO, MAIL, one RCPT per recipient, DATA: returns the RCPT replies and the replies after
    the message (as many as RCPTs were accepted, RFC 2033 §4.2)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def command(line: str) -> str:
        writer.write(line.encode() + b"\r\n")
        return (await read_reply(reader))[-1]

    try:
        await read_reply(reader)  # greeting
        assert (await command("LHLO client.example.org")).startswith("250")
        assert (await command(f"MAIL FROM:<{CUSTOMER}>")).startswith("250")
        rcpt = [await command(f"RCPT TO:<{r}>") for r in recipients]
        before_data()
        assert (await command("DATA")).startswith("354")
        writer.write(raw + (b"" if raw.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        accepted = sum(reply.startswith("250") for reply in rcpt)
        after = [(await read_reply(reader))[-1] for _ in range(accepted)]
    finally:
        writer.close()
        await writer.wait_closed()
    return rcpt, after


async def test_lmtp_answers_each_accepted_recipient_after_data(
    listeners: MailListeners, database: Database
) -> None:
    raw, _ = message()
    port = port_of(listeners, IngestionSource.LMTP)
    rcpt, after = await lmtp_session(port, [SUPPORT, UNKNOWN, SALES], raw)
    assert [r[:3] for r in rcpt] == ["250", "550", "250"]
    [row] = await ingestion_rows(database)
    assert after == [f"250 2.0.0 Ok: queued as {row['id']}"] * 2  # one per recipient
    assert row["source"] is IngestionSource.LMTP
    assert row["recipients"] == [SUPPORT, SALES]  # one message, one ingestion


async def test_lmtp_refuses_a_too_large_message_once_per_recipient(
    site: BasicSite, runtime: ListenerRuntimeDouble, database: Database
) -> None:
    await set_max_email_mb(database, 1)
    listeners = await start_mail_listeners(runtime)
    try:
        big, _ = message(size=MEGABYTE + 10_000)
        port = port_of(listeners, IngestionSource.LMTP)
        _, after = await lmtp_session(port, [SUPPORT, SALES], big)
    finally:
        await listeners.close()
    assert after == [smtp_codes.REPLY_552_MESSAGE_TOO_LARGE] * 2
    assert await ingestion_rows(database) == []


async def test_lmtp_database_outage_is_answered_451_per_recipient(
    listeners: MailListeners, runtime: ListenerRuntimeDouble, database: Database, tmp_path: Path
) -> None:
    raw, _ = message()
    broken = broken_database(database, tmp_path)

    def break_database() -> None:
        runtime.database = broken

    try:
        port = port_of(listeners, IngestionSource.LMTP)
        _, after = await lmtp_session(port, [SUPPORT, SALES], raw, before_data=break_database)
    finally:
        runtime.database = database
        await broken.dispose()
    assert after == [smtp_codes.REPLY_451_TRY_AGAIN] * 2
    assert await ingestion_rows(database) == []


# --- STARTTLS -----------------------------------------------------------------------------------


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", f"/CN={MAIL_DOMAIN}", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


async def test_starttls_with_a_configured_certificate(
    site: BasicSite, runtime: ListenerRuntimeDouble, database: Database, tmp_path: Path
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    runtime.settings = runtime.settings.model_copy(
        update={"smtp_tls_cert_file": cert, "smtp_tls_key_file": key}
    )
    listeners = await start_mail_listeners(runtime)
    trust = ssl.create_default_context(cafile=str(cert))  # verifies the chain and 127.0.0.1
    raw, _ = message()
    try:
        async with client(port_of(listeners), tls_context=trust) as smtp:
            plain = await smtp.ehlo()
            assert "STARTTLS" in plain.message
            assert "AUTH" not in plain.message  # the listener only receives
            await smtp.starttls()
            assert smtp.get_transport_info("peercert") is not None
            secured = await smtp.ehlo()
            assert "STARTTLS" not in secured.message
            assert "AUTH" not in secured.message
            await smtp.mail(CUSTOMER)
            await smtp.rcpt(SUPPORT)
            ingestion_id = queued_id(await smtp.data(raw))
    finally:
        await listeners.close()
    assert [row["id"] for row in await ingestion_rows(database)] == [ingestion_id]


async def test_starttls_is_optional_when_a_certificate_is_configured(
    site: BasicSite, runtime: ListenerRuntimeDouble, tmp_path: Path
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    runtime.settings = runtime.settings.model_copy(
        update={"smtp_tls_cert_file": cert, "smtp_tls_key_file": key}
    )
    listeners = await start_mail_listeners(runtime)
    try:
        raw, _ = message()
        queued_id(await send(port_of(listeners), raw, [SUPPORT]))  # in the clear
    finally:
        await listeners.close()


async def test_missing_certificate_fails_start_up_loudly(
    site: BasicSite, runtime: ListenerRuntimeDouble, tmp_path: Path
) -> None:
    runtime.settings = runtime.settings.model_copy(
        update={"smtp_tls_cert_file": tmp_path / "missing.pem"}
    )
    with pytest.raises(FileNotFoundError):
        await start_mail_listeners(runtime)


# --- shutdown -----------------------------------------------------------------------------------


async def test_close_says_421_to_connected_clients(
    site: BasicSite, runtime: ListenerRuntimeDouble
) -> None:
    listeners = await start_mail_listeners(runtime)
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of(listeners))
    try:
        assert (await reader.readline()).startswith(b"220 " + MAIL_DOMAIN.encode())
        await asyncio.wait_for(listeners.close(), timeout=15)
        assert (await reader.readline()).decode().rstrip() == smtp_codes.REPLY_421_SHUTTING_DOWN
        assert await reader.read() == b""
    finally:
        writer.close()
        await writer.wait_closed()


# --- hostile input, large input, and the whole way to an activity -------------------------------


async def send_exact(port: int, raw: bytes) -> tuple[str, str]:
    """Send `raw` as it is (only dot-stuffed, RFC 5321 §4.5.2; a client library would also
    normalize line endings), then NOOP on the same session; returns (DATA reply, NOOP reply)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def command(line: bytes) -> str:
        writer.write(line)
        return (await read_reply(reader))[-1]

    try:
        await read_reply(reader)
        assert (await command(b"EHLO client.example.org\r\n")).startswith("250")
        assert (await command(f"MAIL FROM:<{CUSTOMER}>\r\n".encode())).startswith("250")
        assert (await command(f"RCPT TO:<{SUPPORT}>\r\n".encode())).startswith("250")
        assert (await command(b"DATA\r\n")).startswith("354")
        body = (b"." if raw.startswith(b".") else b"") + raw.replace(b"\r\n.", b"\r\n..")
        if body and not body.endswith(b"\r\n"):
            body += b"\r\n"  # the end of data is CRLF . CRLF: the last line must end
        data = await command(body + b".\r\n")
        return data, await command(b"NOOP\r\n")
    finally:
        writer.close()
        await writer.wait_closed()


async def test_hostile_corpus_is_accepted_or_clearly_refused_and_the_listener_serves_on(
    listeners: MailListeners, database: Database, blobs: FileBlobStore
) -> None:
    accepted: set[str] = set()
    for name, raw in tricky_messages().items():
        data, noop = await send_exact(port_of(listeners), raw)
        assert noop.startswith("250"), (name, noop)  # the session survives the message
        if not data.startswith("250"):
            assert re.match(r"5\d\d 5\.\d+\.\d+ ", data), (name, data)  # a clear refusal
            continue
        accepted.add(name)
        async with database.uow() as uow:
            stored = await uow.ingestions.get(int(data.rsplit(" ", 1)[1]))
        assert stored is not None, name
        expected = raw if not raw or raw.endswith(b"\r\n") else raw + b"\r\n"
        assert await blobs.get(stored.raw_sha256) == expected, name  # byte-exact
    # Only a line over MAX_LINE_BYTES is refused (the 1 MB header line), and nothing else.
    assert set(tricky_messages()) - accepted == {"long_header_line"}
    assert len(await ingestion_rows(database)) == len(accepted)


async def test_lines_over_1000_octets_are_accepted_up_to_max_line_bytes_then_refused_500(
    listeners: MailListeners, database: Database
) -> None:
    """RFC 5321 §4.5.3.1: receivers should not limit what they can take; the 1000-octet line
    of §4.5.3.1.6 binds senders, and real mail breaks it."""
    head, _ = message()
    long_ok = head + b"y" * (MAX_LINE_BYTES - 100) + b"\r\n"
    data, _ = await send_exact(port_of(listeners), long_ok)
    assert data.startswith("250 2.0.0"), data
    too_long = head + b"z" * (MAX_LINE_BYTES + 1) + b"\r\n"
    data, noop = await send_exact(port_of(listeners), too_long)
    assert data == smtp_codes.REPLY_500_LINE_TOO_LONG
    assert noop.startswith("250")
    assert len(await ingestion_rows(database)) == 1


@pytest.mark.slow  # aiosmtpd reads DATA line by line: 25 MB take a few seconds
async def test_large_message_within_the_limit_is_stored_byte_exact(
    site: BasicSite, runtime: ListenerRuntimeDouble, database: Database, blobs: FileBlobStore
) -> None:
    raw, _attachment = large_message()  # 25 MB
    await set_max_email_mb(database, 30)
    listeners = await start_mail_listeners(runtime)
    try:
        data, _ = await send_exact(port_of(listeners), raw)
    finally:
        await listeners.close()
    assert data.startswith("250 2.0.0"), data
    async with database.uow() as uow:
        stored = await uow.ingestions.get(int(data.rsplit(" ", 1)[1]))
    assert stored is not None and stored.size == len(raw)
    assert await blobs.get(stored.raw_sha256) == raw


async def test_mail_sent_by_smtp_becomes_an_activity_and_its_reply_joins_the_case(
    site: BasicSite, database: Database, database_url: str, tmp_path: Path
) -> None:
    """The composition as `serve` builds it: the app's runtime, its listeners, its worker."""
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, smtp_port=0, mail_domain=MAIL_DOMAIN
    )
    app_runtime = build_runtime(settings)
    worker = build_worker(app_runtime)
    listeners = await start_mail_listeners(app_runtime, on_received=worker.wake)
    try:
        first, first_id = message(subject="Order 1234 not delivered")
        queued_id(await send(port_of(listeners), first, [SUPPORT]))
        assert await worker.run_once() == 1
        reply_msg = EmailMessage()
        reply_msg["From"] = CUSTOMER
        reply_msg["To"] = SUPPORT
        reply_msg["Subject"] = "Re: Order 1234 not delivered"
        reply_msg["Message-ID"] = make_msgid(domain="example.org")
        reply_msg["In-Reply-To"] = f"<{first_id}>"
        reply_msg.set_content("Still nothing.\n")
        reply_raw = reply_msg.as_bytes(policy=reply_msg.policy.clone(linesep="\r\n"))
        queued_id(await send(port_of(listeners), reply_raw, [SUPPORT]))
        assert await worker.run_once() == 1
    finally:
        await listeners.close()
        await app_runtime.database.dispose()
    rows = await ingestion_rows(database)
    assert [row["state"] for row in rows] == [IngestionState.STORED] * 2, rows
    async with database.uow() as uow:
        activities = await uow.activities.get_many([row["activity_id"] for row in rows])
    assert len(activities) == 2
    assert {a.subject for a in activities} == {
        "Order 1234 not delivered",
        "Re: Order 1234 not delivered",
    }
    assert activities[0].case_id is not None
    assert activities[0].case_id == activities[1].case_id  # threaded by In-Reply-To
    assert all(a.department_id == site.service.id for a in activities)  # the alias's department
