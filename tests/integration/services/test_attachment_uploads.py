"""Uploads referenced by `altId` (eGain v3 attachments element), on both databases."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from emaildesk.db import tables as t
from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.domain.activities import Activity, ActivityType, Mode
from emaildesk.domain.actors import Actor, ActorType
from emaildesk.domain.attachments import Attachment
from emaildesk.domain.errors import DomainError
from emaildesk.services.attachment_uploads import (
    AttachmentRef,
    claim_uploads,
    require_blobs_present,
    upload_attachment,
)
from support.seed import BasicSite, seed_basic_site

CUSTOMER = Actor(ActorType.CUSTOMER, 7)
OTHER_CUSTOMER = Actor(ActorType.CUSTOMER, 8)
USER_WITH_SAME_ID = Actor(ActorType.USER, 7)


@pytest.fixture
async def site(database: Database) -> BasicSite:
    async with database.uow() as uow:
        seeded = await seed_basic_site(uow)
        await uow.commit()
    return seeded


async def upload(
    database: Database,
    blobs: FileBlobStore,
    actor: Actor = CUSTOMER,
    file_name: str | None = "report.pdf",
    content_type: str | None = "application/pdf",
    data: bytes = b"%PDF-1.7 test",
) -> Attachment:
    async with database.uow() as uow:
        attachment = await upload_attachment(uow, blobs, actor, file_name, content_type, data)
        await uow.commit()
        return attachment


async def claim(database: Database, actor: Actor, refs: list[AttachmentRef]) -> list[Attachment]:
    async with database.uow() as uow:
        return await claim_uploads(uow, actor, refs)


async def attachment_rows(database: Database) -> int:
    async with database.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(t.attachments)) or 0)


def blob_files(blobs: FileBlobStore) -> list[str]:
    if not blobs.root.exists():
        return []
    return sorted(p.name for p in blobs.root.rglob("*") if p.is_file())


async def attach_to_new_activity(
    database: Database, site: BasicSite, actor: Actor, alt_id: str
) -> int:
    """Claim an upload for an activity and commit, as a create use case does."""
    assert site.service.id is not None
    async with database.uow() as uow:
        claimed = await claim_uploads(uow, actor, [AttachmentRef(alt_id)])
        activity = Activity(
            ActivityType.EMAIL, "general", Mode.INBOUND, site.service.id, attachments=claimed
        )
        await uow.activities.add(activity)
        await uow.commit()
        assert activity.id is not None
        return activity.id


@pytest.mark.usefixtures("site")
async def test_upload_stores_bytes_and_an_unattached_row_owned_by_the_uploader(
    database: Database, blobs: FileBlobStore
) -> None:
    data = bytes(range(256)) * 40
    stored = await upload(database, blobs, data=data)
    assert stored.alt_id is not None
    assert uuid.UUID(stored.alt_id).version == 4
    async with database.uow() as uow:
        row = await uow.attachments.by_alt_id(stored.alt_id)
    assert row is not None
    assert (row.file_name, row.content_type, row.size) == ("report.pdf", "application/pdf", 10240)
    assert (row.activity_id, row.owner_type, row.owner_id) == (None, "customer", 7)
    assert await blobs.get(row.sha256) == data


@pytest.mark.usefixtures("site")
async def test_each_upload_gets_a_fresh_alt_id(database: Database, blobs: FileBlobStore) -> None:
    first = await upload(database, blobs)
    second = await upload(database, blobs)
    assert first.alt_id != second.alt_id
    assert first.sha256 == second.sha256  # the bytes are stored once
    assert await attachment_rows(database) == 2
    assert len(blob_files(blobs)) == 1


@pytest.mark.usefixtures("site")
@pytest.mark.parametrize(
    ("file_name", "content_type", "code"),
    [
        (None, "text/plain", "400-2001"),
        ("   ", "text/plain", "400-2001"),
        ("x" * 252 + ".txt", "text/plain", "400-2003"),
        ("notes.txt", None, "400-2001"),
        ("notes.txt", "", "400-2001"),
        ("notes.txt", "text/" + "x" * 251, "400-2003"),
    ],
)
async def test_file_name_and_content_type_are_required_and_at_most_255(
    database: Database,
    blobs: FileBlobStore,
    file_name: str | None,
    content_type: str | None,
    code: str,
) -> None:
    with pytest.raises(DomainError) as caught:
        await upload(database, blobs, file_name=file_name, content_type=content_type)
    assert caught.value.code == code
    assert await attachment_rows(database) == 0
    assert blob_files(blobs) == []


@pytest.mark.usefixtures("site")
async def test_file_name_of_exactly_255_is_accepted(
    database: Database, blobs: FileBlobStore
) -> None:
    stored = await upload(database, blobs, file_name="x" * 251 + ".txt")
    assert len(stored.file_name) == 255


@pytest.mark.usefixtures("site")
@pytest.mark.parametrize("file_name", ["setup.exe", "SETUP.EXE", "run.bat.", "script.js"])
async def test_blocked_file_type_is_refused_before_storing(
    database: Database, blobs: FileBlobStore, file_name: str
) -> None:
    with pytest.raises(DomainError) as caught:
        await upload(database, blobs, file_name=file_name, data=b"MZ")
    assert caught.value.code == "400-2022"
    assert await attachment_rows(database) == 0
    assert blob_files(blobs) == []


@pytest.mark.usefixtures("site")
async def test_upload_larger_than_max_email_size_is_refused(
    database: Database, blobs: FileBlobStore
) -> None:
    async with database.uow() as uow:
        settings = await uow.directory.settings()
        settings.max_email_size_mb = 1
        await uow.commit()
    limit = 1024 * 1024
    await upload(database, blobs, data=b"a" * limit)
    with pytest.raises(DomainError) as caught:
        await upload(database, blobs, data=b"b" * (limit + 1))
    assert caught.value.code == "400-2020"
    assert caught.value.params == {"limit": "1"}
    assert await attachment_rows(database) == 1
    assert len(blob_files(blobs)) == 1


@pytest.mark.usefixtures("site")
async def test_claim_sets_inline_and_content_id(database: Database, blobs: FileBlobStore) -> None:
    image = await upload(database, blobs, file_name="logo.png", content_type="image/png")
    document = await upload(database, blobs)
    assert image.alt_id is not None and document.alt_id is not None
    claimed = await claim(
        database,
        CUSTOMER,
        [
            AttachmentRef(image.alt_id, inline=True, content_id="logo@x"),
            AttachmentRef(document.alt_id),
        ],
    )
    assert [(a.alt_id, a.inline, a.content_id) for a in claimed] == [
        (image.alt_id, True, "logo@x"),
        (document.alt_id, False, None),
    ]


@pytest.mark.usefixtures("site")
async def test_claim_of_unknown_alt_id_is_refused(database: Database) -> None:
    with pytest.raises(DomainError) as caught:
        await claim(database, CUSTOMER, [AttachmentRef(str(uuid.uuid4()))])
    assert caught.value.code == "400-2033"


@pytest.mark.usefixtures("site")
@pytest.mark.parametrize("claimer", [OTHER_CUSTOMER, USER_WITH_SAME_ID])
async def test_claim_of_another_actors_upload_is_refused(
    database: Database, blobs: FileBlobStore, claimer: Actor
) -> None:
    stored = await upload(database, blobs)
    assert stored.alt_id is not None
    with pytest.raises(DomainError) as caught:
        await claim(database, claimer, [AttachmentRef(stored.alt_id)])
    assert caught.value.code == "400-2033"
    assert caught.value.params == {"alt_id": stored.alt_id}


async def test_claim_of_an_upload_already_attached_is_refused(
    database: Database, blobs: FileBlobStore, site: BasicSite
) -> None:
    stored = await upload(database, blobs)
    assert stored.alt_id is not None
    activity_id = await attach_to_new_activity(database, site, CUSTOMER, stored.alt_id)
    async with database.uow() as uow:
        row = await uow.attachments.by_alt_id(stored.alt_id)
    assert row is not None and row.activity_id == activity_id
    with pytest.raises(DomainError) as caught:
        await claim(database, CUSTOMER, [AttachmentRef(stored.alt_id)])
    assert caught.value.code == "400-2033"


@pytest.mark.usefixtures("site")
async def test_inline_claim_requires_content_id(database: Database, blobs: FileBlobStore) -> None:
    stored = await upload(database, blobs)
    assert stored.alt_id is not None
    with pytest.raises(DomainError) as caught:
        await claim(database, CUSTOMER, [AttachmentRef(stored.alt_id, inline=True)])
    assert caught.value.code == "400-2001"
    assert caught.value.params == {"attribute": "attachments.attachment.contentId"}


@pytest.mark.usefixtures("site")
async def test_same_alt_id_twice_in_one_request_is_refused(
    database: Database, blobs: FileBlobStore
) -> None:
    stored = await upload(database, blobs)
    assert stored.alt_id is not None
    with pytest.raises(DomainError) as caught:
        await claim(database, CUSTOMER, [AttachmentRef(stored.alt_id)] * 2)
    assert caught.value.code == "400-2033"


@pytest.mark.usefixtures("site")
async def test_refused_claim_leaves_the_other_uploads_untouched(
    database: Database, blobs: FileBlobStore
) -> None:
    stored = await upload(database, blobs)
    assert stored.alt_id is not None
    async with database.uow() as uow:
        with pytest.raises(DomainError):
            await claim_uploads(
                uow,
                CUSTOMER,
                [
                    AttachmentRef(stored.alt_id, inline=True, content_id="a@b"),
                    AttachmentRef("missing"),
                ],
            )
        row = await uow.attachments.by_alt_id(stored.alt_id)
        assert row is not None
        assert (row.inline, row.content_id) == (False, None)


@pytest.mark.usefixtures("site")
async def test_upload_whose_bytes_are_gone_cannot_be_attached(
    database: Database, blobs: FileBlobStore
) -> None:
    stored = await upload(database, blobs)
    assert stored.alt_id is not None
    async with database.uow() as uow:
        claimed = await claim_uploads(uow, CUSTOMER, [AttachmentRef(stored.alt_id)])
        await require_blobs_present(blobs, claimed)  # present: no error
        blobs.path_of(stored.sha256).unlink()
        with pytest.raises(DomainError) as caught:
            await require_blobs_present(blobs, claimed)
    assert caught.value.code == "400-2033"
