"""Process one received message: parse → sender → duplicate? → rate limit → alias → thread →
the shared ingest use case → stored, duplicate or quarantined (DESIGN.md "Mail").

This is the body of the `mail.ingest` outbox job (and of `emaildesk mail process`). It runs in a
unit of work of its own, which the caller commits; a crash before that commit leaves the message
RECEIVED and the job is retried. Every outcome is recorded on the ingestion: a message the
parser refuses, that has no usable sender, arrives in a mail storm, reaches no active alias, or
breaks an ingest rule (a blocked attachment type, a size limit) is QUARANTINED with the reason,
its raw bytes kept, so an operator can list, download and reprocess it. Only unforeseen errors
escape, so that the worker retries them; the job handler quarantines on the last attempt.

What mail does that the v12 API would refuse is repaired here rather than quarantined, and the
repair is recorded with the outcome: a subject over 255 characters is cut, To/Cc/Reply-To
addresses eGain would call invalid are dropped, over-long names are shortened.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from emaildesk.domain import errors
from emaildesk.domain.activities import MAX_SUBJECT_LENGTH
from emaildesk.domain.addresses import is_valid_email_address, normalize_address
from emaildesk.domain.customers import ContactPointKind
from emaildesk.domain.directory import EmailAlias
from emaildesk.domain.errors import DomainError
from emaildesk.domain.ingestion import Ingestion, IngestionState
from emaildesk.mail.parse import MessageRejectedError, ParsedAttachment, ParsedEmail, parse_message
from emaildesk.services.case_threading import ThreadDecision, decide_thread
from emaildesk.services.customer_lookup import find_customer
from emaildesk.services.incoming_email import IncomingEmail, NewAttachment, create_incoming_email
from emaildesk.services.mail_config import MailConfig
from emaildesk.services.ports import BlobStore, UnitOfWork

RATE_WINDOW = timedelta(hours=1)  # MailConfig.sender_rate_per_hour counts within this window
MAX_HEADER_ID_LENGTH = 998  # message_id / in_reply_to columns: String(998), RFC 5322 §2.1.1
MAX_NAME_LENGTH = 255  # from_name, file_name, content_type, content_id columns: String(255)
MAX_THREAD_REASON_LENGTH = 255  # email_payloads.thread_reason: String(255)
MAX_REASON_LENGTH = 2000  # what Ingestion.quarantine keeps of a reason; stored reasons likewise
MAX_DEFECTS_SHOWN = 10  # a hostile message may carry thousands; the first few say enough
FALLBACK_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class ReadMessage:
    """A raw message read from the blob store and parsed: done before the unit of work's first
    statement where the caller can (the job handler), because on SQLite every transaction holds
    the single write lock from its first statement, and parsing a 25 MB message takes a second
    that SMTP receivers waiting to commit would otherwise spend waiting (workers/outbox_worker.py).
    """

    raw_sha256: str
    envelope_from: str
    parsed: ParsedEmail | None  # None: refused by the parser
    rejected: str | None = None  # the parser's reason


async def read_message(blobs: BlobStore, raw_sha256: str, envelope_from: str) -> ReadMessage:
    """Read and parse; raises LookupError when the blob is missing."""
    raw = await blobs.get(raw_sha256)
    try:
        # A thread: parsing is CPU work the event loop should not wait on.
        parsed = await asyncio.to_thread(parse_message, raw, envelope_from=envelope_from)
    except MessageRejectedError as rejected:
        return ReadMessage(raw_sha256, envelope_from, None, rejected.reason)
    return ReadMessage(raw_sha256, envelope_from, parsed)


class _QuarantineError(Exception):
    """A verdict reached while preparing the message: quarantine it with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Facts:
    """What the ingestion learns about its message, kept whatever the outcome: the sender and
    Message-ID drive duplicate detection and the rate limit, and show in the quarantine."""

    sender: str | None = None
    message_id: str | None = None
    notes: list[str] = field(default_factory=list)  # repairs and flags, shown with the outcome

    def apply(self, ingestion: Ingestion) -> None:
        ingestion.sender = self.sender
        ingestion.message_id = self.message_id


