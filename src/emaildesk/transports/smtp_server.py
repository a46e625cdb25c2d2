"""The SMTP and LMTP listeners: accept mail for our active aliases, store it durably, then 250.

DESIGN.md "Mail": transports accept fast and process later, as Mailman's LMTP runner does. The
protocol engine is aiosmtpd's (`SMTP`, `LMTP`), opened with `loop.create_server` on the server's
own event loop (no threads, STYLE.md "Avoid"); this module is the thin handler with hooks:

- **RCPT**: one indexed lookup (`directory.alias_by_address`); unknown or inactive → 550 5.1.1,
  before any body is read (STYLE.md habit 3). The database away → 451 4.3.0.
- **SIZE** (RFC 1870): the partition's `max_email_size_mb`, advertised in EHLO and enforced by
  the engine while DATA is read (`data_size_limit`): over it → 552 5.3.4 and the bytes are
  dropped as they arrive. Read at start and refreshed every `SIZE_REFRESH_SECONDS`; a new
  connection gets the newest value (the engine is built per connection).
- **DATA**: `receive_raw` (blob written and fsynced, ingestion row, `mail.ingest` job) in a
  unit of work, committed (messages arriving together share one commit: receive_batches.py);
  *then* `250 2.0.0 Ok: queued as <ingestion id>`, then the in-process worker is woken. Any
  failure to store → 451 4.3.0, never 250: the sender's queue keeps the message and retries,
  and the parse worker's dedupe makes a retry of a message whose commit did happen (a crash
  between commit and reply) a duplicate, not a second activity.
- **LMTP** (RFC 2033 §4.2): one reply per accepted recipient after DATA. One message is one
  ingestion carrying all its recipients, so every recipient gets the same answer.
- **STARTTLS** (RFC 3207) when `smtp_tls_cert_file` is set, never required (mail from the
  internet arrives in the clear too); no AUTH: these listeners only receive.

The store runs apart from the connection: a client that hangs up while we commit does not cancel
the transaction half-way; it gets no 250 and retries (the parse worker makes that a duplicate).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, AnyStr, Protocol

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from emaildesk.db.database import Database
from emaildesk.domain.addresses import normalize_address
from emaildesk.domain.directory import DEFAULT_MAX_EMAIL_MB
from emaildesk.domain.ingestion import IngestionSource
from emaildesk.settings import Settings
from emaildesk.transports import smtp_codes as codes
from emaildesk.transports.receive_batches import ReceiveBatcher, ReceivingRuntime

log = logging.getLogger(__name__)

MEGABYTE = 1024 * 1024  # max_email_size_mb counts MiB, as the v3 size check does
SERVER_TIMEOUT_SECONDS = 300.0  # RFC 5321 §4.5.3.2.7: a server waits at least 5 min per command
STORE_TIMEOUT_SECONDS = 120.0  # well inside the client's 10 min DATA wait, RFC 5321 §4.5.3.2.6
LOOKUP_TIMEOUT_SECONDS = 60.0  # the client waits 5 min for the RCPT reply, RFC 5321 §4.5.3.2.3
MAX_LINE_BYTES = 64 * 1024  # RFC 5321 §4.5.3.1.6 says 1000; see _EngineSettings
MAX_RECIPIENTS = 100  # RFC 5321 §4.5.3.1.8: at least 100 must be accepted; more get 452
SIZE_REFRESH_SECONDS = 60.0
CLOSE_GRACE_SECONDS = 10.0  # close(): how long messages being stored may take to finish
IDENT = "emaildesk"  # the greeting says who we are, not which library versions to attack
NULL_SENDER = "<>"  # RFC 5321 §4.5.5: bounces come from the null reverse-path
ENGINE_LOGGER = "mail.log"  # aiosmtpd's logger: INFO lines quote addresses (STYLE.md habit 15)

ReceivedCallback = Callable[[], Awaitable[None]]


class ListenerRuntime(ReceivingRuntime, Protocol):
    """What the listeners need of the composition root's `Runtime` (structurally, so this edge
    does not import the HTTP edge's module)."""

    @property
    def settings(self) -> Settings: ...


