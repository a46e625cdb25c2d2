"""Two deliveries of one message, ingested at the same moment by two workers, become one
activity (the per-message lock; on SQLite the single writer serializes them anyway)."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

from sqlalchemy import func, select

from emaildesk.db import tables as t
from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.domain.ingestion import Ingestion, IngestionSource, IngestionState
from emaildesk.services.mail_config import MailConfig
from emaildesk.services.mail_receive import ingest_received, receive_raw
from support.seed import seed_basic_site

CONFIG = MailConfig(secret=b"k" * 32, domain="desk.example.com")


def raw_message() -> bytes:
    msg = EmailMessage()
    msg["From"] = "jane@customer.org"
    msg["To"] = "support@example.com"
    msg["Subject"] = "Delivered twice"
    msg["Message-ID"] = "<twice.1@customer.org>"
    msg.set_content("hello")
    return msg.as_bytes()


async def ingest(database: Database, blobs: FileBlobStore, ingestion_id: int) -> Ingestion:
    async with database.uow() as uow:
        result = await ingest_received(uow, blobs, ingestion_id, settings=CONFIG)
        await uow.commit()
        return result


async def test_concurrent_duplicate_deliveries_become_one_activity(
    database: Database, blobs: FileBlobStore
) -> None:
    async with database.uow() as uow:
        await seed_basic_site(uow)
        await uow.commit()
    ids = []
    for _ in range(2):
        async with database.uow() as uow:
            received = await receive_raw(
                uow,
                blobs,
                raw=raw_message(),
                source=IngestionSource.SMTP,
                envelope_from="jane@customer.org",
                recipients=["support@example.com"],
            )
            await uow.commit()
            assert received.id is not None
            ids.append(received.id)

    results = await asyncio.gather(*(ingest(database, blobs, i) for i in ids))

    assert sorted(r.state.value for r in results) == sorted(
        [IngestionState.STORED.value, IngestionState.DUPLICATE.value]
    )
    assert results[0].activity_id == results[1].activity_id
    async with database.engine.connect() as connection:
        activities = await connection.scalar(select(func.count()).select_from(t.activities))
    assert activities == 1
