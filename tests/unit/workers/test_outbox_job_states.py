"""The outbox job's state machine and backoff (domain/outbox.py), as the worker relies on them:
a reclaim after a crash is legal, a finished job cannot be touched, retries spread out and stop
growing at the cap, and attempts run out."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from emaildesk.domain import errors
from emaildesk.domain.errors import DomainError
from emaildesk.domain.outbox import (
    BASE_BACKOFF_SECONDS,
    MAX_BACKOFF_SECONDS,
    TRANSITIONS,
    JobState,
    OutboxJob,
    backoff,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def job_in(state: JobState, attempts: int = 1, max_attempts: int = 8) -> OutboxJob:
    job = OutboxJob(kind="test.record", attempts=attempts, max_attempts=max_attempts)
    job.state = state
    return job


def test_backoff_doubles_with_each_attempt() -> None:
    delays = [backoff(n).total_seconds() for n in range(1, 6)]
    assert delays[0] == BASE_BACKOFF_SECONDS
    assert all(later == 2 * earlier for earlier, later in itertools.pairwise(delays))


def test_backoff_is_capped() -> None:
    assert backoff(60) == timedelta(seconds=MAX_BACKOFF_SECONDS)
    first_capped = next(
        n for n in range(1, 100) if backoff(n).total_seconds() >= MAX_BACKOFF_SECONDS
    )
    assert backoff(first_capped - 1).total_seconds() < MAX_BACKOFF_SECONDS
    assert backoff(first_capped + 10) == backoff(first_capped)


def test_backoff_before_any_attempt_is_the_base() -> None:
    assert backoff(0) == timedelta(seconds=BASE_BACKOFF_SECONDS)


def test_claim_leases_and_counts_an_attempt() -> None:
    job = job_in(JobState.PENDING, attempts=0)
    job.claim("w1", LEASE, NOW)
    assert (job.state, job.attempts, job.leased_by, job.lease_until) == (
        JobState.RUNNING,
        1,
        "w1",
        NOW + LEASE,
    )


def test_reclaim_of_a_running_job_is_allowed_after_a_crash() -> None:
    job = job_in(JobState.PENDING, attempts=0)
    job.claim("w1", LEASE, NOW)
    job.claim("w2", LEASE, NOW + 2 * LEASE)
    assert (job.state, job.attempts, job.leased_by) == (JobState.RUNNING, 2, "w2")


def test_transient_failure_retries_after_backoff() -> None:
    job = job_in(JobState.RUNNING, attempts=3)
    job.fail("relay busy", now=NOW)
    assert job.state is JobState.PENDING
    assert job.run_after == NOW + backoff(3)
    assert (job.last_error, job.lease_until, job.finished_at) == ("relay busy", None, None)


def test_failure_on_the_last_attempt_is_dead() -> None:
    job = job_in(JobState.RUNNING, attempts=3, max_attempts=3)
    job.fail("relay busy", now=NOW)
    assert (job.state, job.finished_at) == (JobState.DEAD, NOW)


def test_permanent_failure_is_dead_with_attempts_left() -> None:
    job = job_in(JobState.RUNNING, attempts=1, max_attempts=8)
    job.fail("550 no such user", permanent=True, now=NOW)
    assert (job.state, job.last_error) == (JobState.DEAD, "550 no such user")


def test_last_error_is_bounded() -> None:
    job = job_in(JobState.RUNNING)
    job.fail("x" * 10_000, now=NOW)
    assert job.last_error is not None
    assert len(job.last_error) == 2000


def test_requeue_gives_a_dead_job_fresh_attempts() -> None:
    job = job_in(JobState.DEAD, attempts=8, max_attempts=8)
    job.finished_at = NOW
    job.requeue(NOW + LEASE)
    assert (job.state, job.attempts, job.finished_at, job.run_after) == (
        JobState.PENDING,
        0,
        None,
        NOW + LEASE,
    )


ILLEGAL: list[tuple[JobState, str, Callable[[OutboxJob], None]]] = [
    (JobState.PENDING, "succeed", lambda j: j.succeed(NOW)),
    (JobState.PENDING, "retry", lambda j: j.fail("x", now=NOW)),
    (JobState.PENDING, "fail", lambda j: j.fail("x", permanent=True, now=NOW)),
    (JobState.PENDING, "requeue", lambda j: j.requeue(NOW)),
    (JobState.RUNNING, "requeue", lambda j: j.requeue(NOW)),  # only a dead job is requeued
    (JobState.DONE, "claim", lambda j: j.claim("w", LEASE, NOW)),
    (JobState.DONE, "succeed", lambda j: j.succeed(NOW)),
    (JobState.DONE, "retry", lambda j: j.fail("x", now=NOW)),
    (JobState.DONE, "requeue", lambda j: j.requeue(NOW)),
    (JobState.DEAD, "claim", lambda j: j.claim("w", LEASE, NOW)),
    (JobState.DEAD, "succeed", lambda j: j.succeed(NOW)),
]


@pytest.mark.parametrize(("state", "operation", "action"), ILLEGAL)
def test_illegal_transition_raises_operation_not_allowed_in_state(
    state: JobState, operation: str, action: Callable[[OutboxJob], None]
) -> None:
    job = job_in(state)
    with pytest.raises(DomainError) as raised:
        action(job)
    assert raised.value.spec is errors.OPERATION_NOT_ALLOWED_IN_STATE
    assert raised.value.params == {"operation": operation, "state": state.value}
    assert job.state is state  # a refused transition changes nothing


def test_finished_states_only_leave_by_operator_requeue() -> None:
    assert TRANSITIONS[JobState.DONE] == frozenset()
    assert TRANSITIONS[JobState.DEAD] == frozenset({JobState.PENDING})
