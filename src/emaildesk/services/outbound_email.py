"""Queue an outbound email for delivery, and gather what the send job needs to compose it.

`queue_outbound` is the last step of every way an outbound email is sent (an agent's Send, an
automatic reply, a resend after a failure): in the caller's unit of work it fixes everything that
must not change between delivery attempts, moves the activity to SENDING and stages the
`email.send` outbox job, so the state change, its event and its job commit together (DESIGN.md
"Events, outbox, workers").

What is fixed here, once, and why:
- the **Message-ID** (a signed token naming case and activity, `mail.tokens`): a retried send is
  recognisably the same message to every MTA on the way and to our own inbound dedupe, and a
  customer's reply threads back by `In-Reply-To` even with the subject rewritten;
- the **case token in the subject** (`[#1042]`), for replies that lost their headers;
- the **Date** (`sent_date`): RFC 5322 §3.6.1 defines it as the moment the message was "ready to
  enter the mail delivery system", which is now, not the moment a retry finally got through; and
  a retry then sends the same message, not a look-alike;
- **In-Reply-To / References**, when the activity does not name them, from the newest inbound
  email of the case that has a Message-ID (RFC 5322 §3.6.4: the parent's References, or its
  In-Reply-To when it has none, followed by the parent's Message-ID).

`build_outbound` reads an activity into the pure `OutboundEmail` that `mail.compose` turns into
MIME; the send job calls it before each attempt.
"""

from __future__ import annotations

from emaildesk.domain import errors
from emaildesk.domain.activities import (
    MAX_SUBJECT_LENGTH,
    Activity,
    ActivityType,
    EmailPayload,
    Mode,
    Substatus,
)
from emaildesk.domain.clock import utcnow
from emaildesk.domain.directory import EmailAlias
from emaildesk.domain.events import ACTIVITY_UPDATED, Event
from emaildesk.domain.outbox import OutboxJob
from emaildesk.mail.compose import OutboundAttachment, OutboundEmail
from emaildesk.mail.tokens import make_message_id, subject_with_case_token
from emaildesk.services.mail_config import MailConfig
from emaildesk.services.outbox import enqueue
from emaildesk.services.ports import BlobStore, UnitOfWork

SEND_JOB = "email.send"  # outbox job kind; payload {"activity_id": n}
SEND_OPERATION = "send"
QUEUEABLE = frozenset({Substatus.READY_FOR_OUTBOUND_WORKFLOW, Substatus.SEND_FAILED})
SYSTEM_ACTOR = "system"


class OutboundNotComposableError(ValueError):
    """The activity lacks something a message cannot go without (a From, a Message-ID).

    Not a `DomainError`: no request can cause it once `queue_outbound` accepted the activity; it
    means the data changed under the job, and the send job fails permanently with this reason.
    """


def _outbound_email_of(activity: Activity) -> EmailPayload:
    """The email payload of an outbound email activity, or the error naming what it is instead."""
    if activity.type is not ActivityType.EMAIL or activity.email is None:
        raise errors.OPERATION_NOT_ALLOWED_IN_STATE(
            operation=SEND_OPERATION, state=activity.type.value
        )
    if activity.mode is not Mode.OUTBOUND:
        raise errors.OPERATION_NOT_ALLOWED_IN_STATE(
            operation=SEND_OPERATION, state=activity.mode.value
        )
    return activity.email


