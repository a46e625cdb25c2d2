"""The `email.send` outbox job: deliver one queued outbound email and record the outcome.

Exactly-once, as far as SMTP allows. The activity is marked SENT in the job's own transaction,
which the outbox worker commits only after the relay accepted the message (250 after DATA). A
worker that dies after the relay's 250 and before that commit leaves the job to be claimed again
(its lease runs out), and the retry sends the message again, with the SAME Message-ID: it was
fixed when the activity was queued (`services.outbound_email.queue_outbound`), and so were the
subject and Date. That is the guarantee: never a second copy without the same Message-ID, which
recipients' mail systems and our own inbound dedupe recognise as the same message. No protocol
can do better without the relay's help (RFC 5321 §4.5.4.1 accepts duplicates for this reason).

The attempt, in three steps:

1. **Read** the activity, its attachments and alias in a short transaction, compose the message
   (fixed Message-ID) and sign it (DKIM, when configured); then end that transaction. On SQLite
   a transaction holds the database's only write lock from its first statement, so it must not
   stay open across an SMTP conversation that may take a minute (workers/outbox_worker.py).
2. **Send**, with no transaction open.
3. **Record** in a fresh transaction:
   - accepted: SENT, `delivery_error` cleared (or listing the recipients the relay refused while
     accepting the rest), event `EmailSent`; the worker commits it together with the job's DONE.
   - some recipients refused *for now* (4yz at RCPT) while others accepted: the message is not
     sent again to those who have it; a follow-up job retries only the deferred recipients
     (payload `recipients`), later, with the same bytes and Message-ID.
   - permanent failure (5yz, or a message that cannot be composed): SEND_FAILED, the server's
     reply in `delivery_error`, event `EmailSendFailed`; then the job dies (DEAD).
   - transient failure (4yz, connection, timeout): the reply in `delivery_error`, the activity
     stays SENDING, the worker retries with backoff; on the job's last attempt, SEND_FAILED.
   A failure's record must outlive the worker's rollback of the attempt, so it is committed here,
   under the same lease check the worker uses (the job must still be ours), before re-raising.
"""

from __future__ import annotations

import hashlib
import logging
from email.message import EmailMessage
from typing import Protocol

from emaildesk.domain.activities import Activity, Substatus
from emaildesk.domain.clock import utcnow
from emaildesk.domain.events import Event
from emaildesk.domain.outbox import JobState, OutboxJob, backoff
from emaildesk.mail.compose import compose, envelope_recipients
from emaildesk.services.outbound_email import SEND_JOB, build_outbound
from emaildesk.services.outbox import enqueue
from emaildesk.services.ports import BlobStore, UnitOfWork
from emaildesk.settings import Settings
from emaildesk.transports.dkim import DkimSigner
from emaildesk.transports.maildir_sender import MaildirSender
from emaildesk.transports.smtp_client import (
    PERMANENT_CLASS,
    Refusals,
    RelaySender,
    relay_config_from_settings,
    wire_bytes,
)
from emaildesk.workers.errors import PermanentJobError, TransientJobError
from emaildesk.workers.outbox_worker import JobHandler

logger = logging.getLogger(__name__)

# Events (past tense, STYLE.md habit 11); candidates for domain/events.py.
EMAIL_SENT = "EmailSent"
EMAIL_SEND_FAILED = "EmailSendFailed"
SYSTEM_ACTOR = "system"
DEFERRED = "deferred"  # marks a recipient line in delivery_error that a follow-up job retries
BOUNDARY_PREFIX = "=_ed_"
BOUNDARY_HEX_CHARS = 32  # RFC 2046 §5.1.1: a boundary is at most 70 characters


class MailSender(Protocol):
    """Where outbound mail goes: `RelaySender` (SMTP relay) or `MaildirSender` (the default)."""

    async def send(
        self, message: EmailMessage | bytes, envelope_from: str, recipients: list[str]
    ) -> Refusals: ...

    def describe(self) -> str: ...


