"""Attachment metadata. The bytes live in the content-addressed blob store (sha256 name); a row
holds what is needed to list, check and serve them. An attachment uploaded ahead of use (eGain v3
`altId`) has no activity yet and belongs to the actor who uploaded it until an activity claims it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from emaildesk.domain import errors
from emaildesk.domain.clock import utcnow

MAX_FILE_NAME_LENGTH = 255  # eGain v12: fileName ≤ 255
MAX_CONTENT_TYPE_LENGTH = 255  # eGain v12: contentType ≤ 255


@dataclass(eq=False)
class Attachment:
    file_name: str
    content_type: str
    size: int
    sha256: str
    inline: bool = False
    content_id: str | None = None
    alt_id: str | None = None
    activity_id: int | None = None
    owner_type: str = ""
    owner_id: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    id: int | None = None

    def __post_init__(self) -> None:
        if len(self.file_name) > MAX_FILE_NAME_LENGTH:
            raise errors.TOO_LONG(attribute="fileName", limit=MAX_FILE_NAME_LENGTH)
        if not self.content_type or len(self.content_type) > MAX_CONTENT_TYPE_LENGTH:
            raise errors.TOO_LONG(attribute="contentType", limit=MAX_CONTENT_TYPE_LENGTH)
        if self.inline and not self.content_id:
            raise errors.REQUIRED_ATTRIBUTE(attribute="contentId")
