"""Files over HTTP: reading the one file of an upload, and the headers a download carries.

Upload (`POST /core/casemgr/v3/activity/attachment`, api-notes §1.5 [I]): `multipart/form-data`
(RFC 7578) with exactly one file part, named `attachment` or `file`; its filename (RFC 7578
§4.2: any directory part is dropped, never trusted) and its Content-Type (RFC 7578 §4.4:
`application/octet-stream` when the part names none) describe the file. Another part, or a
second file, is refused by name. The body is refused past the server's request limit on its
declared Content-Length before reading and while streaming (413-100); the partition's email
size limit is the use case's check, on the file's real size.

Download: `Content-Disposition: attachment` with an ASCII `filename` and the exact name as
RFC 8187 `filename*` (RFC 6266 §4.3, which obsoletes RFC 5987's use here), a media type only
when it is syntactically one (stored types may come from any mail client; anything else is
served as `application/octet-stream`), and `X-Content-Type-Options: nosniff`, so a stored HTML
or SVG file is downloaded, never rendered in our origin.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Message

from emaildesk.api.codecs.body import DEFAULT_OCTET_STREAM, MediaKind
from emaildesk.domain import errors

FILE_FIELDS: Final = ("attachment", "file")
FILE_NAME: Final = "fileName"  # as `upload_attachment` names it (eGain v12: fileName ≤ 255)
MAX_FILES: Final = 1
# Text fields are not expected at all; a few are parsed so that a stray one is refused by name.
MAX_FIELDS: Final = 8
# RFC 6838 §4.2: type "/" subtype, restricted names of at most 127 characters; then optional
# parameters of token characters or quoted strings (RFC 9110 §8.3.1), no control characters.
_RESTRICTED_NAME: Final = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_TCHARS: Final = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE: Final = re.compile(
    rf"{_RESTRICTED_NAME}/{_RESTRICTED_NAME}"
    rf"""(?:[ \t]*;[ \t]*{_TCHARS}=(?:{_TCHARS}|"[^"\x00-\x1f\x7f]*"))*"""
)
# RFC 8187 §3.2.1 attr-char, left unescaped in `filename*`.
_ATTR_CHARS: Final = "!#$&+-.^_`|~"
_UNSAFE_IN_QUOTED: Final = re.compile(r'[^\x20-\x7e]|["\\%]')


@dataclass(frozen=True)
class UploadedFile:
    file_name: str
    content_type: str
    data: bytes


def is_media_type(value: str) -> bool:
    return _MEDIA_TYPE.fullmatch(value.strip()) is not None


def served_media_type(value: str) -> str:
    """The stored content type when it is a well-formed media type, else octet-stream."""
    return value.strip() if is_media_type(value) else DEFAULT_OCTET_STREAM


def content_disposition(file_name: str) -> str:
    """RFC 6266 `attachment` with an ASCII fallback and the exact name in RFC 8187 form."""
    fallback = _UNSAFE_IN_QUOTED.sub("_", file_name) or "attachment"
    exact = quote(file_name, safe=_ATTR_CHARS)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"


def _base_name(file_name: str) -> str:
    """The name without any directory part (browsers on Windows send `C:\\dir\\name`)."""
    return PurePosixPath(file_name.replace("\\", "/")).name


def _limited(request: Request, stream: AsyncIterator[bytes], max_bytes: int) -> Request:
    """`request` seen through a receive channel that stops at `max_bytes` (413-100)."""
    received = 0

    async def receive() -> Message:
        nonlocal received
        try:
            chunk = await anext(stream)
        except StopAsyncIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        received += len(chunk)
        if received > max_bytes:
            raise errors.PAYLOAD_TOO_LARGE(limit=max_bytes)
        return {"type": "http.request", "body": chunk, "more_body": True}

    return Request(request.scope, receive)


async def read_upload(request: Request, max_bytes: int) -> UploadedFile:
    """The one file of a multipart upload, refused per the module docstring."""
    header = request.headers.get("content-type", "")
    if header.partition(";")[0].strip().lower() != MediaKind.MULTIPART.value:
        raise errors.UNSUPPORTED_CONTENT_TYPE(value=header, values=MediaKind.MULTIPART.value)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise errors.PAYLOAD_TOO_LARGE(limit=max_bytes)
    files: list[UploadedFile] = []
    try:
        async with (
            aclosing(request.stream()) as stream,
            _limited(request, stream, max_bytes).form(
                max_files=MAX_FILES, max_fields=MAX_FIELDS, max_part_size=max_bytes
            ) as form,
        ):
            for name, value in form.multi_items():
                if name not in FILE_FIELDS:
                    raise errors.INVALID_ATTRIBUTE(attribute=name)
                if not isinstance(value, UploadFile):
                    # RFC 7578 §4.2: a part is a file by its `filename`; without one (or with
                    # an empty one) the file has no name, which upload requires.
                    raise errors.REQUIRED_ATTRIBUTE(attribute=FILE_NAME)
                files.append(
                    UploadedFile(
                        _base_name(value.filename or ""),
                        (value.content_type or DEFAULT_OCTET_STREAM).strip(),
                        await value.read(),
                    )
                )
    except (MultiPartException, HTTPException) as exc:
        detail = exc.message if isinstance(exc, MultiPartException) else str(exc.detail)
        if detail.startswith("Too many files"):
            raise errors.LIMIT_EXCEEDED(limit=FILE_FIELDS[0], value=MAX_FILES) from exc
        raise errors.MALFORMED_BODY(format=MediaKind.MULTIPART.value) from exc
    if not files:
        raise errors.REQUIRED_ATTRIBUTE(attribute=FILE_FIELDS[0])
    upload = files[0]
    if not is_media_type(upload.content_type):
        raise errors.INVALID_ATTRIBUTE(attribute="contentType")
    return upload
