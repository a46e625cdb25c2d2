"""The original bytes of one MIME entity inside a raw message, found by boundary (RFC 2046 §5.1.1).

A forwarded message (message/rfc822) is kept as an attachment with the bytes the sender wrote:
re-serializing the parsed copy would refold headers and rewrite line ends (and break the DKIM
signatures an investigator may want to check). The parser does not keep offsets, so the entity
is found again here, following the parser's own rules: a header block ends at the first empty
or non-header line; a delimiter is a line `--boundary`, optionally `--`, then blanks; the line
break before a delimiter belongs to the delimiter; delimiters directly after one another enclose
no part. The caller checks the part counts against the parsed tree and falls back to
re-serializing when they disagree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# email.feedparser.headerRE, on bytes: a header field, a continuation, or a Unix "From " line.
_HEADER_LINE = re.compile(rb"From |[\x21-\x39\x3b-\x7e]*:|[\t ]")
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)?")
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_LINE_BREAK_AT_END = re.compile(rb"(?:\r\n|\r|\n)\Z")


@dataclass(frozen=True)
class Step:
    """One level on the way down: the multipart's boundary, its number of parts as parsed, and
    which part to enter."""

    boundary: str
    count: int
    index: int


def entity_body(raw: bytes, path: Sequence[Step]) -> bytes | None:
    """The body (after its header block) of the entity reached by `path`, or None when the raw
    bytes do not split into the parts the parser saw."""
    entity = memoryview(raw)
    for step in path:
        parts = multipart_parts(entity[header_end(entity) :], step.boundary)
        if len(parts) != step.count or step.index >= len(parts):
            return None
        entity = parts[step.index]
    return bytes(entity[header_end(entity) :])


def header_end(entity: memoryview) -> int:
    """Where the body of `entity` starts."""
    position = 0
    while position < len(entity):
        line = _LINE.match(entity, position)
        assert line is not None  # the pattern matches the empty string
        if not _HEADER_LINE.match(entity, position):
            blank = _LINE_BREAK.match(entity, position) is not None  # the header/body separator
            return line.end() if blank else position
        if line.end() == position:
            break
        position = line.end()
    return len(entity)


def multipart_parts(body: memoryview, boundary: str) -> list[memoryview]:
    try:
        marker = boundary.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # not a boundary the parser could have matched in bytes
        return []
    delimiter = re.compile(
        rb"(?:(?<=\n)|(?<=\r)|\A)--" + re.escape(marker) + rb"(--)?[ \t]*(?:\r\n|\r|\n|\Z)"
    )
    parts: list[memoryview] = []
    start: int | None = None
    for found in delimiter.finditer(body):
        if start is not None and found.start() > start:
            part = body[start : found.start()]
            tail = _LINE_BREAK_AT_END.search(part)
            parts.append(part[: tail.start()] if tail else part)
        if found.group(1):
            return parts
        start = found.end()
    if start is not None:
        parts.append(body[start:])  # no close delimiter: the last part runs to the end
    return parts
