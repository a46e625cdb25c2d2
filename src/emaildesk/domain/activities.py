"""Cases and activities: the unit of work a contact center does.

An activity is one email (inbound or outbound) or one task; a case groups the activities of one
customer matter. Status is an explicit state machine (STYLE.md habit 4): `TRANSITIONS` lists every
legal move, `Activity.move_to` refuses the rest with an error naming the state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from emaildesk.domain import errors
from emaildesk.domain.attachments import Attachment
from emaildesk.domain.clock import as_utc, utcnow

MAX_SUBJECT_LENGTH = 255  # eGain v12/v3: subject ≤ 255
PRIORITIES = tuple(str(p) for p in range(1, 8))  # eGain v3: "1".."7"
DEFAULT_PRIORITY = 5


class ActivityType(Enum):
    EMAIL = "email"
    TASK = "task"


class Mode(Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Substatus(Enum):
    """Where an open activity is; `COMPLETED` and `SENT` close it."""

    READY_FOR_INBOUND_WORKFLOW = "ready_for_inbound_workflow"
    IN_WORKFLOW = "in_workflow"
    UNASSIGNED = "unassigned"
    ASSIGNED = "assigned"
    READY_FOR_OUTBOUND_WORKFLOW = "ready_for_outbound_workflow"
    SENDING = "sending"
    SENT = "sent"
    SEND_FAILED = "send_failed"
    COMPLETED = "completed"

    @property
    def status(self) -> Status:
        return Status.COMPLETED if self in _CLOSED else Status.OPEN


class Status(Enum):
    OPEN = "open"
    COMPLETED = "completed"


_CLOSED = frozenset({Substatus.SENT, Substatus.COMPLETED})

S = Substatus
TRANSITIONS: dict[Substatus, frozenset[Substatus]] = {
    S.READY_FOR_INBOUND_WORKFLOW: frozenset({S.IN_WORKFLOW, S.UNASSIGNED, S.ASSIGNED, S.COMPLETED}),
    S.IN_WORKFLOW: frozenset({S.UNASSIGNED, S.ASSIGNED, S.COMPLETED}),
    S.UNASSIGNED: frozenset({S.ASSIGNED, S.UNASSIGNED, S.COMPLETED}),
    S.ASSIGNED: frozenset({S.ASSIGNED, S.UNASSIGNED, S.COMPLETED, S.READY_FOR_OUTBOUND_WORKFLOW}),
    S.READY_FOR_OUTBOUND_WORKFLOW: frozenset({S.SENDING, S.COMPLETED}),
    S.SENDING: frozenset({S.SENT, S.SEND_FAILED}),
    S.SEND_FAILED: frozenset({S.SENDING, S.COMPLETED}),
    S.SENT: frozenset(),
    S.COMPLETED: frozenset(),
}


@dataclass(eq=False)
class Case:
    customer_id: int | None
    department_id: int
    subject: str = ""
    created_at: datetime = field(default_factory=utcnow)
    id: int | None = None


@dataclass(eq=False)
class EmailPayload:
    """The email part of an email activity; addresses as given (validated by the use case)."""

    from_address: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    reply_to: str | None = None
    receiver_alias_id: int | None = None
    message_center_id: int | None = None
    sent_date: datetime | None = None
    text: str | None = None
    html: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    thread_reason: str | None = None
    auto_submitted: bool = False
    delivery_error: str | None = None
    activity_id: int | None = None

    def content_size(self) -> int:
        """Bytes of text and html content, as counted against "maximum body size"."""
        return len((self.text or "").encode()) + len((self.html or "").encode())


@dataclass(eq=False)
class TaskPayload:
    text: str | None = None
    html: str | None = None
    activity_id: int | None = None


@dataclass(eq=False)
class Note:
    text: str
    author_type: str
    author_id: int
    created_at: datetime = field(default_factory=utcnow)
    activity_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class Activity:
    type: ActivityType
    subtype: str
    mode: Mode
    department_id: int
    case_id: int | None = None
    substatus: Substatus = Substatus.READY_FOR_INBOUND_WORKFLOW
    priority: int = DEFAULT_PRIORITY
    due_date: datetime | None = None
    subject: str = ""
    language: str = "en-US"
    customer_id: int | None = None
    contact_id: int | None = None
    contact_point_id: int | None = None
    last_department_id: int | None = None
    queue_id: int | None = None
    assigned_user_id: int | None = None
    user_last_worked_id: int | None = None
    issue_type_id: int | None = None
    secure: bool = False
    sent_on_behalf: bool = False
    read: bool = False
    custom_attributes: dict[str, str] = field(default_factory=dict)
    email: EmailPayload | None = None
    task: TaskPayload | None = None
    attachments: list[Attachment] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    created_at: datetime = field(default_factory=utcnow)
    created_by_type: str = ""
    created_by_id: int | None = None
    last_modified_at: datetime = field(default_factory=utcnow)
    last_modified_by_type: str = ""
    last_modified_by_id: int | None = None
    id: int | None = None

    @property
    def status(self) -> Status:
        return self.substatus.status

    def move_to(self, target: Substatus) -> None:
        """Change substatus along `TRANSITIONS`, or say which state forbids it."""
        if target not in TRANSITIONS[self.substatus]:
            raise errors.OPERATION_NOT_ALLOWED_IN_STATE(
                operation=target.value, state=self.substatus.value
            )
        self.substatus = target
        self.last_modified_at = utcnow()

    def assign_to(self, user_id: int) -> None:
        self.move_to(Substatus.ASSIGNED)
        self.assigned_user_id = user_id
        self.user_last_worked_id = user_id

    def transfer_department(self, department_id: int) -> None:
        """Remember where the activity was before (eGain `lastDepartment`)."""
        if department_id != self.department_id:
            self.last_department_id = self.department_id
            self.department_id = department_id


def check_subject(subject: str | None) -> str:
    subject = subject or ""
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise errors.TOO_LONG(attribute="subject", limit=MAX_SUBJECT_LENGTH)
    return subject


def check_priority(value: str | int | None) -> int:
    """eGain: priority "1".."7" (strings in requests; numbers accepted too)."""
    if value is None or value == "":
        return DEFAULT_PRIORITY
    text = str(value).strip()
    if text not in PRIORITIES:
        raise errors.INVALID_ENUM_VALUE(attribute="priority", values=", ".join(PRIORITIES))
    return int(text)


def check_due_date(due: datetime | None, now: datetime | None = None) -> datetime | None:
    """eGain v3 task: the due date must be in the future."""
    if due is not None and as_utc(due) <= (now or utcnow()):
        raise errors.DUE_DATE_NOT_FUTURE()
    return due
