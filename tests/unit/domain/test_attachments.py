"""Attachment metadata rules (eGain v12 attachment element, api-notes §1.5): `contentType`
required and ≤ 255, `fileName` ≤ 255, `contentId` required when the attachment is inline."""

from __future__ import annotations

import pytest

from emaildesk.domain import errors
from emaildesk.domain.attachments import (
    MAX_CONTENT_TYPE_LENGTH,
    MAX_FILE_NAME_LENGTH,
    Attachment,
)
from emaildesk.domain.errors import DomainError

SHA = "0" * 64


def attachment(**overrides: object) -> Attachment:
    fields: dict[str, object] = {
        "file_name": "report.pdf",
        "content_type": "application/pdf",
        "size": 10,
        "sha256": SHA,
    }
    fields.update(overrides)
    return Attachment(**fields)  # type: ignore[arg-type]


def test_attachment_inline_requires_content_id() -> None:
    with pytest.raises(DomainError) as caught:
        attachment(inline=True)
    assert caught.value.spec is errors.REQUIRED_ATTRIBUTE
    assert caught.value.params == {"attribute": "contentId"}


def test_attachment_inline_with_empty_content_id_is_refused() -> None:
    with pytest.raises(DomainError):
        attachment(inline=True, content_id="")


def test_attachment_inline_with_content_id_is_accepted() -> None:
    item = attachment(inline=True, content_id="logo@example.com")
    assert item.inline
    assert item.content_id == "logo@example.com"


def test_attachment_not_inline_needs_no_content_id() -> None:
    assert attachment().content_id is None


def test_attachment_file_name_at_most_255_characters() -> None:
    assert MAX_FILE_NAME_LENGTH == 255
    assert attachment(file_name="f" * 251 + ".pdf").file_name.endswith(".pdf")
    with pytest.raises(DomainError) as caught:
        attachment(file_name="f" * 252 + ".pdf")
    assert caught.value.spec is errors.TOO_LONG
    assert caught.value.params == {"attribute": "fileName", "limit": "255"}


def test_attachment_content_type_required_and_at_most_255_characters() -> None:
    assert MAX_CONTENT_TYPE_LENGTH == 255
    attachment(content_type="x/" + "y" * 253)
    for bad in ("", "x/" + "y" * 254):
        with pytest.raises(DomainError) as caught:
            attachment(content_type=bad)
        assert caught.value.params["attribute"] == "contentType"