@dataclass
class SizeLimit:
    """The largest message accepted, in bytes: RFC 1870 SIZE, from the partition settings."""

    bytes: int = DEFAULT_MAX_EMAIL_MB * MEGABYTE

    async def refresh(self, database: Database) -> None:
        """Re-read the partition setting; on failure keep the last value (the database may be
        briefly away, and a stale limit is better than refusing all mail)."""
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT_SECONDS), database.uow() as uow:
                settings = await uow.directory.settings()
        except Exception as exc:  # boundary of a periodic task: log, keep serving
            log.warning("smtp size limit not refreshed", extra={"fields": _error_fields(exc)})
            return
        self.bytes = settings.max_email_size_mb * MEGABYTE


class MailHandler:
    """aiosmtpd's hooks (`handle_*`), for one listener (its source: SMTP or LMTP)."""

    def __init__(
        self,
        runtime: ListenerRuntime,
        source: IngestionSource,
        batcher: ReceiveBatcher,
        *,
        on_received: ReceivedCallback | None = None,
        store_timeout: float = STORE_TIMEOUT_SECONDS,
    ) -> None:
        self._runtime = runtime
        self.source = source
        self._batcher = batcher
        self._on_received = on_received
        self._store_timeout = store_timeout
        self._replying = 0  # DATA replies being decided
        self.idle = asyncio.Event()  # set while no DATA reply is being decided (for close())
        self.idle.set()

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        """Advertise no AUTH (aiosmtpd offers it after STARTTLS): we only receive. The hook
        takes over remembering the client's name from the engine."""
        session.host_name = hostname
        return [line for line in responses if not line[4:].upper().startswith("AUTH")]

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return codes.REPLY_452_TOO_MANY_RECIPIENTS
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT_SECONDS), self._runtime.database.uow() as uow:
                alias = await uow.directory.alias_by_address(address)
        except Exception as exc:  # the SMTP command is the transaction boundary: 4xx, retry
            log.warning(
                "smtp recipient check failed; answered 451",
                extra={"fields": {"source": self.source.value, **_error_fields(exc)}},
            )
            return codes.REPLY_451_TRY_AGAIN
        if alias is None or not alias.active:
            return codes.REPLY_550_NO_SUCH_RECIPIENT
        # Every accepted RCPT is kept, repeats included: LMTP owes one reply per RCPT.
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return codes.REPLY_250_RECIPIENT_OK

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        self._replying += 1
        self.idle.clear()
        try:
            reply = await self._store_and_reply(envelope)
        finally:
            self._replying -= 1
            if not self._replying:
                self.idle.set()
        if self.source is IngestionSource.LMTP:  # RFC 2033 §4.2: one reply per recipient
            return "\r\n".join([reply] * len(envelope.rcpt_tos))
        return reply

    async def handle_exception(self, error: Exception) -> str:
        """An error inside the engine: say 451 (the message, if any, is not ours) and log only
        the type; aiosmtpd's default would send the exception's text to the client."""
        log.error(
            "smtp session error; answered 451",
            extra={"fields": {"source": self.source.value, **_error_fields(error)}},
        )
        return codes.REPLY_451_TRY_AGAIN

    async def _store_and_reply(self, envelope: Any) -> str:
        raw: bytes = envelope.original_content
        envelope_from = "" if envelope.mail_from == NULL_SENDER else envelope.mail_from
        recipients = list(dict.fromkeys(normalize_address(a) for a in envelope.rcpt_tos))
        try:
            async with asyncio.timeout(self._store_timeout):
                ingestion = await self._batcher.store(
                    raw, source=self.source, envelope_from=envelope_from, recipients=recipients
                )
        except Exception as exc:  # the SMTP transaction boundary: never 250 without a commit
            log.warning(
                "smtp message not stored; answered 451",
                extra={
                    "fields": {"source": self.source.value, "size": len(raw), **_error_fields(exc)}
                },
            )
            return codes.REPLY_451_TRY_AGAIN
        log.info(
            "mail received",
            extra={
                "fields": {
                    "source": self.source.value,
                    "ingestion_id": ingestion.id,
                    "size": ingestion.size,
                    "sha256": ingestion.raw_sha256,
                    "recipients": len(recipients),
                }
            },
        )
        await self._wake()
        return codes.REPLY_250_QUEUED.format(ingestion_id=ingestion.id)

    async def _wake(self) -> None:
        """Tell the in-process worker there is mail; it polls anyway, so a failure here must
        not turn a committed message into an error reply."""
        if self._on_received is None:
            return
        try:
            await self._on_received()
        except Exception as exc:  # the message is committed: its 250 stands
            log.warning("worker wake-up failed", extra={"fields": _error_fields(exc)})


