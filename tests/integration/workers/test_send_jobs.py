"""The `email.send` job end to end: queued outbound activities delivered by a real outbox worker
to a real SMTP relay on loopback (an aiosmtpd sink), on both databases.

The worker runs with a hand-moved clock, so backoff never means real waiting.
"""

from __future__ import annotations

import asyncio
import base64
import mailbox
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from outbox_worker_support import FakeClock, load_job

from emaildesk.app import build_runtime, create_app, job_handlers
from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.db.uow import SqlUnitOfWork
from emaildesk.domain.activities import Substatus
from emaildesk.domain.clock import utcnow
from emaildesk.domain.outbox import MAX_BACKOFF_SECONDS, JobState, OutboxJob
from emaildesk.services.outbox import enqueue
from emaildesk.services.ports import UnitOfWork
from emaildesk.settings import Settings
from emaildesk.transports.dkim import DkimConfigurationError, load_dkim_signer
from emaildesk.transports.maildir_sender import MaildirSender
from emaildesk.transports.smtp_client import RelayConfig, RelaySecurity, RelaySender
from emaildesk.workers.outbox_worker import JobHandler, OutboxWorker
from emaildesk.workers.send_jobs import (
    EMAIL_SEND_FAILED,
    EMAIL_SENT,
    SEND_JOB,
    MailSender,
    email_send_handler,
    outbound_description,
    outbound_sender,
)
from integration.services.outbound_support import (
    CUSTOMER_MESSAGE_ID,
    PDF,
    PNG,
    ROOT_MESSAGE_ID,
    OutboundSpec,
    add_outbound,
    load_activity,
    queue,
    seed_site,
)
from integration.transports.smtp_sink_support import Sink, SinkHandler, smtp_sink
from support.live_server import live_client
from support.seed import BasicSite

LEASE = timedelta(minutes=5)


@pytest.fixture
async def site(database: Database) -> BasicSite:
    return await seed_site(database)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(utcnow() + timedelta(seconds=1))


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with smtp_sink() as running:
        yield running


def relay(sink: Sink) -> RelaySender:
    return RelaySender(RelayConfig(sink.host, sink.port, RelaySecurity.NONE, timeout=5))


def worker(
    database: Database,
    handler: JobHandler,
    clock: FakeClock,
    *,
    uow_factory: object = None,
    batch: int = 10,
) -> OutboxWorker:
    return OutboxWorker(
        uow_factory or database.uow,  # type: ignore[arg-type]
        {SEND_JOB: handler},
        worker_id="sender-1",
        lease=LEASE,
        batch_size=batch,
        clock=clock,
    )


async def drain(worker: OutboxWorker, clock: FakeClock, rounds: int = 100) -> int:
    """Run until nothing is due even after waiting out the longest backoff; returns rounds."""
    for n in range(rounds):
        if await worker.run_once() == 0:
            clock.advance(timedelta(seconds=MAX_BACKOFF_SECONDS + 1))
            if await worker.run_once() == 0:
                return n
    raise AssertionError("jobs still due after many rounds")


async def events_of(database: Database, activity_id: int) -> list[tuple[str, dict[str, object]]]:
    async with database.uow() as uow:
        return [
            (e.kind, e.payload)
            for e in await uow.events.since(0, limit=10_000)
            if e.aggregate_id == activity_id and e.kind in (EMAIL_SENT, EMAIL_SEND_FAILED)
        ]


async def send_one(
    database: Database,
    blobs: FileBlobStore,
    site: BasicSite,
    sender: MailSender,
    clock: FakeClock,
    spec: OutboundSpec | None = None,
) -> tuple[int, int]:
    activity_id = await add_outbound(database, blobs, site, spec)
    job_id = await queue(database, activity_id)
    await worker(database, email_send_handler(blobs, sender), clock).run_once()
    return activity_id, job_id


# --- delivered ------------------------------------------------------------------------------


