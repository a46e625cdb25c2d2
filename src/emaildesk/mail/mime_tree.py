"""The MIME structure of a raw message, built by the stdlib feed parser under limits.

A hostile message must not exhaust memory or the stack, so the limits are enforced WHILE the
parser builds the tree, through the two hooks the stdlib offers: the policy's
`message_factory` (called once per MIME part; the parent's `attach` gives the nesting depth)
and `header_source_parse` (called once per header field). Crossing a limit raises
`MessageRejectedError` out of `feed()`, so parsing stops at the first part over the limit
instead of finishing a structure of a million parts.

Bytes are fed in chunks: `BytesParser.parsebytes` would first copy the whole message into a
`StringIO` of 4-byte code points, four times its size before any parsing.

The parse uses `email.policy.default`. Its header registry parses Content-Type structurally and
can fail on hostile values (deeply nested comments recurse until `RecursionError`); when the
default policy's parse fails for any reason other than a limit, the message is parsed again
with `compat32`, whose header access is plain string work, and the fallback is a defect.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy as email_policy
from email._policybase import Compat32
from email.feedparser import BytesFeedParser
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from typing import Any

from emaildesk.mail.defects import DefectLog

FEED_CHUNK_BYTES = 64 * 1024
MEGABYTE = 1024 * 1024


class MessageRejectedError(ValueError):
    """A message emaildesk refuses to process; it is quarantined with `reason` (never dropped)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParseLimits:
    max_headers: int = 1000  # header fields per part
    max_header_bytes: int = 256 * 1024  # all headers of one part
    max_parts: int = 500  # MIME parts in the whole message (the top-level entity included)
    max_depth: int = 20  # multipart / message/rfc822 nesting below the top-level entity
    max_message_bytes: int = 50 * MEGABYTE

    def __post_init__(self) -> None:
        for name in ("max_headers", "max_header_bytes", "max_parts", "max_message_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"ParseLimits.{name} must be positive")
        if self.max_depth < 0:
            raise ValueError("ParseLimits.max_depth must not be negative")


class _Guard:
    """Counts parts, depth and headers as the parser creates them."""

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.parts = 0
        self.depths: dict[int, int] = {}  # id(part) → nesting depth
        self.headers = 0
        self.header_bytes = 0

    def new_part(self) -> None:
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise MessageRejectedError(
                f"too many MIME parts: more than {self.limits.max_parts} (max_parts)"
            )
        self.headers = 0  # the parser reads a part's headers right after creating it
        self.header_bytes = 0

    def nest(self, parent: Message, child: Message) -> None:
        depth = self.depths.get(id(parent), 0) + 1
        if depth > self.limits.max_depth:
            raise MessageRejectedError(
                f"MIME nesting deeper than {self.limits.max_depth} levels (max_depth)"
            )
        self.depths[id(child)] = depth

    def header(self, lines: list[str]) -> None:
        self.headers += 1
        self.header_bytes += sum(len(line) for line in lines)
        if self.headers > self.limits.max_headers:
            raise MessageRejectedError(
                f"too many header fields in one part: more than {self.limits.max_headers}"
                " (max_headers)"
            )
        if self.header_bytes > self.limits.max_header_bytes:
            raise MessageRejectedError(
                f"header fields of one part exceed {self.limits.max_header_bytes} bytes"
                " (max_header_bytes)"
            )


class _GuardedEmailMessage(EmailMessage):
    guard: _Guard | None = None
    _type_cache: tuple[tuple[str, str | None], str] | None = None

    def get_content_type(self) -> str:
        """Memoized on the raw Content-Type value: the parser asks three or four times per
        part and the default policy parses the header structurally each time (a message of
        many parts spent most of its parse there)."""
        key = (self.get_default_type(), _raw_content_type(self))
        if self._type_cache is None or self._type_cache[0] != key:
            self._type_cache = (key, super().get_content_type())
        return self._type_cache[1]

    def attach(self, payload: Any) -> None:
        if self.guard is not None:
            self.guard.nest(self, payload)
        super().attach(payload)


def _raw_content_type(part: Message) -> str | None:
    for name, value in part.raw_items():
        if name.lower() == "content-type":
            return str(value)
    return None


class _GuardedMessage(Message):
    guard: _Guard | None = None

    def attach(self, payload: Any) -> None:
        if self.guard is not None:
            self.guard.nest(self, payload)
        super().attach(payload)


class _GuardedEmailPolicy(EmailPolicy):
    guard: _Guard | None = None

    def __init__(self, guard: _Guard, **settings: Any) -> None:
        super().__init__(**settings)
        object.__setattr__(self, "guard", guard)  # policies are read-only once built

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        if self.guard is not None:
            self.guard.header(sourcelines)
        return super().header_source_parse(sourcelines)


class _GuardedCompat32(Compat32):
    guard: _Guard | None = None

    def __init__(self, guard: _Guard, **settings: Any) -> None:
        super().__init__(**settings)
        object.__setattr__(self, "guard", guard)  # policies are read-only once built

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        if self.guard is not None:
            self.guard.header(sourcelines)
        return super().header_source_parse(sourcelines)


def parse_tree(raw: bytes, limits: ParseLimits, defects: DefectLog) -> Message:
    """The parsed structure of `raw`; raises only `MessageRejectedError`."""
    try:
        return _feed(raw, _default_policy(_Guard(limits)))
    except MessageRejectedError:
        raise
    except Exception as failure:  # a stdlib parser bug on hostile input: try compat32
        defects.add(
            f"MIME structure re-parsed with compat32 after {type(failure).__name__}"
            " under the default policy"
        )
    try:
        return _feed(raw, _compat32_policy(_Guard(limits)))
    except MessageRejectedError:
        raise
    except RecursionError as failure:
        raise MessageRejectedError("MIME structure nested too deeply to parse") from failure
    except Exception as failure:  # the never-raise contract of parse_message
        raise MessageRejectedError(
            f"unparseable MIME structure ({type(failure).__name__})"
        ) from failure


def _default_policy(guard: _Guard) -> EmailPolicy:
    def factory(policy: Any) -> Message:
        guard.new_part()
        part = _GuardedEmailMessage(policy=policy)
        part.guard = guard
        return part

    base = email_policy.default
    return _GuardedEmailPolicy(
        guard=guard, message_factory=factory, raise_on_defect=base.raise_on_defect
    )


def _compat32_policy(guard: _Guard) -> Compat32:
    def factory(policy: Any) -> Message:
        guard.new_part()
        part = _GuardedMessage(policy=policy)
        part.guard = guard
        return part

    return _GuardedCompat32(guard=guard, message_factory=factory)


def _feed(raw: bytes, policy: EmailPolicy | Compat32) -> Message:
    parser: BytesFeedParser[Any] = BytesFeedParser(policy=policy)
    view = memoryview(raw)
    for start in range(0, len(view), FEED_CHUNK_BYTES):
        parser.feed(bytes(view[start : start + FEED_CHUNK_BYTES]))
    root: Message = parser.close()
    return root