class _EngineSettings:
    """What our SMTP and LMTP engines change in aiosmtpd's.

    Replies: aiosmtpd's fixed texts for the size and line limits get ours, with enhanced status
    codes; under LMTP a failure of DATA is repeated once per recipient (RFC 2033 §4.2).

    Line length: RFC 5321 §4.5.3.1.6 caps a line at 1000 octets for *senders*, and §4.5.3.1 asks
    receivers to impose no limits where they can; real mail breaks the cap (unwrapped base64,
    long HTML lines). We take lines up to `MAX_LINE_BYTES` (one line is buffered whole; the
    message stays bounded by SIZE) and refuse longer ones with 500 5.5.2 after reading them.
    """

    line_length_limit = MAX_LINE_BYTES
    envelope: Any
    lmtp: bool = False

    def translate(self, status: str) -> str:
        for engine_text, ours in codes.ENGINE_REPLIES.items():
            if status.startswith(engine_text):
                if self.lmtp and self.envelope is not None and self.envelope.rcpt_tos:
                    return "\r\n".join([ours] * len(self.envelope.rcpt_tos))
                return ours
        return status


class EmaildeskSMTP(_EngineSettings, SMTP):
    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str):
            await super().push(self.translate(status))
        else:
            await super().push(status)


class EmaildeskLMTP(_EngineSettings, LMTP):
    lmtp = True

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str):
            await super().push(self.translate(status))
        else:
            await super().push(status)


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """A server context for STARTTLS when a certificate is configured; a missing or bad file
    fails start-up loudly rather than silently serving without TLS."""
    if settings.smtp_tls_cert_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    key = settings.smtp_tls_key_file
    context.load_cert_chain(settings.smtp_tls_cert_file, key if key is not None else None)
    return context


@dataclass
class _Listener:
    source: IngestionSource
    server: asyncio.Server
    handler: MailHandler
    connections: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.sockets[0].getsockname()[:2]
        return str(host), int(port)


