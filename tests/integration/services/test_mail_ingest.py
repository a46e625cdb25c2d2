"""Received mail becomes activities (services/mail_ingest.py, workers/mail_jobs.py,
services/quarantine.py), end to end on both databases: real raw messages built with the stdlib
`email` package go in through `receive_raw`, the real outbox worker runs the `mail.ingest` job,
and the outcome is read back from the database and the blob store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select, update

from emaildesk.app import build_runtime, job_handlers
from emaildesk.db import tables as t
from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.domain import errors
from emaildesk.domain.activities import Activity
from emaildesk.domain.errors import DomainError
from emaildesk.domain.ingestion import Ingestion, IngestionSource, IngestionState
from emaildesk.domain.outbox import JobState, OutboxJob
from emaildesk.mail.tokens import make_message_id
from emaildesk.services import mail_ingest
from emaildesk.services.mail_config import MailConfig
from emaildesk.services.mail_receive import INGEST_JOB, ingest_received, receive_raw
from emaildesk.services.quarantine import (
    get_ingestion,
    inspect,
    list_quarantined,
    raw_message,
    reprocess,
)
from emaildesk.settings import Settings
from emaildesk.workers import OutboxWorker, PermanentJobError
from emaildesk.workers.mail_jobs import mail_ingest_handler
from support import tricky_mail
from support.seed import BasicSite, seed_basic_site

SECRET = b"s" * 32
CONFIG = MailConfig(secret=SECRET, domain="desk.example.com", sender_rate_per_hour=50)
SUPPORT = "support@example.com"
SALES = "sales@example.com"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # every byte value: base64 must round-trip
PDF = b"%PDF-1.4\n" + bytes(reversed(range(256))) + b"\n%%EOF\n"
SENT = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


def message(
    *,
    sender: str = "Jane Doe <jane@customer.org>",
    to: str = SUPPORT,
    cc: str | None = None,
    subject: str = "My phone does not ring",
    body: str = "It stopped ringing yesterday.",
    message_id: str | None = "<first.1@customer.org>",
    headers: Sequence[tuple[str, str]] = (),
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> bytes:
    """A message as a mail client sends it (CRLF line ends, as on the wire)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(SENT)
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in headers:
        msg[name] = value
    msg.set_content(body)
    for file_name, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=file_name)
    return msg.as_bytes(policy=SMTP)


@pytest.fixture
async def site(database: Database) -> BasicSite:
    async with database.uow() as uow:
        seeded = await seed_basic_site(uow)
        await uow.commit()
    return seeded


async def receive(
    database: Database,
    blobs: FileBlobStore,
    raw: bytes,
    recipients: Sequence[str] = (SUPPORT,),
    envelope_from: str = "",
) -> int:
    async with database.uow() as uow:
        ingestion = await receive_raw(
            uow,
            blobs,
            raw=raw,
            source=IngestionSource.SMTP,
            envelope_from=envelope_from,
            recipients=list(recipients),
        )
        await uow.commit()
    assert ingestion.id is not None
    return ingestion.id


async def run_jobs(database: Database, blobs: FileBlobStore, config: MailConfig = CONFIG) -> int:
    """The real outbox worker with the real handler, until nothing is due."""
    worker = OutboxWorker(
        database.uow, {INGEST_JOB: mail_ingest_handler(blobs, config)}, worker_id="test"
    )
    total = 0
    while claimed := await worker.run_once():
        total += claimed
    return total


async def deliver(
    database: Database,
    blobs: FileBlobStore,
    raw: bytes,
    recipients: Sequence[str] = (SUPPORT,),
    envelope_from: str = "",
    config: MailConfig = CONFIG,
) -> Ingestion:
    """Receive, run the ingest job, and return the ingestion as committed."""
    ingestion_id = await receive(database, blobs, raw, recipients, envelope_from)
    await run_jobs(database, blobs, config)
    return await reload(database, ingestion_id)


