"""Receiving mail durably (services/mail_receive.py), on both databases: the raw bytes, the
ingestion record and its processing job commit together, or nothing does."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import Table, func, select

from emaildesk.db import tables as t
from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.domain.ingestion import Ingestion, IngestionSource, IngestionState
from emaildesk.domain.outbox import JobState
from emaildesk.services.mail_receive import (
    INGEST_JOB,
    accepting_alias,
    enqueue_ingest,
    receive_raw,
)
from support.seed import seed_basic_site

RAW = (
    b"From: Jane Doe <jane@customer.org>\r\n"
    b"To: support@example.com\r\n"
    b"Subject: Broken phone\r\n"
    b"Message-ID: <m1@customer.org>\r\n"
    b"\r\n"
    b"It does not ring.\r\n"
)


async def count(database: Database, table: Table) -> int:
    async with database.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def test_receive_commits_raw_bytes_ingestion_record_and_ingest_job_together(
    database: Database, blobs: FileBlobStore
) -> None:
    async with database.uow() as uow:
        ingestion = await receive_raw(
            uow,
            blobs,
            raw=RAW,
            source=IngestionSource.SMTP,
            envelope_from="bounces@customer.org",
            recipients=["Support@Example.com", "sales@example.com"],
        )
        await uow.commit()
    assert ingestion.id is not None

    async with database.uow() as uow:
        stored = await uow.ingestions.get(ingestion.id)
        jobs = await uow.outbox.in_state(JobState.PENDING)
    assert stored is not None
    assert stored.state is IngestionState.RECEIVED
    assert stored.source is IngestionSource.SMTP
    assert stored.raw_sha256 == hashlib.sha256(RAW).hexdigest()
    assert stored.size == len(RAW)
    assert stored.envelope_from == "bounces@customer.org"
    assert stored.recipients == ["support@example.com", "sales@example.com"]
    assert stored.sender is None and stored.message_id is None  # learnt only when parsed
    assert await blobs.get(stored.raw_sha256) == RAW
    assert [(j.kind, j.payload) for j in jobs] == [
        (
            INGEST_JOB,
            {
                "ingestion_id": ingestion.id,
                "raw_sha256": stored.raw_sha256,  # hints: the worker parses before its transaction
                "envelope_from": "bounces@customer.org",
            },
        )
    ]


async def test_receive_rolled_back_leaves_neither_ingestion_nor_job(
    database: Database, blobs: FileBlobStore
) -> None:
    async with database.uow() as uow:
        await receive_raw(
            uow,
            blobs,
            raw=RAW,
            source=IngestionSource.LMTP,
            envelope_from="",
            recipients=["support@example.com"],
        )
        # no commit: the transport must not acknowledge, and nothing of the message remains

    assert await count(database, t.ingestions) == 0
    assert await count(database, t.outbox_jobs) == 0


async def test_receive_refuses_nothing_not_even_bytes_that_are_no_email(
    database: Database, blobs: FileBlobStore
) -> None:
    garbage = bytes(range(256)) * 4
    async with database.uow() as uow:
        ingestion = await receive_raw(
            uow, blobs, raw=garbage, source=IngestionSource.SMTP, envelope_from="", recipients=[]
        )
        await uow.commit()

    assert ingestion.state is IngestionState.RECEIVED
    assert await blobs.get(ingestion.raw_sha256) == garbage
    assert await count(database, t.outbox_jobs) == 1


async def test_receive_keeps_the_imap_origin_so_a_message_is_not_taken_twice(
    database: Database, blobs: FileBlobStore
) -> None:
    async with database.uow() as uow:
        ingestion = await receive_raw(
            uow,
            blobs,
            raw=RAW,
            source=IngestionSource.IMAP,
            envelope_from="",
            recipients=["support@example.com"],
            mailbox="support/INBOX",
            remote_uid="1700000000:42",
        )
        await uow.commit()

    async with database.uow() as uow:
        found = await uow.ingestions.by_remote("support/INBOX", "1700000000:42")
        other = await uow.ingestions.by_remote("support/INBOX", "1700000000:43")
    assert found is not None and found.id == ingestion.id
    assert other is None


async def test_receive_of_the_same_bytes_twice_stores_them_once(
    database: Database, blobs: FileBlobStore
) -> None:
    async with database.uow() as uow:
        for _ in range(2):
            await receive_raw(
                uow,
                blobs,
                raw=RAW,
                source=IngestionSource.SMTP,
                envelope_from="",
                recipients=["support@example.com"],
            )
        await uow.commit()

    assert await count(database, t.ingestions) == 2  # two deliveries, both recorded
    assert len([p for p in blobs.root.rglob("*") if p.is_file()]) == 1


async def test_accepting_alias_is_only_an_active_alias(database: Database) -> None:
    async with database.uow() as uow:
        await seed_basic_site(uow)
        await uow.commit()

    async with database.uow() as uow:
        active = await accepting_alias(uow, "SUPPORT@example.com")
        inactive = await accepting_alias(uow, "old@example.com")
        unknown = await accepting_alias(uow, "nobody@example.com")
    assert active is not None and active.address == "support@example.com"
    assert inactive is None
    assert unknown is None


async def test_ingest_job_needs_a_flushed_ingestion(database: Database) -> None:
    unsaved = Ingestion(source=IngestionSource.CLI, raw_sha256="0" * 64, size=0, envelope_from="")
    async with database.uow() as uow:
        with pytest.raises(ValueError, match="flushed"):
            await enqueue_ingest(uow, unsaved)
