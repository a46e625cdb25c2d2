"""How a job handler tells the outbox worker what to do about a failure.

Grouped by what the worker can do, as httpx groups its errors: try again later (`Transient…`), or
stop trying and make the failure visible (`Permanent…`). Any other exception a handler lets out
is treated as transient, because an unforeseen error is more often a passing condition (a relay
restart, a dropped connection) than a verdict, and `max_attempts` bounds the retries anyway.
"""

from __future__ import annotations


class JobError(Exception):
    """Root of the handler-signalled failures; the message becomes the job's `last_error`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientJobError(JobError):
    """Retry with exponential backoff (e.g. SMTP 4xx, a timeout); dead after `max_attempts`."""


class PermanentJobError(JobError):
    """Dead now, whatever attempts remain (e.g. SMTP 5xx, a payload that can never work)."""
