"""Outbound SMTP: hand a finished message to the configured relay (`aiosmtplib`).

This module is the one place that maps the relay's answers and the network's failures onto what
the outbox worker can do about them (STYLE.md: one place maps a library's errors to ours):

- a 4yz reply, a dropped or refused connection, a timeout → `TransientJobError`: the worker
  retries with exponential backoff (RFC 5321 §4.2.1: "the same request ... may be successful
  later"; §4.5.4.1: a client must retry, not give up, on transient failures);
- a 5yz reply → `PermanentJobError` carrying the server's reply text, which the send job records
  on the activity so an agent sees why ("550 5.1.1 no such user");
- some recipients refused at RCPT, the rest accepted: the message is delivered to those who
  accepted, and the refusals are returned to the caller, per recipient, with their replies. A
  client must not resend to recipients who accepted (that would deliver twice), so a partial
  refusal is not an error of the whole send.

The wire bytes are produced once by `wire_bytes`: 7-bit clean (quoted-printable or base64 for
non-ASCII bodies), CRLF line ends. 7-bit because a relay without 8BITMIME would have to downgrade
an 8-bit body, and the downgrade would break a DKIM body hash (RFC 6376 §5.3: signers SHOULD
convert to a 7-bit transfer encoding before signing); and because the same bytes are what the
maildir default stores.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from enum import Enum
from typing import NamedTuple

import aiosmtplib

from emaildesk.settings import Settings
from emaildesk.workers.errors import PermanentJobError, TransientJobError

# RFC 5321 §4.2.1: the first digit says who may retry.
TRANSIENT_CLASS = 4
PERMANENT_CLASS = 5
MAX_REPLY_TEXT = 500  # replies are stored on the activity; a hostile relay could send pages

WIRE_POLICY = SMTP_POLICY.clone(cte_type="7bit")
"""CRLF line ends (RFC 5321 §2.3.8), lines folded at 78 (RFC 5322 §2.1.1), 7-bit bodies."""


class RelaySecurity(Enum):
    """How the connection to the relay is protected (settings `relay_security`)."""

    NONE = "none"  # plain text: a relay on loopback or a trusted network only
    STARTTLS = "starttls"  # RFC 3207: upgrade after EHLO; refused if the relay does not offer it
    TLS = "tls"  # RFC 8314 §3.3: implicit TLS from the first byte (port 465)


class Reply(NamedTuple):
    """A relay's answer to one recipient: the reply code and the text after it."""

    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


