"""A real SMTP server on a loopback ephemeral port that plays the outbound relay in tests.

aiosmtpd's protocol engine runs on the test's own event loop (`loop.create_server`), so a test
can change how the relay answers between attempts without threads. Tests script it: replies to
hand out at MAIL, RCPT (per recipient) or DATA instead of accepting, for the next N
transactions, e.g. "421 for the first 25 DATA commands, then accept".
"""

from __future__ import annotations

import asyncio
import ssl
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

ACCEPT = "250 2.0.0 Ok: queued"
HOST = "127.0.0.1"


@dataclass
class Delivery:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # the bytes after DATA, as the client sent them (dot-unstuffed)

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class SinkHandler:
    """aiosmtpd handler hooks; the scripted replies are consumed one per command."""

    deliveries: list[Delivery] = field(default_factory=list)
    mail_replies: deque[str] = field(default_factory=deque)
    data_replies: deque[str] = field(default_factory=deque)
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address → reply, every time
    transactions: int = 0  # DATA commands seen, accepted or not

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.mail_replies:
            return self.mail_replies.popleft()
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.transactions += 1
        if self.data_replies:
            return self.data_replies.popleft()
        raw = envelope.original_content or b""
        self.deliveries.append(Delivery(envelope.mail_from or "", list(envelope.rcpt_tos), raw))
        return ACCEPT

    def message_id_counts(self) -> Counter[str]:
        return Counter(d.message_id for d in self.deliveries)


@dataclass
class Sink:
    handler: SinkHandler
    host: str
    port: int

    @property
    def deliveries(self) -> list[Delivery]:
        return self.handler.deliveries


class PasswordCheck:
    """An aiosmtpd authenticator accepting one login."""

    def __init__(self, username: str, password: str) -> None:
        self.expected = (username.encode(), password.encode())
        self.logins: list[str] = []

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and (data.login, data.password) == self.expected:
            self.logins.append(data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@asynccontextmanager
async def smtp_sink(
    handler: SinkHandler | None = None,
    *,
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    authenticator: PasswordCheck | None = None,
) -> AsyncIterator[Sink]:
    """Serve `handler` on 127.0.0.1:<ephemeral> until the block ends: `tls_context` offers
    STARTTLS, `implicit_tls` speaks TLS from the first byte (port 465 style)."""
    handler = handler or SinkHandler()
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        return SMTP(
            handler,
            hostname="sink.test",
            loop=loop,
            tls_context=tls_context,
            authenticator=authenticator,
            auth_require_tls=False,  # loopback test peer; the relay's TLS is tested separately
        )

    server = await loop.create_server(protocol, HOST, 0, ssl=implicit_tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield Sink(handler, HOST, port)
    finally:
        server.close()
        await server.wait_closed()