async def ingest_received(
    uow: UnitOfWork,
    blobs: BlobStore,
    ingestion_id: int,
    *,
    settings: MailConfig,
    read: ReadMessage | None = None,
) -> Ingestion:
    """Process a RECEIVED ingestion; any other state is returned unchanged (idempotent: a job
    retried after its commit, or a message already handled by `emaildesk mail process`).
    `read` is the message read beforehand (`read_message`); it is used only if it is this
    ingestion's, else the message is read here.

    The unit of work must be this call's alone: when the ingest use case refuses the message
    after it has already written (a customer, a case), those writes are rolled back before the
    quarantine is recorded, so that a refused message leaves nothing behind but its record.
    Raises IDS_NOT_FOUND for an unknown id; unforeseen errors propagate for the worker to retry.
    """
    ingestion = await _locked(uow, ingestion_id)
    if ingestion.state is not IngestionState.RECEIVED:
        return ingestion
    if read is None or (read.raw_sha256, read.envelope_from) != (
        ingestion.raw_sha256,
        ingestion.envelope_from,
    ):
        try:
            read = await read_message(blobs, ingestion.raw_sha256, ingestion.envelope_from)
        except LookupError:
            ingestion.quarantine(f"raw message {ingestion.raw_sha256} missing from the blob store")
            return ingestion
    if read.parsed is None:
        ingestion.quarantine(f"unparsable: {read.rejected}")
        return ingestion
    parsed, facts = read.parsed, _Facts()
    try:
        return await _ingest_parsed(uow, blobs, ingestion, parsed, facts, settings)
    except _QuarantineError as verdict:
        facts.apply(ingestion)
        ingestion.quarantine(verdict.reason)
        return ingestion
    except DomainError as refused:
        await uow.rollback()
        ingestion = await _locked(uow, ingestion_id)
        if ingestion.state is not IngestionState.RECEIVED:  # handled by someone else meanwhile
            return ingestion
        facts.apply(ingestion)
        ingestion.quarantine(f"refused: {refused.code}: {refused.english()}")
        return ingestion


async def quarantine_unprocessable(uow: UnitOfWork, ingestion_id: int, reason: str) -> Ingestion:
    """Quarantine a message whose processing keeps failing unexpectedly (the job handler's last
    attempt), so that nothing stays RECEIVED forever. Other states are left as they are."""
    ingestion = await _locked(uow, ingestion_id)
    if ingestion.state is IngestionState.RECEIVED:
        ingestion.quarantine(reason)
    return ingestion


async def _locked(uow: UnitOfWork, ingestion_id: int) -> Ingestion:
    ingestion = await uow.ingestions.lock(ingestion_id)
    if ingestion is None:
        raise errors.IDS_NOT_FOUND(ids=ingestion_id)
    return ingestion


async def _ingest_parsed(
    uow: UnitOfWork,
    blobs: BlobStore,
    ingestion: Ingestion,
    parsed: ParsedEmail,
    facts: _Facts,
    config: MailConfig,
) -> Ingestion:
    sender = _sender(parsed, ingestion.envelope_from, facts)
    facts.sender = normalize_address(sender)
    facts.message_id = _header_id(parsed.message_id, "Message-ID", facts)
    facts.apply(ingestion)  # flushed with the queries below: the rate limit counts this message

    if facts.message_id is not None:
        # Two deliveries of one message processed at once must not both become activities.
        await uow.ingestions.lock_message(facts.message_id, facts.sender)
        first = await uow.ingestions.first_stored(facts.message_id, facts.sender)
        if first is not None and first.activity_id is not None:
            ingestion.duplicate_of(first.activity_id)
            return ingestion

    await _check_rate(uow, ingestion, facts.sender, config)
    alias = await _receiving_alias(uow, ingestion, parsed)
    automatic = await _automatic(uow, parsed, facts.sender, facts)
    facts.notes.extend(f"parser: {defect}" for defect in parsed.defects)

    settings = await uow.directory.settings()
    existing = await find_customer(
        uow, settings, ContactPointKind.EMAIL, sender, alias.department_id
    )
    decision = await decide_thread(
        uow,
        parsed,
        sender_customer_id=existing.customer.id if existing else None,
        secret=config.secret,
        subject_template=config.subject_token,
    )
    activity = await create_incoming_email(
        uow, blobs, _command(parsed, sender, alias, decision, automatic, facts), actor=None
    )
    assert activity.id is not None  # flushed by the repository
    ingestion.stored(activity.id, _outcome(decision.reason, facts.notes))
    return ingestion


def _sender(parsed: ParsedEmail, envelope_from: str, facts: _Facts) -> str:
    """The From address, else the envelope sender; the first that eGain calls valid."""
    for source, candidate in (("From", parsed.from_address), ("envelope", envelope_from)):
        value = (candidate or "").strip()
        if not value:
            continue
        if is_valid_email_address(value):
            return value
        facts.notes.append(f"invalid {source} address ignored")
    raise _QuarantineError("no valid sender")


def _header_id(value: str | None, header: str, facts: _Facts) -> str | None:
    if value and len(value) > MAX_HEADER_ID_LENGTH:
        facts.notes.append(f"{header} over {MAX_HEADER_ID_LENGTH} characters ignored")
        return None
    return value or None


async def _check_rate(
    uow: UnitOfWork, ingestion: Ingestion, sender: str, config: MailConfig
) -> None:
    """A mail storm (a loop between two auto-responders, a misbehaving script) is kept, raw, in
    the quarantine instead of flooding agents with activities. Counted over the hour before
    this message arrived (not before now), so a backlog processed late is judged as it came.
    A limit of 0 or less switches the check off."""
    limit = config.sender_rate_per_hour
    if limit <= 0:
        return
    count = await uow.ingestions.count_from_since(sender, ingestion.received_at - RATE_WINDOW)
    if count > limit:
        raise _QuarantineError(f"rate limit: {count} messages from {sender} in the last hour")


