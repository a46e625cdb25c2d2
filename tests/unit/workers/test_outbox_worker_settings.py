"""What the outbox worker refuses at construction (configuration fails loudly, at start-up) and
how its failure signals are shaped; no database needed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from emaildesk.workers import (
    JobError,
    OutboxWorker,
    PermanentJobError,
    TransientJobError,
    default_worker_id,
)
from emaildesk.workers.outbox_worker import MAX_WORKER_ID_LENGTH


def unused_factory() -> Any:
    raise AssertionError("construction must not open a unit of work")


def build(**overrides: Any) -> OutboxWorker:
    options: dict[str, Any] = {
        "worker_id": "w1",
        "lease": timedelta(seconds=30),
        "poll_interval": 0.5,
        "batch_size": 5,
    }
    options.update(overrides)
    return OutboxWorker(unused_factory, {}, **options)


def test_valid_settings_are_kept() -> None:
    worker = build()
    assert (worker.worker_id, worker.lease, worker.poll_interval, worker.batch_size) == (
        "w1",
        timedelta(seconds=30),
        0.5,
        5,
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"worker_id": ""},
        {"worker_id": "w" * (MAX_WORKER_ID_LENGTH + 1)},
        {"lease": timedelta(0)},
        {"lease": timedelta(seconds=-1)},
        {"poll_interval": 0},
        {"batch_size": 0},
    ],
)
def test_worker_rejects_unusable_settings(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(overrides))):
        build(**overrides)


def test_default_worker_id_is_unique_per_worker_and_fits_the_column() -> None:
    ids = {default_worker_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(0 < len(worker_id) <= MAX_WORKER_ID_LENGTH for worker_id in ids)


def test_job_errors_carry_their_reason_and_share_a_root() -> None:
    transient, permanent = TransientJobError("451 try later"), PermanentJobError("550 no user")
    assert isinstance(transient, JobError)
    assert isinstance(permanent, JobError)
    assert not isinstance(transient, PermanentJobError)
    assert (transient.reason, permanent.reason) == ("451 try later", "550 no user")