def email_send_handler(
    blobs: BlobStore,
    sender: MailSender,
    dkim: DkimSigner | None = None,
    *,
    default_from: str | None = None,
) -> JobHandler:
    """The handler for `email.send` jobs (payload `{"activity_id": n}`, and `recipients` for a
    follow-up to deferred recipients); see the module docstring for what it does."""

    async def handle(job: OutboxJob, uow: UnitOfWork) -> None:
        activity_id = _activity_id(job)
        only = _follow_up_recipients(job)
        # 1. Read and compose, then end the read transaction before talking to the relay.
        activity = await uow.activities.get(activity_id)
        if activity is None:
            raise PermanentJobError(f"activity {activity_id} does not exist")
        if only is None and activity.substatus is Substatus.SENT:
            return  # an earlier attempt was delivered and committed: nothing left to do
        if only is None and activity.substatus is not Substatus.SENDING:
            # Not ours to touch: a resend queues a new job (queue_outbound).
            raise PermanentJobError(
                f"activity {activity_id} is {activity.substatus.value}, not sending"
            )
        try:
            outbound = await build_outbound(uow, blobs, activity, default_from=default_from)
            message = compose(outbound)
            _fix_boundaries(message, outbound.message_id)
            raw = wire_bytes(message)
            recipients = only if only is not None else envelope_recipients(outbound)
        except (ValueError, LookupError) as exc:
            # ValueError: OutboundNotComposableError, mail.compose's ComposeError (a header
            # value that would inject a line); LookupError: an attachment's blob is missing.
            # No retry changes any of them.
            reason = f"cannot compose: {type(exc).__name__}: {exc}"
            await _record_failure(uow, job, activity_id, reason, final=True, only=only)
            raise PermanentJobError(reason) from exc
        if dkim is not None:
            raw = dkim.sign(raw)
        await uow.rollback()  # nothing was written; releases SQLite's lock for the send

        # 2. Send.
        try:
            refused = await sender.send(raw, outbound.from_address, recipients)
        except PermanentJobError as exc:
            await _record_failure(uow, job, activity_id, exc.reason, final=True, only=only)
            raise
        except TransientJobError as exc:
            final = job.attempts >= job.max_attempts  # the worker will declare the job dead
            await _record_failure(uow, job, activity_id, exc.reason, final=final, only=only)
            raise

        # 3. Record the delivery; the worker commits it with the job's completion.
        await _record_sent(uow, job, activity_id, recipients, refused, only=only)

    return handle


def _fix_boundaries(message: EmailMessage, message_id: str) -> None:
    """Derive the MIME boundaries from the Message-ID, so every attempt sends the same bytes.

    The stdlib draws random boundaries when the message is flattened; a retry would then carry a
    body that differs from the first copy in its boundary lines only, enough to defeat a
    recipient's content-based duplicate check. A boundary starting with "=_" can never occur in
    a quoted-printable or base64 body (RFC 2045 §6.7: "=_" is not a valid QP sequence; "_" is
    not in the base64 alphabet), which is how non-ASCII content and attachments are sent
    (compose is 7-bit); a plain ASCII part would have to contain the hash of a Message-ID that
    did not exist when it was written.
    """
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            digest = hashlib.sha256(f"{message_id}\x00{index}".encode()).hexdigest()
            part.set_boundary(f"{BOUNDARY_PREFIX}{digest[:BOUNDARY_HEX_CHARS]}")


def _activity_id(job: OutboxJob) -> int:
    value = job.payload.get("activity_id")
    if not isinstance(value, int) or isinstance(value, bool):
        raise PermanentJobError("payload has no integer activity_id")
    return value


def _follow_up_recipients(job: OutboxJob) -> list[str] | None:
    """The deferred recipients a follow-up job retries, or None for the whole message."""
    value = job.payload.get("recipients")
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(r, str) for r in value):
        raise PermanentJobError("payload recipients must be a non-empty list of addresses")
    return list(value)


def _is_permanent(reply_code: int) -> bool:
    return reply_code // 100 == PERMANENT_CLASS


def _merge_delivery_lines(previous: str | None, recipients: list[str], lines: list[str]) -> str:
    """A follow-up's outcome replaces the lines of the recipients it retried, keeps the rest."""
    prefixes = tuple(f"<{address}>" for address in recipients)
    kept = [line for line in (previous or "").splitlines() if not line.startswith(prefixes)]
    return "\n".join([*kept, *lines])