async def test_queued_email_is_delivered_with_the_right_headers_and_envelope(
    database: Database, blobs: FileBlobStore, site: BasicSite, sink: Sink, clock: FakeClock
) -> None:
    activity_id, job_id = await send_one(database, blobs, site, relay(sink), clock)
    activity = await load_activity(database, activity_id)
    assert activity.email is not None
    [delivery] = sink.deliveries
    message = delivery.message
    assert message["From"] == "Support <support@example.com>"
    assert message["To"] == "jane@customer.example"
    assert message["Cc"] == "boss@customer.example"
    assert message["Bcc"] is None
    assert delivery.mail_from == "support@example.com"
    assert delivery.rcpt_tos == [
        "jane@customer.example",
        "boss@customer.example",
        "audit@desk.example.com",
    ]
    assert message["Subject"] == f"[#{activity.case_id}] Your order"
    assert message["Message-ID"] == f"<{activity.email.message_id}>"
    assert message["In-Reply-To"] == f"<{CUSTOMER_MESSAGE_ID}>"
    assert message["References"] == f"<{ROOT_MESSAGE_ID}> <{CUSTOMER_MESSAGE_ID}>"
    assert (await load_job(database, job_id)).state is JobState.DONE


async def test_delivered_email_carries_text_html_and_attachments_byte_exact(
    database: Database, blobs: FileBlobStore, site: BasicSite, sink: Sink, clock: FakeClock
) -> None:
    await send_one(database, blobs, site, relay(sink), clock)
    message = sink.deliveries[0].message
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    # the wire has CRLF line ends (RFC 5321 §2.3.8); the agent's text is otherwise unchanged
    assert text.get_content().replace("\r\n", "\n") == "Hello Jane,\nyour order ships today.\n"
    assert 'src="cid:logo@desk"' in html.get_content()
    parts = {
        part.get_filename(): part for part in message.walk() if part.get_filename() is not None
    }
    logo, invoice = parts["logo.png"], parts["invoice.pdf"]
    assert isinstance(logo, EmailMessage) and isinstance(invoice, EmailMessage)
    assert logo.get_content() == PNG and logo["Content-ID"] == "<logo@desk>"
    assert logo.get_content_disposition() == "inline"
    assert invoice.get_content() == PDF and invoice.get_content_disposition() == "attachment"


async def test_delivered_email_is_sent_and_says_so(
    database: Database, blobs: FileBlobStore, site: BasicSite, sink: Sink, clock: FakeClock
) -> None:
    activity_id, _ = await send_one(database, blobs, site, relay(sink), clock)
    activity = await load_activity(database, activity_id)
    assert activity.substatus is Substatus.SENT
    assert activity.email is not None and activity.email.delivery_error is None
    [(kind, payload)] = await events_of(database, activity_id)
    assert kind == EMAIL_SENT
    assert (payload["delivered"], payload["refused"], payload["deferred"]) == (3, 0, 0)
    assert payload["message_id"] == activity.email.message_id


async def test_a_job_for_an_already_sent_activity_sends_nothing(
    database: Database, blobs: FileBlobStore, site: BasicSite, sink: Sink, clock: FakeClock
) -> None:
    activity_id, _ = await send_one(database, blobs, site, relay(sink), clock)
    async with database.uow() as uow:  # a duplicate job, as after a lost completion
        duplicate = await enqueue(uow, SEND_JOB, {"activity_id": activity_id})
        await uow.commit()
    await worker(database, email_send_handler(blobs, relay(sink)), clock).run_once()
    assert duplicate.id is not None
    assert (await load_job(database, duplicate.id)).state is JobState.DONE
    assert len(sink.deliveries) == 1


# --- refused --------------------------------------------------------------------------------


