"""Attachments uploaded ahead of use: the eGain v3 `altId` references.

The v3 create APIs (email response, task activity; specs/egain-v3-*.txt "Attachments Element")
do not carry file bytes: they name files uploaded before by an alternate id (api-notes §1.5: the
pre-upload answers `{"altId": "<uuid>", ...}`). An upload is a row with no activity, owned by the
actor who uploaded it, until one activity claims it. Ownership is checked on claim so that one
actor can never attach (or learn of) another actor's files: every failure reads the same,
"does not exist or was already used".

The same checks as for attachments sent inline with a request apply at upload time (file name
and content type ≤ 255, blocked file types, the partition's maximum email size), so a refused
file is never stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from emaildesk.domain import errors
from emaildesk.domain.actors import Actor
from emaildesk.domain.attachments import (
    MAX_CONTENT_TYPE_LENGTH,
    MAX_FILE_NAME_LENGTH,
    Attachment,
)
from emaildesk.services.ports import BlobStore, UnitOfWork

ALT_ID_ATTRIBUTE = "attachments.attachment.altId"
CONTENT_ID_ATTRIBUTE = "attachments.attachment.contentId"


@dataclass(frozen=True)
class AttachmentRef:
    """One `attachments.attachment` element of a v3 request."""

    alt_id: str
    inline: bool = False
    content_id: str | None = None


def _check_text(value: str | None, attribute: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise errors.REQUIRED_ATTRIBUTE(attribute=attribute)
    if len(value) > limit:
        raise errors.TOO_LONG(attribute=attribute, limit=limit)
    return value


async def upload_attachment(
    uow: UnitOfWork,
    blobs: BlobStore,
    actor: Actor,
    file_name: str | None,
    content_type: str | None,
    data: bytes,
) -> Attachment:
    """Check, store the bytes (fsynced) and stage an unattached row with a fresh `alt_id`.

    The size limit is the whole-email limit: one file can never be larger than the email that
    will carry it. The caller commits, and only then answers with the alt id."""
    name = _check_text(file_name, "fileName", MAX_FILE_NAME_LENGTH)  # eGain: fileName ≤ 255
    media_type = _check_text(content_type, "contentType", MAX_CONTENT_TYPE_LENGTH)  # ≤ 255
    settings = await uow.directory.settings()
    settings.require_file_allowed(name)
    settings.require_email_size(len(data), 0)
    sha = await blobs.put(data)
    attachment = Attachment(
        file_name=name,
        content_type=media_type,
        size=len(data),
        sha256=sha,
        alt_id=str(uuid.uuid4()),  # unguessable: the id is the only handle a client holds
        activity_id=None,
        owner_type=actor.type.value,
        owner_id=actor.id,
    )
    return await uow.attachments.add(attachment)


def _owned_by(attachment: Attachment, actor: Actor) -> bool:
    return attachment.owner_type == actor.type.value and attachment.owner_id == actor.id


async def claim_uploads(
    uow: UnitOfWork, actor: Actor, refs: list[AttachmentRef]
) -> list[Attachment]:
    """The uploads these refs name, with their inline flag and content id set, for the caller
    to append to the new activity (`activity.attachments.extend(...)`).

    Each must exist, belong to the acting actor (the uploader: a customer acting for a granted
    customer still owns what they uploaded) and not yet belong to an activity. Every ref is
    checked before any row changes, so a refusal leaves the session as it found it."""
    found: list[Attachment] = []
    seen: set[str] = set()
    for ref in refs:
        alt_id = ref.alt_id.strip()
        if not alt_id:
            raise errors.REQUIRED_ATTRIBUTE(attribute=ALT_ID_ATTRIBUTE)
        if ref.inline and not (ref.content_id or "").strip():
            raise errors.REQUIRED_ATTRIBUTE(attribute=CONTENT_ID_ATTRIBUTE)
        attachment = None if alt_id in seen else await uow.attachments.by_alt_id(alt_id)
        if attachment is None or attachment.activity_id is not None:
            raise errors.ATTACHMENT_NOT_FOUND(alt_id=alt_id)
        if not _owned_by(attachment, actor):
            raise errors.ATTACHMENT_NOT_FOUND(alt_id=alt_id)  # same answer: reveal nothing
        seen.add(alt_id)
        found.append(attachment)
    for ref, attachment in zip(refs, found, strict=True):
        attachment.inline = ref.inline
        attachment.content_id = (ref.content_id or "").strip() or None
    return found


async def require_blobs_present(blobs: BlobStore, attachments: list[Attachment]) -> None:
    """Refuse to attach an upload whose bytes are gone (a blob store restored without them):
    a committed activity must never name missing bytes (DESIGN.md "Data")."""
    for attachment in attachments:
        if not await blobs.exists(attachment.sha256):
            raise errors.ATTACHMENT_NOT_FOUND(alt_id=attachment.alt_id or "")


def attachments_size(attachments: list[Attachment]) -> int:
    """Bytes of these attachments, as counted against the maximum email size."""
    return sum(a.size for a in attachments)