async def _record_sent(
    uow: UnitOfWork,
    job: OutboxJob,
    activity_id: int,
    recipients: list[str],
    refused: Refusals,
    *,
    only: list[str] | None,
) -> None:
    activity = await _load_email_activity(uow, activity_id)
    email = activity.email
    assert email is not None
    deferred = [a for a, reply in refused.items() if not _is_permanent(reply.code)]
    lines = [
        f"<{address}>: {DEFERRED + ': ' if address in deferred else ''}{reply}"
        for address, reply in refused.items()
    ]
    if only is None:
        if activity.substatus is Substatus.SENDING:
            activity.move_to(Substatus.SENT)
        email.delivery_error = "\n".join(lines) or None
    else:  # a follow-up: the activity is SENT already; only its recipients' lines change
        email.delivery_error = _merge_delivery_lines(email.delivery_error, only, lines) or None
    activity.last_modified_by_type = SYSTEM_ACTOR
    activity.last_modified_by_id = None
    await _event(
        uow,
        EMAIL_SENT,
        activity,
        delivered=len(recipients) - len(refused),
        refused=len(refused) - len(deferred),
        deferred=len(deferred),
    )
    if deferred:
        # RFC 5321 §4.5.4.1: retry the deferred recipients later, never the ones who have it.
        await enqueue(
            uow,
            SEND_JOB,
            {"activity_id": activity_id, "recipients": deferred},
            run_after=utcnow() + backoff(1),
        )
    logger.info(
        "outbound email delivered",
        extra={"fields": {"activity_id": activity_id, "job_id": job.id, "refused": len(refused)}},
    )


async def _record_failure(
    uow: UnitOfWork,
    job: OutboxJob,
    activity_id: int,
    reason: str,
    *,
    final: bool,
    only: list[str] | None,
) -> None:
    """Commit the failure on the activity (the worker rolls the attempt back), if the job is
    still ours; `final` moves it to SEND_FAILED, else it stays SENDING for the retry."""
    await uow.rollback()
    activity = await uow.activities.get(activity_id)
    if activity is None or activity.email is None:
        return
    email = activity.email
    if only is not None:
        mark = "" if final else f"{DEFERRED}: "
        lines = [f"<{address}>: {mark}{reason}" for address in only]
        email.delivery_error = _merge_delivery_lines(email.delivery_error, only, lines)
    elif final:
        email.delivery_error = reason
        if activity.substatus is Substatus.SENDING:
            activity.move_to(Substatus.SEND_FAILED)
    else:
        email.delivery_error = f"attempt {job.attempts} of {job.max_attempts}: {reason}"
    if final:
        await _event(uow, EMAIL_SEND_FAILED, activity, reason=reason[:500], partial=bool(only))
    if not await _still_ours(uow, job):
        await uow.rollback()
        return
    await uow.commit()
    logger.warning(
        "outbound email not delivered",
        extra={"fields": {"activity_id": activity_id, "job_id": job.id, "final": final}},
    )


async def _still_ours(uow: UnitOfWork, job: OutboxJob) -> bool:
    """The worker's lease rule (outbox_worker._reload_if_ours): the job, locked, still RUNNING
    under the lease this attempt was given. Otherwise another worker has it; it records."""
    assert job.id is not None
    current = await uow.outbox.lock(job.id)
    return (
        current is not None
        and current.state is JobState.RUNNING
        and current.leased_by == job.leased_by
        and current.attempts == job.attempts
    )


async def _load_email_activity(uow: UnitOfWork, activity_id: int) -> Activity:
    activity = await uow.activities.get(activity_id)
    if activity is None or activity.email is None:  # deleted while we were sending
        raise PermanentJobError(f"activity {activity_id} disappeared during the send")
    return activity


async def _event(uow: UnitOfWork, kind: str, activity: Activity, **payload: object) -> None:
    assert activity.id is not None and activity.email is not None
    await uow.events.append(
        Event(
            kind,
            "activity",
            activity.id,
            payload={
                "case_id": activity.case_id,
                "message_id": activity.email.message_id,
                **payload,
            },
            department_id=activity.department_id,
            actor_type=SYSTEM_ACTOR,
        )
    )


# --- composition: which sender, said at start-up ----------------------------------------------


def outbound_sender(settings: Settings) -> MailSender:
    """The relay when `relay_host` is configured, else the maildir in the data directory."""
    if settings.relay_host:
        return RelaySender(relay_config_from_settings(settings))
    return MaildirSender(settings.outbound_maildir)


def outbound_description(settings: Settings) -> str:
    """One banner line for `serve`: where outbound mail goes (never a password)."""
    if settings.relay_host:
        return (
            f"outbound mail: relay {settings.relay_host}:{settings.relay_port} "
            f"({settings.relay_security})"
        )
    return f"outbound mail: maildir {settings.outbound_maildir.resolve()} (no relay configured)"


__all__ = [
    "EMAIL_SEND_FAILED",
    "EMAIL_SENT",
    "SEND_JOB",
    "MailSender",
    "email_send_handler",
    "outbound_description",
    "outbound_sender",
]