async def test_5xx_marks_send_failed_with_the_servers_reply_and_the_job_dead(
    database: Database, blobs: FileBlobStore, site: BasicSite, clock: FakeClock
) -> None:
    handler = SinkHandler()
    handler.data_replies.append("554 5.7.1 Relay access denied")
    async with smtp_sink(handler) as sink:
        activity_id, job_id = await send_one(database, blobs, site, relay(sink), clock)
    activity = await load_activity(database, activity_id)
    assert activity.substatus is Substatus.SEND_FAILED
    assert activity.email is not None
    assert activity.email.delivery_error == "554 5.7.1 Relay access denied"
    job = await load_job(database, job_id)
    assert (job.state, job.last_error) == (JobState.DEAD, "554 5.7.1 Relay access denied")
    [(kind, payload)] = await events_of(database, activity_id)
    assert (kind, payload["reason"]) == (EMAIL_SEND_FAILED, "554 5.7.1 Relay access denied")


async def test_some_recipients_refused_permanently_are_recorded_and_the_rest_delivered(
    database: Database, blobs: FileBlobStore, site: BasicSite, clock: FakeClock
) -> None:
    handler = SinkHandler(rcpt_replies={"boss@customer.example": "550 5.1.1 No such user"})
    async with smtp_sink(handler) as sink:
        activity_id, _ = await send_one(database, blobs, site, relay(sink), clock)
        assert await worker(database, email_send_handler(blobs, relay(sink)), clock).run_once() == 0
    [delivery] = sink.deliveries
    assert delivery.rcpt_tos == ["jane@customer.example", "audit@desk.example.com"]
    activity = await load_activity(database, activity_id)
    assert activity.substatus is Substatus.SENT
    assert activity.email is not None
    assert activity.email.delivery_error == "<boss@customer.example>: 550 5.1.1 No such user"


async def test_recipients_refused_for_now_get_a_follow_up_to_them_only(
    database: Database, blobs: FileBlobStore, site: BasicSite, clock: FakeClock
) -> None:
    handler = SinkHandler(rcpt_replies={"boss@customer.example": "452 4.2.2 Mailbox full"})
    async with smtp_sink(handler) as sink:
        activity_id, _ = await send_one(database, blobs, site, relay(sink), clock)
        activity = await load_activity(database, activity_id)
        assert activity.substatus is Substatus.SENT
        assert activity.email is not None
        assert activity.email.delivery_error == (
            "<boss@customer.example>: deferred: 452 4.2.2 Mailbox full"
        )
        handler.rcpt_replies.clear()  # the mailbox has room again
        await drain(worker(database, email_send_handler(blobs, relay(sink)), clock), clock)
    first, follow_up = sink.deliveries
    assert first.rcpt_tos == ["jane@customer.example", "audit@desk.example.com"]
    assert follow_up.rcpt_tos == ["boss@customer.example"]
    assert follow_up.message_id == first.message_id
    assert follow_up.data == first.data  # the same message, not a look-alike
    activity = await load_activity(database, activity_id)
    assert activity.email is not None and activity.email.delivery_error is None


async def test_a_deferred_recipient_refused_for_good_is_recorded_and_the_rest_kept(
    database: Database, blobs: FileBlobStore, site: BasicSite, clock: FakeClock
) -> None:
    handler = SinkHandler(rcpt_replies={"boss@customer.example": "452 4.2.2 Mailbox full"})
    async with smtp_sink(handler) as sink:
        activity_id, _ = await send_one(database, blobs, site, relay(sink), clock)
        handler.rcpt_replies["boss@customer.example"] = "550 5.1.1 Mailbox closed"
        await drain(worker(database, email_send_handler(blobs, relay(sink)), clock), clock)
    assert len(sink.deliveries) == 1
    activity = await load_activity(database, activity_id)
    assert activity.substatus is Substatus.SENT  # delivered to the others: it stays sent
    assert activity.email is not None
    assert activity.email.delivery_error == (
        "<boss@customer.example>: all recipients refused: "
        "<boss@customer.example>: 550 5.1.1 Mailbox closed"
    )
    kinds = [
        (kind, payload.get("partial")) for kind, payload in await events_of(database, activity_id)
    ]
    assert kinds == [(EMAIL_SENT, None), (EMAIL_SEND_FAILED, True)]


