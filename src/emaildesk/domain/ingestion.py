"""The ingestion record: one per message a mail transport accepted (SMTP, LMTP, IMAP).

Mail transports accept fast and process later (DESIGN.md "Mail", as Mailman does): the raw
bytes go to the blob store and this record is committed *before* the transport acknowledges
(SMTP 250, IMAP flag/move). A worker then parses, threads and stores the message. Every outcome
is visible: stored (with the activity), duplicate (of which activity), ignored (why), or
quarantined (why) — never a silent drop. A quarantined message keeps its raw bytes and can be
downloaded and reprocessed by an operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from emaildesk.domain import errors
from emaildesk.domain.clock import utcnow


class IngestionSource(Enum):
    SMTP = "smtp"
    LMTP = "lmtp"
    IMAP = "imap"
    CLI = "cli"  # `emaildesk mail import`


class IngestionState(Enum):
    RECEIVED = "received"  # raw bytes durable; not yet looked at
    STORED = "stored"  # became an activity (activity_id)
    DUPLICATE = "duplicate"  # same message seen before (activity_id of the first)
    QUARANTINED = "quarantined"  # could not be processed; reason says why; reprocessable


TRANSITIONS: dict[IngestionState, frozenset[IngestionState]] = {
    IngestionState.RECEIVED: frozenset(
        {IngestionState.STORED, IngestionState.DUPLICATE, IngestionState.QUARANTINED}
    ),
    IngestionState.QUARANTINED: frozenset({IngestionState.RECEIVED}),  # operator: reprocess
    IngestionState.STORED: frozenset(),
    IngestionState.DUPLICATE: frozenset(),
}


@dataclass(eq=False)
class Ingestion:
    source: IngestionSource
    raw_sha256: str
    size: int
    envelope_from: str  # SMTP MAIL FROM ("" for the null sender of bounces)
    recipients: list[str] = field(default_factory=list)  # accepted RCPT TO (our aliases)
    state: IngestionState = IngestionState.RECEIVED
    received_at: datetime = field(default_factory=utcnow)
    processed_at: datetime | None = None
    message_id: str | None = None
    sender: str | None = None  # normalized From address, once parsed (rate limits, dedupe)
    activity_id: int | None = None
    reason: str | None = None  # why quarantined/ignored, or the threading decision
    mailbox: str | None = None  # IMAP: "<mailbox name>/<folder>"
    remote_uid: str | None = None  # IMAP: "<uidvalidity>:<uid>"
    id: int | None = None

    def _move(self, target: IngestionState, operation: str) -> None:
        if target not in TRANSITIONS[self.state]:
            raise errors.OPERATION_NOT_ALLOWED_IN_STATE(operation=operation, state=self.state.value)
        self.state = target

    def stored(self, activity_id: int, reason: str, now: datetime | None = None) -> None:
        self._move(IngestionState.STORED, "store")
        self.activity_id = activity_id
        self.reason = reason
        self.processed_at = now or utcnow()

    def duplicate_of(self, activity_id: int, now: datetime | None = None) -> None:
        self._move(IngestionState.DUPLICATE, "deduplicate")
        self.activity_id = activity_id
        self.reason = f"duplicate of activity {activity_id}"
        self.processed_at = now or utcnow()

    def quarantine(self, reason: str, now: datetime | None = None) -> None:
        self._move(IngestionState.QUARANTINED, "quarantine")
        self.reason = reason[:2000]
        self.processed_at = now or utcnow()

    def reprocess(self) -> None:
        """Operator action: try a quarantined message again (after a fix or a config change)."""
        self._move(IngestionState.RECEIVED, "reprocess")
        self.reason = None
        self.processed_at = None