async def queue_outbound(uow: UnitOfWork, activity: Activity, config: MailConfig) -> OutboxJob:
    """Fix the message's identity, move the activity to SENDING and stage its send job.

    Only an outbound email activity ready for the outbound workflow, or one whose last send
    failed (a resend), can be queued; anything else raises OPERATION_NOT_ALLOWED_IN_STATE naming
    its state. A resend keeps the Message-ID, subject and Date of the first attempt: it is the
    same message. The caller commits, then may wake the worker.
    """
    email = _outbound_email_of(activity)
    if activity.substatus not in QUEUEABLE:
        raise errors.OPERATION_NOT_ALLOWED_IN_STATE(
            operation=SEND_OPERATION, state=activity.substatus.value
        )
    if activity.id is None or activity.case_id is None:
        # An activity is added (id) in its case before it can be sent; a programming error.
        raise ValueError("queue_outbound needs a stored activity in a case")
    if not email.message_id:
        email.message_id = make_message_id(
            case_id=activity.case_id,
            activity_id=activity.id,
            domain=config.domain,
            secret=config.secret,
        )
    activity.subject = _subject_with_token(activity.subject, activity.case_id, config)
    if email.sent_date is None:
        email.sent_date = utcnow()
    if email.in_reply_to is None:
        await _thread_to_latest_inbound(uow, activity, email)
    activity.move_to(Substatus.SENDING)
    activity.last_modified_by_type = SYSTEM_ACTOR
    activity.last_modified_by_id = None
    await uow.events.append(
        Event(
            ACTIVITY_UPDATED,
            "activity",
            activity.id,
            payload={"case_id": activity.case_id, "substatus": activity.substatus.value},
            department_id=activity.department_id,
            actor_type=SYSTEM_ACTOR,
        )
    )
    return await enqueue(uow, SEND_JOB, {"activity_id": activity.id})


def _subject_with_token(subject: str, case_id: int, config: MailConfig) -> str:
    """The subject with the case token, cut to the subject limit (eGain: subject ≤ 255).

    The token is placed in front (after "Re:"), so cutting the end keeps it."""
    tokenized = subject_with_case_token(subject, case_id, config.subject_token)
    return tokenized[:MAX_SUBJECT_LENGTH].rstrip()


async def _thread_to_latest_inbound(
    uow: UnitOfWork, activity: Activity, email: EmailPayload
) -> None:
    """Answer the newest inbound email of the case (RFC 5322 §3.6.4), if it has a Message-ID."""
    assert activity.case_id is not None
    parents = [
        other
        for other in await uow.activities.in_case(activity.case_id)
        if other.mode is Mode.INBOUND
        and other.email is not None
        and other.email.message_id
        and other.id != activity.id
    ]
    if not parents:
        return
    parent = parents[-1].email  # in_case is ordered by id: the newest last
    assert parent is not None and parent.message_id is not None
    ancestry = list(parent.references) or ([parent.in_reply_to] if parent.in_reply_to else [])
    email.in_reply_to = parent.message_id
    email.references = [*ancestry, parent.message_id]


async def _alias(uow: UnitOfWork, alias_id: int) -> EmailAlias | None:
    # The directory port has no get-by-id for aliases; the list is short and read rarely here.
    return next((a for a in await uow.directory.aliases() if a.id == alias_id), None)


async def build_outbound(
    uow: UnitOfWork, blobs: BlobStore, activity: Activity, *, default_from: str | None = None
) -> OutboundEmail:
    """The activity as an `OutboundEmail`, attachments (inline ones too) read from the blob store.

    From is the activity's receiver alias, the address the customer wrote to and will reply to,
    with the alias's display name; without an alias, the payload's own from address; failing
    both, `default_from` (the site's configured sender). Raises `OutboundNotComposableError`
    when there is no From or no Message-ID.
    """
    email = _outbound_email_of(activity)
    if not email.message_id:
        raise OutboundNotComposableError(f"activity {activity.id} has no Message-ID; queue it")
    from_address, from_name = email.from_address, email.from_name
    alias = await _alias(uow, email.receiver_alias_id) if email.receiver_alias_id else None
    if alias is not None:
        from_address, from_name = alias.address, alias.display_name or email.from_name
    if not from_address:
        from_address = default_from or ""
    if not from_address:
        raise OutboundNotComposableError(f"activity {activity.id} has no From address")
    attachments = [
        OutboundAttachment(
            file_name=attachment.file_name,
            content_type=attachment.content_type,
            data=await blobs.get(attachment.sha256),
            inline=attachment.inline,
            content_id=attachment.content_id,
        )
        for attachment in activity.attachments
    ]
    return OutboundEmail(
        from_address=from_address,
        from_name=from_name,
        to=list(email.to),
        cc=list(email.cc),
        bcc=list(email.bcc),
        reply_to=email.reply_to,
        subject=activity.subject,
        text=email.text,
        html=email.html,
        message_id=email.message_id,
        in_reply_to=email.in_reply_to,
        references=list(email.references),
        date=email.sent_date or activity.created_at,
        attachments=attachments,
    )