async def test_a_job_for_a_missing_activity_dies_with_the_reason(
    database: Database, blobs: FileBlobStore, sink: Sink, clock: FakeClock
) -> None:
    async with database.uow() as uow:
        job = await enqueue(uow, SEND_JOB, {"activity_id": 999})
        await uow.commit()
    await worker(database, email_send_handler(blobs, relay(sink)), clock).run_once()
    assert job.id is not None
    dead = await load_job(database, job.id)
    assert (dead.state, dead.last_error) == (JobState.DEAD, "activity 999 does not exist")
    assert sink.handler.transactions == 0


async def test_a_stale_job_for_an_activity_not_sending_dies_and_leaves_it_alone(
    database: Database, blobs: FileBlobStore, site: BasicSite, sink: Sink, clock: FakeClock
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    job_id = await queue(database, activity_id)
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        activity.move_to(Substatus.SEND_FAILED)  # e.g. failed by an earlier job meanwhile
        await uow.commit()
    await worker(database, email_send_handler(blobs, relay(sink)), clock).run_once()
    job = await load_job(database, job_id)
    assert (job.state, job.last_error) == (
        JobState.DEAD,
        f"activity {activity_id} is send_failed, not sending",
    )
    activity = await load_activity(database, activity_id)
    assert activity.substatus is Substatus.SEND_FAILED
    assert activity.email is not None and activity.email.delivery_error is None
    assert sink.handler.transactions == 0


async def test_transient_failure_is_recorded_and_the_activity_stays_sending(
    database: Database, blobs: FileBlobStore, site: BasicSite, clock: FakeClock
) -> None:
    handler = SinkHandler()
    handler.data_replies.append("451 4.3.0 Queue full")
    async with smtp_sink(handler) as sink:
        activity_id, job_id = await send_one(database, blobs, site, relay(sink), clock)
    activity = await load_activity(database, activity_id)
    assert activity.substatus is Substatus.SENDING
    assert activity.email is not None
    assert activity.email.delivery_error == "attempt 1 of 8: 451 4.3.0 Queue full (SMTPDataError)"
    job = await load_job(database, job_id)
    assert (job.state, job.attempts) == (JobState.PENDING, 1)
    assert job.run_after > clock.now


async def test_transient_failure_on_the_last_attempt_marks_send_failed(
    database: Database, blobs: FileBlobStore, site: BasicSite, clock: FakeClock
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    job_id = await queue(database, activity_id)
    async with database.uow() as uow:
        job = await uow.outbox.get(job_id)
        assert job is not None
        job.max_attempts = 2
        await uow.commit()
    handler = SinkHandler()
    handler.data_replies.extend(["421 4.3.2 Going down"] * 2)
    async with smtp_sink(handler) as sink:
        await drain(worker(database, email_send_handler(blobs, relay(sink)), clock), clock)
    activity = await load_activity(database, activity_id)
    assert activity.substatus is Substatus.SEND_FAILED
    assert activity.email is not None
    assert activity.email.delivery_error is not None
    assert activity.email.delivery_error.startswith("421 4.3.2 Going down")
    assert (await load_job(database, job_id)).state is JobState.DEAD


async def test_an_unsendable_address_fails_permanently_without_contacting_the_relay(
    database: Database, blobs: FileBlobStore, site: BasicSite, sink: Sink, clock: FakeClock
) -> None:
    spec = OutboundSpec(to=["jane@customer.example\r\nBcc: everyone@example.org"])
    activity_id, job_id = await send_one(database, blobs, site, relay(sink), clock, spec)
    activity = await load_activity(database, activity_id)
    assert activity.substatus is Substatus.SEND_FAILED
    assert activity.email is not None
    assert (activity.email.delivery_error or "").startswith("cannot compose: ComposeError")
    assert (await load_job(database, job_id)).state is JobState.DEAD
    assert sink.handler.transactions == 0


# --- exactly once ---------------------------------------------------------------------------


async def test_outage_every_queued_email_is_delivered_exactly_once(
    database: Database, blobs: FileBlobStore, site: BasicSite, clock: FakeClock
) -> None:
    """The relay answers 421 to the first 25 transactions, then accepts: 20 emails, each
    delivered once (counted by Message-ID at the relay), all SENT."""
    ids = [await add_outbound(database, blobs, site) for _ in range(20)]
    for activity_id in ids:
        await queue(database, activity_id)
    handler = SinkHandler()
    handler.data_replies.extend(["421 4.4.5 Server busy, try again later"] * 25)
    async with smtp_sink(handler) as sink:
        await drain(worker(database, email_send_handler(blobs, relay(sink)), clock), clock)
    assert handler.transactions == 45  # 25 refused + 20 accepted: nothing sent twice
    counts = handler.message_id_counts()
    assert len(counts) == 20 and set(counts.values()) == {1}
    expected = set()
    for activity_id in ids:
        activity = await load_activity(database, activity_id)
        assert activity.substatus is Substatus.SENT
        assert activity.email is not None and activity.email.delivery_error is None
        expected.add(f"<{activity.email.message_id}>")
    assert set(counts) == expected


class CommitFailsOnce(SqlUnitOfWork):
    """A unit of work whose commit fails once when armed: the crash between the relay's 250
    and the commit that records SENT."""

    armed = False

    async def commit(self) -> None:
        if CommitFailsOnce.armed:
            CommitFailsOnce.armed = False
            raise ConnectionError("database went away after the relay accepted")
        await super().commit()


async def test_crash_after_acceptance_resends_with_the_same_message_id(
    database: Database, blobs: FileBlobStore, site: BasicSite, sink: Sink, clock: FakeClock
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    job_id = await queue(database, activity_id)
    send = email_send_handler(blobs, relay(sink))

    async def send_then_lose_the_commit(job: OutboxJob, uow: UnitOfWork) -> None:
        await send(job, uow)
        # The relay has accepted; the worker's commit (SENT + DONE) comes next: lose the first.
        CommitFailsOnce.armed = job.attempts == 1

    def factory() -> SqlUnitOfWork:
        return CommitFailsOnce(database.sessionmaker)

    CommitFailsOnce.armed = False
    flaky = worker(database, send_then_lose_the_commit, clock, uow_factory=factory)
    await flaky.run_once()
    activity = await load_activity(database, activity_id)
    assert activity.substatus is Substatus.SENDING  # the SENT commit was lost
    assert len(sink.deliveries) == 1
    await drain(flaky, clock)
    first, second = sink.deliveries
    assert first.message_id == second.message_id == f"<{activity.email.message_id}>"  # type: ignore[union-attr]
    assert first.data == second.data
    assert (await load_activity(database, activity_id)).substatus is Substatus.SENT
    job = await load_job(database, job_id)
    assert (job.state, job.attempts) == (JobState.DONE, 2)


# --- the embedded default and the composition ----------------------------------------------


async def test_without_a_relay_mail_goes_to_the_maildir_with_the_same_content(
    database: Database, blobs: FileBlobStore, site: BasicSite, clock: FakeClock, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)
    sender = outbound_sender(settings)
    assert isinstance(sender, MaildirSender)
    activity_id, _ = await send_one(database, blobs, site, sender, clock)
    activity = await load_activity(database, activity_id)
    assert activity.substatus is Substatus.SENT and activity.email is not None
    [stored] = list(mailbox.Maildir(settings.outbound_maildir, create=False))
    assert stored["Message-ID"] == f"<{activity.email.message_id}>"
    assert stored["Subject"] == activity.subject
    assert stored["Bcc"] is None
    assert stored.get_all("Delivered-To") == [
        "jane@customer.example",
        "boss@customer.example",
        "audit@desk.example.com",
    ]
    files = {p.get_filename(): p.get_payload(decode=True) for p in stored.walk()}
    assert (files["logo.png"], files["invoice.pdf"]) == (PNG, PDF)


def test_a_relay_is_used_when_one_is_configured(tmp_path: Path) -> None:
    sender = outbound_sender(Settings(data_dir=tmp_path, relay_host="relay.example"))
    assert isinstance(sender, RelaySender)
    assert sender.config.host == "relay.example"


def test_serve_says_where_outbound_mail_goes(tmp_path: Path) -> None:
    maildir = outbound_description(Settings(data_dir=tmp_path))
    assert maildir == (
        f"outbound mail: maildir {(tmp_path / 'outbound-maildir').resolve()} (no relay configured)"
    )
    relayed = outbound_description(
        Settings(data_dir=tmp_path, relay_host="relay.example", relay_port=587)
    )
    assert relayed == "outbound mail: relay relay.example:587 (starttls)"


@pytest.fixture
def dkim_key(tmp_path: Path) -> tuple[Path, bytes]:
    """An RSA key file and its DNS TXT record (RFC 6376 §3.6.1), made with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


async def test_dkim_signed_mail_verifies_at_the_relay(
    database: Database,
    blobs: FileBlobStore,
    site: BasicSite,
    sink: Sink,
    clock: FakeClock,
    dkim_key: tuple[Path, bytes],
) -> None:
    dkim = pytest.importorskip("dkim", reason="the optional 'dkim' extra is not installed")
    key, record = dkim_key
    signer = load_dkim_signer(key, "emaildesk", "example.com")
    activity_id = await add_outbound(database, blobs, site)
    await queue(database, activity_id)
    await worker(database, email_send_handler(blobs, relay(sink), signer), clock).run_once()
    assert (await load_activity(database, activity_id)).substatus is Substatus.SENT
    [delivery] = sink.deliveries
    assert delivery.data.startswith(b"DKIM-Signature: ")
    assert dkim.verify(delivery.data, dnsfunc=lambda name, timeout=5: record)


def test_the_app_runs_email_send_jobs(tmp_path: Path) -> None:
    assert SEND_JOB in job_handlers(build_runtime(Settings(data_dir=tmp_path)))


def test_an_unusable_dkim_key_stops_the_worker_start(tmp_path: Path) -> None:
    bogus = tmp_path / "dkim.pem"
    bogus.write_text("not a key")
    runtime = build_runtime(Settings(data_dir=tmp_path, dkim_key_file=bogus))
    with pytest.raises(DkimConfigurationError):
        job_handlers(runtime)


async def test_serving_app_delivers_queued_mail_into_the_maildir(
    database: Database, database_url: str, blobs: FileBlobStore, site: BasicSite, tmp_path: Path
) -> None:
    """The embedded default end to end: no relay configured, the app's in-process worker
    delivers a queued email into the maildir in the data directory."""
    settings = Settings(data_dir=tmp_path, database_url=database_url, worker_poll_seconds=0.05)
    assert settings.blob_dir == tmp_path / "blobs"  # the app reads the blobs the test wrote
    activity_id = await add_outbound(database, blobs, site)
    await queue(database, activity_id)
    async with live_client(create_app(settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
        for _ in range(250):
            activity = await load_activity(database, activity_id)
            if activity.substatus is Substatus.SENT:
                break
            await asyncio.sleep(0.02)
    assert activity.substatus is Substatus.SENT and activity.email is not None
    [stored] = list(mailbox.Maildir(settings.outbound_maildir, create=False))
    assert stored["Message-ID"] == f"<{activity.email.message_id}>"
