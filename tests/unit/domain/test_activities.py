"""Activity rules: subject length, priority, due date, and the substatus state machine
(STYLE.md habit 4: every legal move allowed, every other one refused naming the state)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from emaildesk.domain import errors
from emaildesk.domain.activities import (
    DEFAULT_PRIORITY,
    MAX_SUBJECT_LENGTH,
    TRANSITIONS,
    Activity,
    ActivityType,
    EmailPayload,
    Mode,
    Status,
    Substatus,
    check_due_date,
    check_priority,
    check_subject,
)
from emaildesk.domain.errors import DomainError

S = Substatus

# The table as the product promises it, written out independently of the source so that a
# change to TRANSITIONS has to be made twice, on purpose.
EXPECTED_LEGAL: set[tuple[Substatus, Substatus]] = {
    (S.READY_FOR_INBOUND_WORKFLOW, S.IN_WORKFLOW),
    (S.READY_FOR_INBOUND_WORKFLOW, S.UNASSIGNED),
    (S.READY_FOR_INBOUND_WORKFLOW, S.ASSIGNED),
    (S.READY_FOR_INBOUND_WORKFLOW, S.COMPLETED),
    (S.IN_WORKFLOW, S.UNASSIGNED),
    (S.IN_WORKFLOW, S.ASSIGNED),
    (S.IN_WORKFLOW, S.COMPLETED),
    (S.UNASSIGNED, S.ASSIGNED),
    (S.UNASSIGNED, S.UNASSIGNED),
    (S.UNASSIGNED, S.COMPLETED),
    (S.ASSIGNED, S.ASSIGNED),
    (S.ASSIGNED, S.UNASSIGNED),
    (S.ASSIGNED, S.COMPLETED),
    (S.ASSIGNED, S.READY_FOR_OUTBOUND_WORKFLOW),
    (S.READY_FOR_OUTBOUND_WORKFLOW, S.SENDING),
    (S.READY_FOR_OUTBOUND_WORKFLOW, S.COMPLETED),
    (S.SENDING, S.SENT),
    (S.SENDING, S.SEND_FAILED),
    (S.SEND_FAILED, S.SENDING),
    (S.SEND_FAILED, S.COMPLETED),
}
ALL_MOVES = list(itertools.product(S, S))
ILLEGAL = [move for move in ALL_MOVES if move not in EXPECTED_LEGAL]


def activity(substatus: Substatus = S.READY_FOR_INBOUND_WORKFLOW) -> Activity:
    return Activity(ActivityType.EMAIL, "general", Mode.INBOUND, 1, substatus=substatus)


def move_id(move: tuple[Substatus, Substatus]) -> str:
    return f"{move[0].value}->{move[1].value}"


LEGAL = sorted(EXPECTED_LEGAL, key=move_id)


# --- subject --------------------------------------------------------------------------------


def test_activity_subject_at_most_255_characters() -> None:
    assert MAX_SUBJECT_LENGTH == 255
    assert check_subject("s" * 255) == "s" * 255
    with pytest.raises(DomainError) as caught:
        check_subject("s" * 256)
    assert caught.value.spec is errors.TOO_LONG
    assert caught.value.params == {"attribute": "subject", "limit": "255"}


def test_activity_subject_counts_characters_not_bytes() -> None:
    assert check_subject("é" * 255) == "é" * 255


def test_activity_subject_missing_becomes_empty() -> None:
    assert check_subject(None) == ""


# --- priority -------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["1", "2", "3", "4", "5", "6", "7", 1, 4, 7, " 3 "])
def test_activity_priority_1_to_7_as_string_or_int(given: str | int) -> None:
    assert check_priority(given) == int(str(given).strip())


@pytest.mark.parametrize("given", ["0", "8", 0, 8, -1, "high", "3.0", "07", "1 2", True])
def test_activity_priority_outside_1_to_7_is_refused(given: str | int) -> None:
    with pytest.raises(DomainError) as caught:
        check_priority(given)
    assert caught.value.spec is errors.INVALID_ENUM_VALUE
    assert caught.value.params == {"attribute": "priority", "values": "1, 2, 3, 4, 5, 6, 7"}


@pytest.mark.parametrize("given", [None, ""])
def test_activity_priority_missing_takes_the_default(given: str | None) -> None:
    assert check_priority(given) == DEFAULT_PRIORITY == 5


# --- due date -------------------------------------------------------------------------------

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_activity_due_date_in_the_future_is_accepted() -> None:
    due = NOW + timedelta(milliseconds=1)
    assert check_due_date(due, NOW) == due


@pytest.mark.parametrize("offset", [timedelta(0), -timedelta(milliseconds=1), -timedelta(days=3)])
def test_activity_due_date_must_be_in_the_future(offset: timedelta) -> None:
    with pytest.raises(DomainError) as caught:
        check_due_date(NOW + offset, NOW)
    assert caught.value.spec is errors.DUE_DATE_NOT_FUTURE


def test_activity_due_date_naive_is_read_as_utc() -> None:
    naive_past = (NOW - timedelta(minutes=1)).replace(tzinfo=None)
    with pytest.raises(DomainError):
        check_due_date(naive_past, NOW)


def test_activity_due_date_in_another_zone_is_compared_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    # 13:00 at +02:00 is 11:00 UTC: an hour before NOW.
    with pytest.raises(DomainError):
        check_due_date(datetime(2024, 5, 1, 13, 0, tzinfo=plus_two), NOW)


def test_activity_due_date_defaults_to_now_when_not_given() -> None:
    with pytest.raises(DomainError):
        check_due_date(datetime(2000, 1, 1, tzinfo=UTC))
    far = datetime(2999, 1, 1, tzinfo=UTC)
    assert check_due_date(far) == far


def test_activity_due_date_absent_is_fine() -> None:
    assert check_due_date(None, NOW) is None


# --- substatus state machine ----------------------------------------------------------------


def test_activity_transition_table_is_the_documented_one() -> None:
    actual = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert actual == EXPECTED_LEGAL
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize("move", LEGAL, ids=[move_id(m) for m in LEGAL])
def test_activity_substatus_legal_move_is_allowed(move: tuple[Substatus, Substatus]) -> None:
    source, target = move
    item = activity(source)
    before = item.last_modified_at
    item.move_to(target)
    assert item.substatus is target
    assert item.last_modified_at >= before


@pytest.mark.parametrize("move", ILLEGAL, ids=[move_id(m) for m in ILLEGAL])
def test_activity_substatus_illegal_move_raises_naming_the_state(
    move: tuple[Substatus, Substatus],
) -> None:
    source, target = move
    item = activity(source)
    with pytest.raises(DomainError) as caught:
        item.move_to(target)
    assert caught.value.spec is errors.OPERATION_NOT_ALLOWED_IN_STATE
    assert caught.value.params == {"operation": target.value, "state": source.value}
    assert item.substatus is source  # unchanged


@pytest.mark.parametrize("closed", [S.SENT, S.COMPLETED])
def test_activity_closed_substatus_is_final(closed: Substatus) -> None:
    assert TRANSITIONS[closed] == frozenset()


@pytest.mark.parametrize("substatus", list(S), ids=lambda s: s.value)
def test_activity_status_is_derived_from_substatus(substatus: Substatus) -> None:
    expected = Status.COMPLETED if substatus in (S.SENT, S.COMPLETED) else Status.OPEN
    assert substatus.status is expected
    assert activity(substatus).status is expected


def test_activity_assign_to_records_the_user() -> None:
    item = activity(S.UNASSIGNED)
    item.assign_to(42)
    assert item.substatus is S.ASSIGNED
    assert item.assigned_user_id == 42
    assert item.user_last_worked_id == 42


def test_activity_assign_to_from_a_closed_state_is_refused() -> None:
    item = activity(S.COMPLETED)
    with pytest.raises(DomainError) as caught:
        item.assign_to(42)
    assert caught.value.params["state"] == "completed"
    assert item.assigned_user_id is None


# --- department transfer --------------------------------------------------------------------


def test_activity_transfer_department_records_last_department() -> None:
    item = activity()
    item.transfer_department(2)
    assert (item.department_id, item.last_department_id) == (2, 1)
    item.transfer_department(3)
    assert (item.department_id, item.last_department_id) == (3, 2)


def test_activity_transfer_to_the_same_department_keeps_last_department() -> None:
    item = activity()
    item.transfer_department(2)
    item.transfer_department(2)
    assert (item.department_id, item.last_department_id) == (2, 1)


# --- email payload --------------------------------------------------------------------------


def test_email_content_size_counts_utf8_bytes_of_text_and_html() -> None:
    payload = EmailPayload(text="héllo", html="<p>é</p>")
    assert payload.content_size() == len("héllo".encode()) + len("<p>é</p>".encode()) == 15
    assert EmailPayload().content_size() == 0
