"""Outbox jobs: work that must happen after a commit (send an email, post a contact, call a
webhook), written in the same transaction as the change that asked for it.

A job is claimed by a worker (lease with an expiry, so a crashed worker's job is claimed again),
then done, retried with exponential backoff, or dead after `max_attempts`. Effects must be
idempotent: a job may run again after a crash between its effect and its commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from emaildesk.domain import errors
from emaildesk.domain.clock import utcnow

DEFAULT_MAX_ATTEMPTS = 8
BASE_BACKOFF_SECONDS = 2.0
MAX_BACKOFF_SECONDS = 3600.0


class JobState(Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.PENDING: frozenset({JobState.RUNNING}),
    # RUNNING → RUNNING: a lease expired and another worker reclaimed the job.
    JobState.RUNNING: frozenset({JobState.DONE, JobState.PENDING, JobState.DEAD, JobState.RUNNING}),
    JobState.DONE: frozenset(),
    JobState.DEAD: frozenset({JobState.PENDING}),  # an operator may requeue a dead job
}


def backoff(attempt: int, base: float = BASE_BACKOFF_SECONDS) -> timedelta:
    """Delay before attempt `attempt + 1`: base · 2^(attempt-1), capped at an hour."""
    return timedelta(seconds=min(base * 2 ** max(attempt - 1, 0), MAX_BACKOFF_SECONDS))


@dataclass(eq=False)
class OutboxJob:
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    state: JobState = JobState.PENDING
    attempts: int = 0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    run_after: datetime = field(default_factory=utcnow)
    lease_until: datetime | None = None
    leased_by: str | None = None
    last_error: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
    id: int | None = None

    def _move(self, target: JobState, operation: str) -> None:
        if target not in TRANSITIONS[self.state]:
            raise errors.OPERATION_NOT_ALLOWED_IN_STATE(operation=operation, state=self.state.value)
        self.state = target

    def claim(self, worker: str, lease: timedelta, now: datetime | None = None) -> None:
        now = now or utcnow()
        self._move(JobState.RUNNING, "claim")
        self.attempts += 1
        self.leased_by = worker
        self.lease_until = now + lease

    def succeed(self, now: datetime | None = None) -> None:
        self._move(JobState.DONE, "succeed")
        self.finished_at = now or utcnow()
        self.lease_until = None

    def fail(self, reason: str, permanent: bool = False, now: datetime | None = None) -> None:
        """Retry later with backoff, or die when permanent or out of attempts."""
        now = now or utcnow()
        self.last_error = reason[:2000]
        self.lease_until = None
        if permanent or self.attempts >= self.max_attempts:
            self._move(JobState.DEAD, "fail")
            self.finished_at = now
        else:
            self._move(JobState.PENDING, "retry")
            self.run_after = now + backoff(self.attempts)

    def requeue(self, now: datetime | None = None) -> None:
        """Operator action: give a dead job a fresh set of attempts (only a dead one: a running
        job may also move to PENDING, but only as its own retry)."""
        if self.state is not JobState.DEAD:
            raise errors.OPERATION_NOT_ALLOWED_IN_STATE(operation="requeue", state=self.state.value)
        self._move(JobState.PENDING, "requeue")
        self.attempts = 0
        self.finished_at = None
        self.run_after = now or utcnow()
