"""Queueing an outbound email and reading it back for composition, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.domain.activities import (
    Activity,
    ActivityType,
    Mode,
    Substatus,
    TaskPayload,
)
from emaildesk.domain.errors import OPERATION_NOT_ALLOWED_IN_STATE, DomainError
from emaildesk.domain.outbox import JobState
from emaildesk.mail.tokens import read_message_id
from emaildesk.services.outbound_email import (
    SEND_JOB,
    OutboundNotComposableError,
    build_outbound,
    queue_outbound,
)
from integration.services.outbound_support import (
    CONFIG,
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
from support.seed import BasicSite


@pytest.fixture
async def site(database: Database) -> BasicSite:
    return await seed_site(database)


async def test_queue_fixes_a_signed_message_id_naming_case_and_activity(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    await queue(database, activity_id)
    activity = await load_activity(database, activity_id)
    assert activity.email is not None and activity.email.message_id is not None
    assert activity.email.message_id.endswith("@desk.example.com")
    assert read_message_id(activity.email.message_id, secret=CONFIG.secret) == (
        activity.case_id,
        activity_id,
    )


async def test_queue_adds_the_case_token_to_the_subject(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site, OutboundSpec(subject="Re: Your order"))
    await queue(database, activity_id)
    activity = await load_activity(database, activity_id)
    assert activity.subject == f"Re: [#{activity.case_id}] Your order"


async def test_queue_keeps_a_long_subject_within_255_with_the_token(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site, OutboundSpec(subject="x" * 255))
    await queue(database, activity_id)
    activity = await load_activity(database, activity_id)
    assert len(activity.subject) == 255
    assert activity.subject.startswith(f"[#{activity.case_id}] xxx")


async def test_queue_moves_to_sending_and_stages_the_send_job_and_event_together(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    job_id = await queue(database, activity_id)
    activity = await load_activity(database, activity_id)
    assert activity.substatus is Substatus.SENDING
    async with database.uow() as uow:
        job = await uow.outbox.get(job_id)
        events = await uow.events.since(0)
    assert job is not None
    assert (job.kind, job.payload, job.state) == (
        SEND_JOB,
        {"activity_id": activity_id},
        JobState.PENDING,
    )
    [event] = [e for e in events if e.aggregate_id == activity_id]
    assert (event.kind, event.payload["substatus"]) == ("ActivityUpdated", "sending")


async def test_queue_writes_nothing_until_the_caller_commits(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        await queue_outbound(uow, activity, CONFIG)
        # no commit: leaving the block rolls everything back
    activity = await load_activity(database, activity_id)
    assert activity.substatus is Substatus.READY_FOR_OUTBOUND_WORKFLOW
    assert activity.email is not None and activity.email.message_id is None
    async with database.uow() as uow:
        assert await uow.outbox.in_state(JobState.PENDING) == []


async def test_queue_fixes_the_date_when_queued(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    before = datetime.now(UTC)
    await queue(database, activity_id)
    activity = await load_activity(database, activity_id)
    assert activity.email is not None and activity.email.sent_date is not None
    assert before <= activity.email.sent_date <= datetime.now(UTC)


async def test_queue_threads_to_the_latest_inbound_email_of_the_case(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    await queue(database, activity_id)
    activity = await load_activity(database, activity_id)
    assert activity.email is not None
    assert activity.email.in_reply_to == CUSTOMER_MESSAGE_ID
    # RFC 5322 §3.6.4: the parent's References followed by the parent's Message-ID
    assert activity.email.references == [ROOT_MESSAGE_ID, CUSTOMER_MESSAGE_ID]


async def test_queue_without_an_inbound_email_sets_no_threading_headers(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site, OutboundSpec(answer_inbound=False))
    await queue(database, activity_id)
    activity = await load_activity(database, activity_id)
    assert activity.email is not None
    assert (activity.email.in_reply_to, activity.email.references) == (None, [])


async def test_requeue_after_a_failed_send_keeps_the_same_message(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    await queue(database, activity_id)
    first = await load_activity(database, activity_id)
    assert first.email is not None
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        activity.move_to(Substatus.SEND_FAILED)
        await uow.commit()
    second_job = await queue(database, activity_id)
    again = await load_activity(database, activity_id)
    assert again.email is not None
    assert again.substatus is Substatus.SENDING
    assert (again.email.message_id, again.subject, again.email.sent_date) == (
        first.email.message_id,
        first.subject,
        first.email.sent_date,
    )
    async with database.uow() as uow:
        assert [j.id for j in await uow.outbox.in_state(JobState.PENDING)][-1] == second_job


@pytest.mark.parametrize(
    "substatus", [Substatus.ASSIGNED, Substatus.SENDING, Substatus.SENT, Substatus.COMPLETED]
)
async def test_queue_refuses_an_activity_not_ready_to_send(
    database: Database, blobs: FileBlobStore, site: BasicSite, substatus: Substatus
) -> None:
    activity_id = await add_outbound(database, blobs, site, OutboundSpec(substatus=substatus))
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        with pytest.raises(DomainError) as caught:
            await queue_outbound(uow, activity, CONFIG)
    assert caught.value.spec is OPERATION_NOT_ALLOWED_IN_STATE
    assert caught.value.params == {"operation": "send", "state": substatus.value}


async def test_queue_refuses_an_inbound_email(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        activity.mode = Mode.INBOUND
        with pytest.raises(DomainError) as caught:
            await queue_outbound(uow, activity, CONFIG)
    assert caught.value.params == {"operation": "send", "state": "inbound"}


async def test_queue_refuses_a_task(database: Database, site: BasicSite) -> None:
    assert site.service.id is not None
    task = Activity(
        type=ActivityType.TASK,
        subtype="general",
        mode=Mode.OUTBOUND,
        department_id=site.service.id,
        substatus=Substatus.READY_FOR_OUTBOUND_WORKFLOW,
        task=TaskPayload(text="call back"),
    )
    async with database.uow() as uow:
        with pytest.raises(DomainError) as caught:
            await queue_outbound(uow, task, CONFIG)
    assert caught.value.params == {"operation": "send", "state": "task"}


async def test_build_uses_the_receiver_alias_with_its_display_name_as_from(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    await queue(database, activity_id)
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        outbound = await build_outbound(uow, blobs, activity)
    assert (outbound.from_address, outbound.from_name) == ("support@example.com", "Support")


async def test_build_carries_recipients_content_threading_and_the_fixed_identity(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    await queue(database, activity_id)
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None and activity.email is not None
        outbound = await build_outbound(uow, blobs, activity)
    assert (outbound.to, outbound.cc, outbound.bcc) == (
        ["jane@customer.example"],
        ["boss@customer.example"],
        ["audit@desk.example.com"],
    )
    assert outbound.subject == activity.subject
    assert (outbound.text, outbound.html) == (activity.email.text, activity.email.html)
    assert outbound.message_id == activity.email.message_id
    assert outbound.date == activity.email.sent_date
    assert outbound.in_reply_to == CUSTOMER_MESSAGE_ID
    assert outbound.references == [ROOT_MESSAGE_ID, CUSTOMER_MESSAGE_ID]


async def test_build_reads_attachments_byte_exact_from_the_blob_store(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    await queue(database, activity_id)
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        outbound = await build_outbound(uow, blobs, activity)
    described = [
        (a.file_name, a.content_type, a.data, a.inline, a.content_id) for a in outbound.attachments
    ]
    assert described == [
        ("logo.png", "image/png", PNG, True, "logo@desk"),
        ("invoice.pdf", "application/pdf", PDF, False, None),
    ]


async def test_build_without_alias_falls_back_to_the_configured_default_from(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site, OutboundSpec(with_alias=False))
    await queue(database, activity_id)
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        outbound = await build_outbound(uow, blobs, activity, default_from="desk@example.com")
    assert (outbound.from_address, outbound.from_name) == ("desk@example.com", "Agent Smith")


async def test_build_without_any_from_address_is_not_composable(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site, OutboundSpec(with_alias=False))
    await queue(database, activity_id)
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        with pytest.raises(OutboundNotComposableError, match="no From"):
            await build_outbound(uow, blobs, activity)


async def test_build_before_queueing_is_not_composable(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    activity_id = await add_outbound(database, blobs, site)
    async with database.uow() as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        with pytest.raises(OutboundNotComposableError, match="no Message-ID"):
            await build_outbound(uow, blobs, activity)