async def reload(database: Database, ingestion_id: int) -> Ingestion:
    async with database.uow() as uow:
        return await get_ingestion(uow, ingestion_id)


async def activity_of(database: Database, ingestion: Ingestion) -> Activity:
    assert ingestion.activity_id is not None, ingestion.reason
    async with database.uow() as uow:
        activity = await uow.activities.get(ingestion.activity_id)
    assert activity is not None and activity.email is not None
    return activity


async def count(database: Database, table: Table) -> int:
    async with database.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


# --- stored ---------------------------------------------------------------------------------


async def test_received_mail_is_stored_with_attachments_byte_exact_customer_case_and_department(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    raw = message(
        to=SALES,
        cc="Boss <boss@customer.org>",
        attachments=[
            ("photo.png", "image/png", PNG),
            ("Rechnung März.pdf", "application/pdf", PDF),
        ],
    )

    ingestion = await deliver(database, blobs, raw, recipients=[SALES])

    assert ingestion.state is IngestionState.STORED, ingestion.reason
    assert ingestion.sender == "jane@customer.org"
    assert ingestion.message_id == "first.1@customer.org"
    activity = await activity_of(database, ingestion)
    assert activity.email is not None
    assert activity.department_id == site.sales.id
    assert activity.email.receiver_alias_id == site.sales_alias.id
    assert activity.subject == "My phone does not ring"
    assert activity.email.from_address == "jane@customer.org"
    assert activity.email.from_name == "Jane Doe"
    assert activity.email.cc == ["boss@customer.org"]
    assert activity.email.sent_date == SENT
    assert activity.email.message_id == "first.1@customer.org"
    assert activity.email.auto_submitted is False
    assert activity.email.thread_reason and activity.email.thread_reason.startswith("new")
    assert "It stopped ringing yesterday." in (activity.email.text or "")
    stored = {a.file_name: a for a in activity.attachments}
    assert set(stored) == {"photo.png", "Rechnung März.pdf"}
    assert stored["photo.png"].content_type == "image/png"
    assert await blobs.get(stored["photo.png"].sha256) == PNG
    assert await blobs.get(stored["Rechnung März.pdf"].sha256) == PDF
    async with database.uow() as uow:
        assert activity.customer_id is not None and activity.case_id is not None
        customer = await uow.customers.get(activity.customer_id)
        case = await uow.cases.get(activity.case_id)
        kinds = [e.kind for e in await uow.events.since(0)]
    assert customer is not None and customer.email_addresses() == ["jane@customer.org"]
    assert case is not None and case.department_id == site.sales.id
    assert kinds == ["CustomerCreated", "CaseCreated", "ActivityCreated"]
    assert await blobs.get(ingestion.raw_sha256) == raw  # the raw message is kept as received


@pytest.mark.usefixtures("site")
async def test_envelope_sender_is_used_when_the_message_has_no_from(
    database: Database, blobs: FileBlobStore
) -> None:
    raw = message().replace(b"From: Jane Doe <jane@customer.org>\r\n", b"")

    ingestion = await deliver(database, blobs, raw, envelope_from="jane@customer.org")

    assert ingestion.state is IngestionState.STORED, ingestion.reason
    email = (await activity_of(database, ingestion)).email
    assert email is not None and email.from_address == "jane@customer.org"


@pytest.mark.usefixtures("site")
async def test_inline_cid_image_and_attachment_are_stored_byte_exact(
    database: Database, blobs: FileBlobStore
) -> None:
    ingestion = await deliver(database, blobs, tricky_mail.related_with_cid_image())

    assert ingestion.state is IngestionState.STORED, ingestion.reason
    activity = await activity_of(database, ingestion)
    assert activity.email is not None and 'src="cid:logo.1@desk.example.test"' in (
        activity.email.html or ""
    )
    by_type = {a.content_type: a for a in activity.attachments}
    image, pdf = by_type["image/png"], by_type["application/pdf"]
    assert (image.inline, image.content_id) == (True, "logo.1@desk.example.test")
    assert (pdf.inline, pdf.file_name) == (False, "invoice.pdf")
    assert await blobs.get(image.sha256) == tricky_mail.PNG_BYTES
    assert await blobs.get(pdf.sha256) == tricky_mail.PDF_BYTES


@pytest.mark.usefixtures("site")
async def test_every_tricky_message_ends_stored_or_quarantined_never_lost(
    database: Database, blobs: FileBlobStore
) -> None:
    """Lossless and observable: whatever the bytes, each message reaches a final state with a
    reason, and no ingest job is left to retry or dead."""
    ids = {}
    for name, raw in tricky_mail.tricky_messages().items():
        unique = raw.replace(b"<tricky@example.org>", f"<{name}@example.org>".encode())
        ids[name] = await receive(database, blobs, unique)
    await run_jobs(database, blobs)

    outcomes = {name: await reload(database, i) for name, i in ids.items()}
    quarantined = {n for n, i in outcomes.items() if i.state is IngestionState.QUARANTINED}
    stored = {n for n, i in outcomes.items() if i.state is IngestionState.STORED}
    unparsable = {"many_headers", "many_parts", "deep_nesting", "long_header_line", "empty"}
    assert quarantined == unparsable | {"no_from"}
    assert stored == set(outcomes) - quarantined
    assert all((outcomes[n].reason or "").startswith("unparsable: ") for n in unparsable)
    assert outcomes["no_from"].reason == "no valid sender"
    assert all(outcomes[n].activity_id is not None for n in stored)
    async with database.uow() as uow:
        pending = await uow.outbox.in_state(JobState.PENDING)
        dead = await uow.outbox.in_state(JobState.DEAD)
    assert (pending, dead) == ([], [])
    bounce = await activity_of(database, outcomes["dsn_bounce"])
    assert bounce.email is not None and bounce.email.auto_submitted is True


# --- threading ------------------------------------------------------------------------------


@pytest.mark.usefixtures("site")
async def test_reply_to_our_message_id_threads_into_the_same_case(
    database: Database, blobs: FileBlobStore
) -> None:
    first = await activity_of(database, await deliver(database, blobs, message()))
    assert first.case_id is not None and first.id is not None
    ours = make_message_id(
        case_id=first.case_id, activity_id=first.id, domain="desk.example.com", secret=SECRET
    )
    reply = message(
        subject="Re: My phone does not ring",
        message_id="<reply.2@customer.org>",
        headers=[("In-Reply-To", f"<{ours}>"), ("References", f"<{ours}>")],
    )

    second = await activity_of(database, await deliver(database, blobs, reply))

    assert second.case_id == first.case_id
    assert second.id != first.id
    assert second.email is not None and second.email.in_reply_to == ours
    assert second.email.thread_reason and second.email.thread_reason.startswith("token")
    assert await count(database, t.cases) == 1


@pytest.mark.usefixtures("site")
async def test_unrelated_mail_from_the_same_sender_opens_a_new_case(
    database: Database, blobs: FileBlobStore
) -> None:
    first = await activity_of(database, await deliver(database, blobs, message()))
    other = await activity_of(
        database,
        await deliver(database, blobs, message(subject="New topic", message_id="<new.3@c.org>")),
    )

    assert other.case_id != first.case_id
    assert other.customer_id == first.customer_id  # the sender's customer is found again


# --- duplicates -----------------------------------------------------------------------------


@pytest.mark.usefixtures("site")
async def test_same_message_id_from_same_sender_twice_is_one_activity(
    database: Database, blobs: FileBlobStore
) -> None:
    raw = message()

    first = await deliver(database, blobs, raw)
    again = await deliver(database, blobs, raw)

    assert first.state is IngestionState.STORED
    assert again.state is IngestionState.DUPLICATE
    assert again.activity_id == first.activity_id
    assert again.reason == f"duplicate of activity {first.activity_id}"
    assert await count(database, t.activities) == 1
    assert again.raw_sha256 == first.raw_sha256  # stored once: the blob store is by content


@pytest.mark.usefixtures("site")
async def test_one_delivery_to_two_aliases_is_one_activity_in_the_first_alias_department(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    raw = message(to=f"{SALES}, {SUPPORT}")

    one = await deliver(database, blobs, raw, recipients=[SALES, SUPPORT])
    # The same message delivered again, once per alias (a transport that splits recipients).
    per_alias = [await deliver(database, blobs, raw, recipients=[a]) for a in (SUPPORT, SALES)]

    assert one.state is IngestionState.STORED
    assert (await activity_of(database, one)).department_id == site.sales.id
    assert [i.state for i in per_alias] == [IngestionState.DUPLICATE] * 2
    assert {i.activity_id for i in per_alias} == {one.activity_id}
    assert await count(database, t.activities) == 1


@pytest.mark.usefixtures("site")
async def test_same_message_id_from_another_sender_is_not_a_duplicate(
    database: Database, blobs: FileBlobStore
) -> None:
    first = await deliver(database, blobs, message())
    forged = await deliver(database, blobs, message(sender="mallory@elsewhere.org"))

    assert forged.state is IngestionState.STORED
    assert forged.activity_id != first.activity_id


@pytest.mark.usefixtures("site")
async def test_messages_without_message_id_are_never_duplicates(
    database: Database, blobs: FileBlobStore
) -> None:
    raw = message(message_id=None)

    first = await deliver(database, blobs, raw)
    second = await deliver(database, blobs, raw)

    assert (first.state, second.state) == (IngestionState.STORED, IngestionState.STORED)
    assert first.message_id is None
    assert await count(database, t.activities) == 2


# --- automatic mail and storms --------------------------------------------------------------


@pytest.mark.usefixtures("site")
async def test_auto_reply_is_stored_and_flagged(database: Database, blobs: FileBlobStore) -> None:
    raw = message(subject="Out of office", headers=[("Auto-Submitted", "auto-replied")])

    ingestion = await deliver(database, blobs, raw)

    assert ingestion.state is IngestionState.STORED
    assert "automatic" in (ingestion.reason or "")
    email = (await activity_of(database, ingestion)).email
    assert email is not None and email.auto_submitted is True


@pytest.mark.usefixtures("site")
async def test_mail_from_one_of_our_aliases_is_flagged_as_a_loop(
    database: Database, blobs: FileBlobStore
) -> None:
    ingestion = await deliver(database, blobs, message(sender=f"Sales <{SALES}>"))

    assert ingestion.state is IngestionState.STORED
    assert "loop" in (ingestion.reason or "")
    email = (await activity_of(database, ingestion)).email
    assert email is not None and email.auto_submitted is True


@pytest.mark.usefixtures("site")
async def test_sender_over_the_hourly_rate_is_quarantined_and_stored_after_raising_the_limit(
    database: Database, blobs: FileBlobStore
) -> None:
    strict = MailConfig(secret=SECRET, domain="desk.example.com", sender_rate_per_hour=2)
    outcomes = [
        await deliver(database, blobs, message(message_id=f"<storm.{n}@c.org>"), config=strict)
        for n in range(3)
    ]
    other_sender = await deliver(
        database,
        blobs,
        message(sender="calm@customer.org", message_id="<calm@c.org>"),
        config=strict,
    )

    assert [i.state for i in outcomes] == [
        IngestionState.STORED,
        IngestionState.STORED,
        IngestionState.QUARANTINED,
    ]
    assert outcomes[2].reason == ("rate limit: 3 messages from jane@customer.org in the last hour")
    assert outcomes[2].activity_id is None
    assert other_sender.state is IngestionState.STORED

    # The operator raises the limit and reprocesses: the job staged by `reprocess` stores it.
    async with database.uow() as uow:
        assert outcomes[2].id is not None
        await reprocess(uow, outcomes[2].id)
        await uow.commit()
    await run_jobs(
        database, blobs, MailConfig(secret=SECRET, domain="d.example", sender_rate_per_hour=10)
    )

    stored = await reload(database, outcomes[2].id)
    assert stored.state is IngestionState.STORED, stored.reason
    assert await count(database, t.activities) == 4


@pytest.mark.usefixtures("site")
async def test_rate_limit_counts_only_the_hour_before_the_message_arrived(
    database: Database, blobs: FileBlobStore
) -> None:
    strict = MailConfig(secret=SECRET, domain="desk.example.com", sender_rate_per_hour=1)
    old = await deliver(database, blobs, message(message_id="<old@c.org>"), config=strict)
    async with database.engine.begin() as connection:  # it arrived two hours ago
        await connection.execute(
            update(t.ingestions).values(received_at=datetime.now(UTC) - timedelta(hours=2))
        )

    new = await deliver(database, blobs, message(message_id="<new@c.org>"), config=strict)

    assert old.state is IngestionState.STORED
    assert new.state is IngestionState.STORED, new.reason


# --- quarantine -----------------------------------------------------------------------------


@pytest.mark.usefixtures("site")
async def test_message_with_no_valid_sender_is_quarantined(
    database: Database, blobs: FileBlobStore
) -> None:
    raw = message(sender="not an address")

    ingestion = await deliver(database, blobs, raw, envelope_from="")

    assert ingestion.state is IngestionState.QUARANTINED
    assert ingestion.reason == "no valid sender"
    assert await count(database, t.activities) == 0


@pytest.mark.usefixtures("site")
async def test_message_to_an_alias_deactivated_since_receipt_is_quarantined(
    database: Database, blobs: FileBlobStore
) -> None:
    ingestion = await deliver(database, blobs, message(), recipients=["old@example.com"])

    assert ingestion.state is IngestionState.QUARANTINED
    assert ingestion.reason == "no active alias among the recipients (old@example.com)"
    assert ingestion.sender == "jane@customer.org"  # what was learnt is kept for the operator


@pytest.mark.usefixtures("site")
async def test_blocked_attachment_type_is_quarantined_with_the_error_message(
    database: Database, blobs: FileBlobStore
) -> None:
    raw = message(attachments=[("setup.exe", "application/octet-stream", b"MZ\x90\x00")])

    ingestion = await deliver(database, blobs, raw)

    assert ingestion.state is IngestionState.QUARANTINED
    assert ingestion.reason is not None and ingestion.reason.startswith("refused: 400-2022: ")
    assert "exe" in ingestion.reason
    # Nothing of the refused message remains but its record and its raw bytes.
    assert await count(database, t.activities) == 0
    assert await count(database, t.customers) == 0
    assert await count(database, t.cases) == 0
    assert await blobs.get(ingestion.raw_sha256) == raw
    async with database.uow() as uow:
        jobs = await uow.outbox.in_state(JobState.DONE)
    assert len(jobs) == 1  # quarantining is the job's success, not its failure


@pytest.mark.usefixtures("site")
async def test_refusal_after_the_use_case_wrote_rolls_its_writes_back(
    database: Database, blobs: FileBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule that refuses after the customer, case and activity were flushed (none does today;
    the use case may grow one) must not leave them behind the quarantine."""
    real = mail_ingest.create_incoming_email

    async def refuse_late(*args: Any, **kwargs: Any) -> Activity:
        await real(*args, **kwargs)
        raise errors.CASE_NOT_FOUND(case_id=1)

    monkeypatch.setattr(mail_ingest, "create_incoming_email", refuse_late)

    ingestion = await deliver(database, blobs, message())

    assert ingestion.state is IngestionState.QUARANTINED
    assert ingestion.reason == "refused: 400-2007: Case '1' does not exist."
    assert ingestion.sender == "jane@customer.org"
    assert ingestion.message_id == "first.1@customer.org"
    assert await count(database, t.activities) == 0
    assert await count(database, t.customers) == 0
    assert await count(database, t.cases) == 0
    assert await count(database, t.events) == 0


@pytest.mark.usefixtures("site")
async def test_body_over_the_size_limit_is_quarantined(
    database: Database, blobs: FileBlobStore
) -> None:
    ingestion = await deliver(database, blobs, message(body="x" * (600 * 1024)))

    assert ingestion.state is IngestionState.QUARANTINED
    assert ingestion.reason is not None and ingestion.reason.startswith("refused: ")


@pytest.mark.usefixtures("site")
async def test_unparsable_message_is_quarantined_with_the_reason_and_listed(
    database: Database, blobs: FileBlobStore
) -> None:
    raw = tricky_mail.deep_nesting()

    ingestion = await deliver(database, blobs, raw)

    assert ingestion.state is IngestionState.QUARANTINED
    assert ingestion.reason is not None and ingestion.reason.startswith("unparsable: ")
    async with database.uow() as uow:
        listed = await list_quarantined(uow)
        shown = await inspect(uow, blobs, ingestion.id or 0)
        downloaded = await raw_message(uow, blobs, ingestion.id or 0)
    assert [i.id for i in listed] == [ingestion.id]
    assert ("Subject", "Deep") in shown.headers
    assert downloaded == raw


@pytest.mark.usefixtures("site")
async def test_long_subject_is_cut_to_255_and_invalid_cc_dropped_and_both_noted(
    database: Database, blobs: FileBlobStore
) -> None:
    raw = message(subject="word " * 80, cc="ok@customer.org, broken@localhost")

    ingestion = await deliver(database, blobs, raw)

    assert ingestion.state is IngestionState.STORED, ingestion.reason
    activity = await activity_of(database, ingestion)
    assert len(activity.subject) == 255 and activity.subject.startswith("word word")
    assert activity.email is not None and activity.email.cc == ["ok@customer.org"]
    assert "subject cut from" in (ingestion.reason or "")
    assert "1 invalid Cc address(es) dropped" in (ingestion.reason or "")


# --- idempotency and the job's boundaries ---------------------------------------------------


@pytest.mark.usefixtures("site")
async def test_running_the_ingest_twice_does_nothing_the_second_time(
    database: Database, blobs: FileBlobStore
) -> None:
    ingestion_id = await receive(database, blobs, message())
    results = []
    for _ in range(2):
        async with database.uow() as uow:
            results.append(await ingest_received(uow, blobs, ingestion_id, settings=CONFIG))
            await uow.commit()
        events = await count(database, t.events)
        activities = await count(database, t.activities)

    assert results[0].state is results[1].state is IngestionState.STORED
    assert results[0].activity_id == results[1].activity_id
    assert (events, activities) == (3, 1)


@pytest.mark.usefixtures("site")
async def test_a_crash_before_commit_leaves_the_message_received_for_the_retry(
    database: Database, blobs: FileBlobStore
) -> None:
    ingestion_id = await receive(database, blobs, message())
    async with database.uow() as uow:
        await ingest_received(uow, blobs, ingestion_id, settings=CONFIG)
        # the worker dies here: no commit

    assert (await reload(database, ingestion_id)).state is IngestionState.RECEIVED
    assert await count(database, t.activities) == 0


class FailingBlobs:
    """A blob store whose disk fails on read: an unforeseen error for the ingest."""

    def __init__(self, inner: FileBlobStore) -> None:
        self.inner = inner

    async def put(self, data: bytes) -> str:
        return await self.inner.put(data)

    async def get(self, sha256: str) -> bytes:
        raise OSError("disk on fire")

    async def exists(self, sha256: str) -> bool:
        return await self.inner.exists(sha256)


@pytest.mark.usefixtures("site")
async def test_unexpected_error_is_retried_and_quarantined_on_the_last_attempt(
    database: Database, blobs: FileBlobStore
) -> None:
    ingestion_id = await receive(database, blobs, message())
    handler = mail_ingest_handler(FailingBlobs(blobs), CONFIG)
    payload = {"ingestion_id": ingestion_id}

    async with database.uow() as uow:
        with pytest.raises(OSError, match="disk on fire"):
            await handler(OutboxJob(INGEST_JOB, payload, attempts=2, max_attempts=3), uow)
    assert (await reload(database, ingestion_id)).state is IngestionState.RECEIVED

    async with database.uow() as uow:
        await handler(OutboxJob(INGEST_JOB, payload, attempts=3, max_attempts=3), uow)
        await uow.commit()
    last = await reload(database, ingestion_id)
    assert last.state is IngestionState.QUARANTINED
    assert last.reason == ("processing failed on all 3 attempts; last error: OSError: disk on fire")


@pytest.mark.usefixtures("site")
@pytest.mark.parametrize("payload", [{}, {"ingestion_id": "7"}, {"ingestion_id": 424242}])
async def test_ingest_job_without_a_real_ingestion_fails_permanently(
    database: Database, blobs: FileBlobStore, payload: dict[str, object]
) -> None:
    handler = mail_ingest_handler(blobs, CONFIG)
    async with database.uow() as uow:
        with pytest.raises(PermanentJobError):
            await handler(OutboxJob(INGEST_JOB, dict(payload), attempts=1), uow)


@pytest.mark.usefixtures("site")
async def test_job_payload_hints_naming_another_message_are_not_trusted(
    database: Database, blobs: FileBlobStore
) -> None:
    ingestion_id = await receive(database, blobs, message(subject="The real one"))
    other_sha = await blobs.put(message(subject="Planted", message_id="<planted@x.org>"))
    handler = mail_ingest_handler(blobs, CONFIG)
    payload = {"ingestion_id": ingestion_id, "raw_sha256": other_sha, "envelope_from": ""}

    async with database.uow() as uow:
        await handler(OutboxJob(INGEST_JOB, payload, attempts=1), uow)
        await uow.commit()

    ingestion = await reload(database, ingestion_id)
    assert ingestion.state is IngestionState.STORED
    assert (await activity_of(database, ingestion)).subject == "The real one"


@pytest.mark.usefixtures("site")
async def test_raw_message_missing_from_the_blob_store_is_quarantined(
    database: Database, blobs: FileBlobStore
) -> None:
    ingestion_id = await receive(database, blobs, message())
    for path in blobs.root.rglob("*"):
        if path.is_file():
            path.unlink()

    await run_jobs(database, blobs)

    ingestion = await reload(database, ingestion_id)
    assert ingestion.state is IngestionState.QUARANTINED
    assert ingestion.reason is not None and "missing from the blob store" in ingestion.reason


@pytest.mark.usefixtures("site")
async def test_only_a_quarantined_message_can_be_reprocessed(
    database: Database, blobs: FileBlobStore
) -> None:
    stored = await deliver(database, blobs, message())
    assert stored.id is not None

    async with database.uow() as uow:
        with pytest.raises(DomainError) as not_quarantined:
            await reprocess(uow, stored.id)
        with pytest.raises(DomainError) as unknown:
            await reprocess(uow, 424242)
    assert not_quarantined.value.params["state"] == "stored"
    assert unknown.value.family.value == "not_found"


async def test_the_app_runs_received_mail_through_its_ingest_handler(
    database: Database, site: BasicSite, tmp_path: Path
) -> None:
    runtime = build_runtime(Settings(data_dir=tmp_path / "var", database_url=database.url))
    try:
        handler = job_handlers(runtime)[INGEST_JOB]
        ingestion_id = await receive(database, runtime.blobs, message())
        worker = OutboxWorker(database.uow, {INGEST_JOB: handler}, worker_id="app")
        await worker.run_once()
    finally:
        await runtime.database.dispose()

    ingestion = await reload(database, ingestion_id)
    assert ingestion.state is IngestionState.STORED, ingestion.reason
    assert (await activity_of(database, ingestion)).department_id == site.service.id
