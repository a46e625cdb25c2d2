"""Content-Type and Content-Disposition values with their parameters (RFC 2045 §5.1,
RFC 2183 §2), including RFC 2231 extended and continued parameters.

`filename*=UTF-8''%E2%82%AC%20rates.pdf` and `filename*0*=...; filename*1*=...` are assembled
and decoded here; an extended form wins over a plain one of the same name (RFC 6266 §4.3 gives
that rule for HTTP, and mail clients follow it). Plain `name`/`filename` values may hold RFC 2047
encoded words: not allowed by RFC 2047 §5, written by Outlook and Gmail all the same, so decoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from emaildesk.mail.charsets import decode_declared
from emaildesk.mail.defects import DefectLog
from emaildesk.mail.header_text import decode_words, raw_text

# A parameter is text up to a ";" outside a quoted string; an unterminated quote runs to the end.
_SEGMENT = re.compile(r'(?:"(?:\\.|[^"\\])*(?:"|\Z)|[^;"])*')
_EXTENDED_NAME = re.compile(r"(?P<base>[^*]+)(?:\*(?P<section>\d{1,4}))?(?P<star>\*)?\Z")
_CHARSET_PREFIX = re.compile(r"(?P<charset>[^']*)'(?P<language>[^']*)'(?P<rest>.*)\Z", re.S)
_WORD_PARAMS = frozenset({"name", "filename"})


@dataclass(frozen=True)
class ParameterizedValue:
    value: str  # "multipart/mixed", "attachment": lower-cased, "" when the header is absent
    params: dict[str, str] = field(default_factory=dict)  # lower-cased names, decoded values


@dataclass
class _Sections:
    plain: str | None = None
    parts: dict[int, tuple[str, bool]] = field(default_factory=dict)  # section → (text, encoded)


def parse_parameterized(raw: str | None, defects: DefectLog, where: str) -> ParameterizedValue:
    if raw is None:
        return ParameterizedValue("")
    segments = _segments(raw_text(raw, defects, where))
    value = segments[0].strip().lower()
    grouped: dict[str, _Sections] = {}
    for segment in segments[1:]:
        name, equals, text = segment.partition("=")
        name = name.strip().lower()
        if not equals or not name:
            continue
        _collect(grouped, name, text.strip())
    params = {base: _assemble(base, sections, defects, where) for base, sections in grouped.items()}
    return ParameterizedValue(value, params)


def _segments(text: str) -> list[str]:
    found: list[str] = []
    position = 0
    while position <= len(text):
        segment = _SEGMENT.match(text, position)
        assert segment is not None  # the pattern matches the empty string
        found.append(segment.group())
        position = segment.end() + 1  # past the ";"
    return found


def _collect(grouped: dict[str, _Sections], name: str, text: str) -> None:
    extended = _EXTENDED_NAME.match(name)
    if extended is None or (extended.group("section") is None and not extended.group("star")):
        grouped.setdefault(name, _Sections()).plain = _unquote(text)
        return
    section = int(extended.group("section") or 0)
    sections = grouped.setdefault(extended.group("base"), _Sections())
    sections.parts.setdefault(section, (_unquote(text), bool(extended.group("star"))))


def _assemble(base: str, sections: _Sections, defects: DefectLog, where: str) -> str:
    if not sections.parts:
        plain = sections.plain or ""
        return decode_words(plain, defects, where) if base in _WORD_PARAMS else plain
    charset: str | None = None
    data = bytearray()
    for index in sorted(sections.parts):
        text, encoded = sections.parts[index]
        if index == min(sections.parts) and encoded:
            prefix = _CHARSET_PREFIX.match(text)
            if prefix is not None:  # RFC 2231 §4: charset'language'value, first section only
                charset = prefix.group("charset") or None
                text = prefix.group("rest")
        data += unquote_to_bytes(text) if encoded else text.encode("utf-8", "replace")
    return decode_declared(bytes(data), charset, defects, f"{where} parameter {base}")


def _unquote(text: str) -> str:
    """A quoted-string's content, unescaping only \\\\ and \\" as `email.utils.unquote` does
    (Windows paths written with single backslashes survive)."""
    if len(text) >= 1 and text[0] == '"':
        inner = text[1:-1] if len(text) >= 2 and text.endswith('"') else text[1:]
        return inner.replace("\\\\", "\\").replace('\\"', '"')
    return text