Refusals = dict[str, Reply]
"""Recipients the relay refused at RCPT while accepting others: address → its reply."""


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as it goes over the wire (and into the maildir): see the module docstring."""
    return message.as_bytes(policy=WIRE_POLICY)


def _reply_text(text: str) -> str:
    return " ".join(text.split())[:MAX_REPLY_TEXT]


def _is_permanent(code: int) -> bool:
    return code // 100 == PERMANENT_CLASS


def _job_error(code: int, text: str, during: str) -> TransientJobError | PermanentJobError:
    """A relay's error reply as a job failure, classified by the reply code's first digit.

    Codes outside 4yz/5yz (an out-of-sequence 2yz or 3yz, a garbled reply that aiosmtplib
    reports as -1) count as transient: the relay misbehaved, which is not a verdict on the mail.
    """
    reason = f"{code} {_reply_text(text)}"
    if _is_permanent(code):
        return PermanentJobError(reason)
    return TransientJobError(f"{reason} ({during})")


@dataclass(frozen=True)
class RelayConfig:
    host: str
    port: int = 25
    security: RelaySecurity = RelaySecurity.STARTTLS
    username: str | None = None
    password: str = ""
    timeout: float = 60.0  # seconds per command; RFC 5321 §4.5.3.2 allows minutes, we retry

    def __repr__(self) -> str:  # never print the password
        return (
            f"RelayConfig(host={self.host!r}, port={self.port}, security={self.security.value}, "
            f"username={self.username!r})"
        )


class RelaySender:
    """Delivers to one SMTP relay, one connection per message.

    One connection per message keeps a failure to that message: a relay that drops the
    connection mid-transaction cannot leave the next message on a half-finished session. The
    outbox worker's batches are small, so the extra handshakes cost little.
    """

    def __init__(self, config: RelayConfig, *, tls_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        # None: the system's trust store with host name checking (aiosmtplib's default).
        self._tls_context = tls_context

    def describe(self) -> str:
        return f"relay {self.config.host}:{self.config.port} ({self.config.security.value})"

    def _client(self) -> aiosmtplib.SMTP:
        config = self.config
        return aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username or None,
            password=config.password if config.username else None,
            timeout=config.timeout,
            use_tls=config.security is RelaySecurity.TLS,
            # True demands STARTTLS (a relay that does not offer it fails the send rather than
            # receiving the message in clear text); False never upgrades.
            start_tls=config.security is RelaySecurity.STARTTLS,
            tls_context=self._tls_context,
        )

    async def send(
        self, message: EmailMessage | bytes, envelope_from: str, recipients: list[str]
    ) -> Refusals:
        """Deliver to the relay; return the recipients it refused while accepting the rest.

        Raises `TransientJobError` (retry later) or `PermanentJobError` (give up; the reason
        holds the relay's reply). When every recipient is refused the whole send fails, and
        permanently only when every refusal is permanent: a temporarily refused recipient may
        yet accept.
        """
        if not recipients:
            raise PermanentJobError("no recipients")
        raw = message if isinstance(message, bytes) else wire_bytes(message)
        options = _mail_options(envelope_from, recipients)
        client = self._client()
        try:
            async with client:
                errors, _data_reply = await client.sendmail(
                    envelope_from, recipients, raw, mail_options=options
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _all_refused(exc.recipients) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _job_error(exc.code, exc.message, type(exc).__name__) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # Connection refused or dropped, timeouts, STARTTLS not offered or failed: the
            # relay may be back later (aiosmtplib's timeouts are TimeoutError subclasses).
            raise TransientJobError(f"{type(exc).__name__}: {_reply_text(str(exc))}") from exc
        except ValueError as exc:
            # aiosmtplib refuses an address it cannot put on the wire safely (CR/LF, non-ASCII
            # without SMTPUTF8) before sending anything: no retry can change that.
            raise PermanentJobError(f"address not sendable: {_reply_text(str(exc))}") from exc
        return {
            address: Reply(response.code, _reply_text(response.message))
            for address, response in errors.items()
        }


def _mail_options(envelope_from: str, recipients: list[str]) -> list[str]:
    """RFC 6531 §3.4: SMTPUTF8 on MAIL FROM when an envelope address is not ASCII (aiosmtplib
    then refuses a relay that lacks the extension, which surfaces as a transient failure)."""
    if not all(address.isascii() for address in [envelope_from, *recipients]):
        return ["SMTPUTF8"]
    return []


def _all_refused(
    refused: list[aiosmtplib.SMTPRecipientRefused],
) -> TransientJobError | PermanentJobError:
    replies = "; ".join(f"<{r.recipient}>: {r.code} {_reply_text(r.message)}" for r in refused)
    reason = f"all recipients refused: {replies}"
    if refused and all(_is_permanent(r.code) for r in refused):
        return PermanentJobError(reason)
    return TransientJobError(reason)


def relay_config_from_settings(settings: Settings) -> RelayConfig:
    """The relay named in settings; `relay_host` must be set (the caller chose the relay)."""
    if not settings.relay_host:
        raise ValueError("relay_host is not configured")
    return RelayConfig(
        host=settings.relay_host,
        port=settings.relay_port,
        security=RelaySecurity(settings.relay_security),
        username=settings.relay_username,
        password=settings.relay_password.get_secret_value(),
        timeout=settings.relay_timeout_seconds,
    )