class MailListeners:
    """The running listeners; `close()` stops them (see there)."""

    def __init__(self, size: SizeLimit, batcher: ReceiveBatcher) -> None:
        self.size = size
        self.batcher = batcher  # shared: SMTP and LMTP messages commit in the same batches
        self._listeners: list[_Listener] = []
        self._refresher: asyncio.Task[None] | None = None

    def address(self, source: IngestionSource) -> tuple[str, int] | None:
        """(host, port) a listener is bound to (the real port when 0 was asked for), or None."""
        for listener in self._listeners:
            if listener.source is source:
                return listener.address
        return None

    def describe(self) -> list[str]:
        """`smtp://127.0.0.1:2525`-style lines for the start-up banner."""
        return [
            f"{listener.source.value}://{listener.address[0]}:{listener.address[1]}"
            for listener in self._listeners
        ]

    async def close(self) -> None:
        """Stop accepting; let messages being stored finish and get their reply (bounded by
        `CLOSE_GRACE_SECONDS`); then say 421 (RFC 5321 §3.8) to every connection and close it.
        A client cut off mid-message got no 250 and sends again later."""
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None
        for listener in self._listeners:
            listener.server.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_GRACE_SECONDS):
                for listener in self._listeners:
                    await listener.handler.idle.wait()
                await self.batcher.wait_idle()  # a batch whose replies timed out: let it end
        for listener in self._listeners:
            for protocol in list(listener.connections):
                transport = protocol.transport
                if transport is not None and not transport.is_closing():
                    transport.write(codes.REPLY_421_SHUTTING_DOWN.encode() + b"\r\n")
                    transport.close()
        for listener in self._listeners:
            await listener.server.wait_closed()
        self._listeners.clear()

    async def _open(
        self,
        runtime: ListenerRuntime,
        source: IngestionSource,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None,
        on_received: ReceivedCallback | None,
        store_timeout: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        handler = MailHandler(
            runtime, source, self.batcher, on_received=on_received, store_timeout=store_timeout
        )
        engine = EmaildeskLMTP if source is IngestionSource.LMTP else EmaildeskSMTP
        connections: weakref.WeakSet[Any] = weakref.WeakSet()

        def protocol() -> Any:
            connection = engine(
                handler,
                data_size_limit=self.size.bytes,  # RFC 1870: advertised in EHLO and enforced
                hostname=runtime.settings.mail_domain,
                ident=IDENT,
                tls_context=tls,
                require_starttls=False,
                timeout=SERVER_TIMEOUT_SECONDS,
                loop=loop,
            )
            connections.add(connection)
            return connection

        server = await loop.create_server(protocol, host, port)
        self._listeners.append(_Listener(source, server, handler, connections))

    def _start_refreshing(self, database: Database, interval: float) -> None:
        async def refresh_forever() -> None:
            while True:
                await asyncio.sleep(interval)
                await self.size.refresh(database)

        self._refresher = asyncio.create_task(refresh_forever(), name="smtp-size-refresh")


async def start_mail_listeners(
    runtime: ListenerRuntime,
    *,
    on_received: ReceivedCallback | None = None,
    store_timeout: float = STORE_TIMEOUT_SECONDS,
    size_refresh_seconds: float = SIZE_REFRESH_SECONDS,
) -> MailListeners:
    """Open the SMTP listener (and the LMTP one when enabled) on the running loop.

    `on_received` is awaited after each committed message (the app passes the in-process
    worker's `wake`). The schema must exist (the caller migrates first): a listener may be
    asked for mail the moment it opens.
    """
    settings = runtime.settings
    # aiosmtpd logs every sender and recipient address at INFO; we log ids and hashes instead.
    logging.getLogger(ENGINE_LOGGER).setLevel(logging.WARNING)
    tls = tls_context(settings)
    size = SizeLimit()
    await size.refresh(runtime.database)
    listeners = MailListeners(size, ReceiveBatcher(runtime))
    try:
        if settings.smtp_enabled:
            await listeners._open(
                runtime,
                IngestionSource.SMTP,
                settings.smtp_host,
                settings.smtp_port,
                tls=tls,
                on_received=on_received,
                store_timeout=store_timeout,
            )
        if settings.lmtp_enabled:
            await listeners._open(
                runtime,
                IngestionSource.LMTP,
                settings.lmtp_host,
                settings.lmtp_port,
                tls=tls,
                on_received=on_received,
                store_timeout=store_timeout,
            )
    except BaseException:
        await listeners.close()
        raise
    listeners._start_refreshing(runtime.database, size_refresh_seconds)
    return listeners


def _error_fields(exc: BaseException) -> dict[str, str]:
    """What a log line may say about a failure: its type (the text may quote addresses)."""
    return {"error": type(exc).__name__}
