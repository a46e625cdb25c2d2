"""Group commit for received mail: messages that arrive while one transaction commits are
stored together in the next one.

Why: every transaction pays for a durable commit (an fsync of SQLite's WAL under
`synchronous=FULL`, a WAL flush on PostgreSQL), and SQLite runs one writer at a time. With
several connections delivering at once, a transaction per message queues their fsyncs behind
the single write lock (and behind SQLite's busy-wait sleeps); a transaction per batch pays once.
A message that arrives alone is committed at once: nobody waits for company.

Each message's raw bytes are written to the blob store (fsynced) first, concurrently and outside
any transaction, so the write lock is held only for the inserts and the commit. The ingestion
record and its job are still staged by `receive_raw`, the one receiving use case.

Acknowledgement is unchanged: a message's `store()` returns only after its batch committed.
Failure is per batch: nothing of a failed batch was committed, so each of its messages gets the
error (the listener answers 451) and its sender retries.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from emaildesk.db.database import Database
from emaildesk.domain.ingestion import Ingestion, IngestionSource
from emaildesk.services.mail_receive import receive_raw
from emaildesk.services.ports import BlobStore

MAX_BATCH = 64  # bounds one transaction's size; 4-16 concurrent connections rarely fill it


class ReceivingRuntime(Protocol):
    """What storing received mail needs: read per batch, so an operator (or a test) may swap
    the database handle while the listeners run."""

    @property
    def database(self) -> Database: ...

    @property
    def blobs(self) -> BlobStore: ...


class _AlreadyWritten:
    """The blob store, except that the message's own bytes are known to be stored already (they
    were written before the batch began); `receive_raw` gets their name without a second write."""

    def __init__(self, blobs: BlobStore, raw: bytes, sha256: str) -> None:
        self._blobs, self._raw, self._sha256 = blobs, raw, sha256

    async def put(self, data: bytes) -> str:
        if data is self._raw:
            return self._sha256
        return await self._blobs.put(data)

    async def get(self, sha256: str) -> bytes:
        return await self._blobs.get(sha256)

    async def exists(self, sha256: str) -> bool:
        return await self._blobs.exists(sha256)


@dataclass(eq=False)
class _Request:
    raw: bytes
    sha256: str
    source: IngestionSource
    envelope_from: str
    recipients: list[str]
    done: asyncio.Future[Ingestion]


class ReceiveBatcher:
    """Stores received messages durably, batching those that arrive together (see module)."""

    def __init__(self, runtime: ReceivingRuntime, max_batch: int = MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._runtime = runtime
        self._max_batch = max_batch
        self._queue: list[_Request] = []
        self._committer: asyncio.Task[None] | None = None
        self.batches = 0  # transactions committed (observability and tests)

    async def store(
        self, raw: bytes, *, source: IngestionSource, envelope_from: str, recipients: list[str]
    ) -> Ingestion:
        """Return the committed ingestion; raise if its batch failed (nothing was committed).

        The caller may be cancelled (its client hung up): the batch commits regardless, so a
        transaction never stops half-way."""
        sha256 = await self._runtime.blobs.put(raw)
        done: asyncio.Future[Ingestion] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_retrieve)
        self._queue.append(_Request(raw, sha256, source, envelope_from, recipients, done))
        # A committer that has not finished will still see this request: it checks the queue
        # again before it ends, and nothing runs between that check and its end.
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_all(), name="mail-receive-commit")
        return await asyncio.shield(done)

    @property
    def waiting(self) -> int:
        """Messages queued for the next batch (not yet in a transaction)."""
        return len(self._queue)

    async def wait_idle(self) -> None:
        """Until every queued message's batch has committed or failed."""
        while self._committer is not None and not self._committer.done():
            await asyncio.wait({self._committer})

    async def _commit_all(self) -> None:
        while self._queue:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            try:
                stored = await self._commit(batch)
            except Exception as exc:  # per batch: none of it committed; each caller answers
                for request in batch:
                    if not request.done.done():
                        request.done.set_exception(exc)
            except BaseException:  # cancelled (the loop is closing): nobody may wait forever
                for request in [*batch, *self._queue]:
                    request.done.cancel()
                raise
            else:
                self.batches += 1
                for request, ingestion in zip(batch, stored, strict=True):
                    if not request.done.done():
                        request.done.set_result(ingestion)

    async def _commit(self, batch: list[_Request]) -> list[Ingestion]:
        async with self._runtime.database.uow() as uow:
            stored = [
                await receive_raw(
                    uow,
                    _AlreadyWritten(self._runtime.blobs, request.raw, request.sha256),
                    raw=request.raw,
                    source=request.source,
                    envelope_from=request.envelope_from,
                    recipients=request.recipients,
                )
                for request in batch
            ]
            await uow.commit()
        return stored


def _retrieve(done: asyncio.Future[Ingestion]) -> None:
    """Mark a failure as seen: its caller may have stopped waiting (timeout, hang-up) and has
    answered 451 or nothing; the failure is logged by the caller that still waits."""
    if not done.cancelled():
        done.exception()