async def _receiving_alias(
    uow: UnitOfWork, ingestion: Ingestion, parsed: ParsedEmail
) -> EmailAlias:
    """The first envelope recipient that is an active alias: one message to several of our
    aliases becomes one activity, in the first one's department. With no envelope recipients
    (a mailbox poller that cannot know them) the To and Cc headers are asked instead."""
    candidates = ingestion.recipients or [*parsed.to, *parsed.cc]
    for address in candidates:
        alias = await uow.directory.alias_by_address(address)
        if alias is not None and alias.active:
            return alias
    named = ", ".join(candidates) or "none"
    raise _QuarantineError(f"no active alias among the recipients ({named})")


async def _automatic(uow: UnitOfWork, parsed: ParsedEmail, sender: str, facts: _Facts) -> bool:
    """Whether the message was sent automatically and must never be answered automatically
    (RFC 3834 §2, as the parser reads it), or comes from one of our own aliases: a loop, our
    mail coming back to us, which an automatic answer would feed."""
    automatic = parsed.auto_submitted
    if automatic:
        facts.notes.append(f"automatic: {parsed.auto_reason or 'auto-submitted'}")
    if await uow.directory.alias_by_address(sender) is not None:
        facts.notes.append("loop: sent from one of our aliases")
        automatic = True
    return automatic


def _command(
    parsed: ParsedEmail,
    sender: str,
    alias: EmailAlias,
    decision: ThreadDecision,
    automatic: bool,
    facts: _Facts,
) -> IncomingEmail:
    subject = parsed.subject
    if len(subject) > MAX_SUBJECT_LENGTH:  # eGain v12: subject ≤ 255; mail has no such limit
        facts.notes.append(f"subject cut from {len(subject)} to {MAX_SUBJECT_LENGTH} characters")
        subject = subject[:MAX_SUBJECT_LENGTH]
    from_name = parsed.from_name
    if len(from_name) > MAX_NAME_LENGTH:
        facts.notes.append("sender name shortened")
        from_name = from_name[:MAX_NAME_LENGTH]
    reply_to = (parsed.reply_to or "").strip() or None
    if reply_to is not None and not is_valid_email_address(reply_to):
        facts.notes.append("invalid Reply-To dropped")
        reply_to = None
    return IncomingEmail(
        from_address=sender,
        receiver=alias.address,
        department_name=None,  # the alias's department
        case_id=decision.case_id,
        subject=subject,
        from_name=from_name,
        to=_valid_addresses(parsed.to, "To", facts),
        cc=_valid_addresses(parsed.cc, "Cc", facts),
        reply_to=reply_to,
        sent_date=parsed.date,
        text=parsed.text,
        html=parsed.html,
        attachments=[_attachment(a, n, facts) for n, a in enumerate(parsed.attachments, 1)],
        message_id=facts.message_id,
        in_reply_to=_header_id(parsed.in_reply_to, "In-Reply-To", facts),
        references=[r for r in parsed.references if len(r) <= MAX_HEADER_ID_LENGTH],
        thread_reason=decision.reason[:MAX_THREAD_REASON_LENGTH],
        auto_submitted=automatic,
    )


def _valid_addresses(addresses: list[str], header: str, facts: _Facts) -> list[str]:
    valid = [a.strip() for a in addresses if is_valid_email_address(a.strip())]
    if len(valid) < len(addresses):
        facts.notes.append(f"{len(addresses) - len(valid)} invalid {header} address(es) dropped")
    return valid


def _attachment(parsed: ParsedAttachment, number: int, facts: _Facts) -> NewAttachment:
    """Fit the parser's attachment into the columns without losing what rules depend on: the
    extension survives a shortened name (the blocked-type check reads it), and an inline part
    whose Content-ID cannot be stored becomes an ordinary attachment."""
    file_name = parsed.file_name.strip() or f"attachment-{number}.bin"
    if len(file_name) > MAX_NAME_LENGTH:
        facts.notes.append(f"attachment {number} name shortened")
        file_name = _shorten_keeping_extension(file_name, MAX_NAME_LENGTH)
    content_type = parsed.content_type
    if not content_type or len(content_type) > MAX_NAME_LENGTH:
        content_type = FALLBACK_CONTENT_TYPE
    content_id = parsed.content_id or None
    if content_id is not None and len(content_id) > MAX_NAME_LENGTH:
        facts.notes.append(f"attachment {number} Content-ID over {MAX_NAME_LENGTH} ignored")
        content_id = None
    return NewAttachment(
        file_name=file_name,
        content_type=content_type,
        data=parsed.data,
        inline=parsed.inline and content_id is not None,
        content_id=content_id,
    )


def _shorten_keeping_extension(name: str, limit: int) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) >= limit - 1:
        return name[:limit]
    return f"{stem[: limit - len(extension) - 1]}.{extension}"


def _outcome(reason: str, notes: list[str]) -> str:
    """The stored outcome: the threading decision, then what was flagged or repaired."""
    if notes:
        shown = notes[:MAX_DEFECTS_SHOWN]
        more = len(notes) - len(shown)
        reason += "; " + "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
    return reason[:MAX_REASON_LENGTH]
