"""Header values as text: unfolding (RFC 5322 §2.2.3), raw 8-bit bytes (RFC 6532) and RFC 2047
encoded words, decoded without ever raising.

Values are read raw from the parsed message (`raw_items`), never through the `email.policy`
header registry: that parser can raise (or recurse without bound on nested comments) on hostile
input, and it hands back undecodable bytes as surrogates. Here every charset goes through
`charsets`, so a bad or unknown charset is a recorded guess, never a crash.

RFC 2047 leniency, as mail clients practise it: encoded words are recognised even when glued to
other text, adjacent encoded words in one charset are joined before decoding (encoders split
multi-byte characters across words), the whitespace between encoded words is dropped (§6.2), and
a word that cannot be decoded is kept as written.
"""

from __future__ import annotations

import binascii
import re
from email.message import Message

from emaildesk.mail.charsets import clean_text, decode_declared, decode_undeclared
from emaildesk.mail.defects import DefectLog, quoted

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# RFC 2047 §2: =?charset?encoding?encoded-text?= (RFC 2231 §5 allows "charset*language").
# The encoded text may hold spaces here: broken encoders write them, and readers accept them.
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,80})\?([QqBb])\?([^?]*?)\?=")
_BETWEEN_WORDS = re.compile(r"[ \t]*")
_BASE64_PADDING = 4
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/]*={0,2}")


def header_values(part: Message) -> dict[str, list[str]]:
    """The raw values of a part's header fields by lower-cased name, in order of appearance."""
    found: dict[str, list[str]] = {}
    for name, value in part.raw_items():
        found.setdefault(name.strip().lower(), []).append(str(value))
    return found


def first(values: dict[str, list[str]], name: str) -> str | None:
    got = values.get(name)
    return got[0] if got else None


def unfold(raw: str) -> str:
    """RFC 5322 §2.2.3: remove the line breaks of folding (the whitespace after them stays)."""
    return _LINE_BREAK.sub("", raw)


def raw_bytes(raw: str) -> bytes:
    """The bytes a raw header value was parsed from (the parser keeps 8-bit bytes as surrogate
    escapes)."""
    try:
        return raw.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # a value built from text, not parsed from bytes
        return raw.encode("utf-8", "replace")


def raw_text(raw: str, defects: DefectLog, where: str) -> str:
    """An unfolded raw value as text, 8-bit bytes decoded (RFC 6532), encoded words left as is:
    the form to parse structure (addresses, parameters) from before decoding the words."""
    return decode_undeclared(raw_bytes(unfold(raw)), defects, where)


def header_text(raw: str | None, defects: DefectLog, where: str) -> str:
    """The decoded text of an unstructured header value (Subject, a display name)."""
    if raw is None:
        return ""
    return decode_words(raw_text(raw, defects, where), defects, where)


def decode_words(text: str, defects: DefectLog, where: str) -> str:
    """`text` with its RFC 2047 encoded words decoded."""
    if "=?" not in text:
        return text
    pieces: list[str] = []
    run: list[bytes] = []  # decoded bytes of adjacent encoded words in one charset
    run_charset = ""
    previous_decoded = False
    position = 0
    for word in _ENCODED_WORD.finditer(text):
        between = text[position : word.start()]
        only_space = _BETWEEN_WORDS.fullmatch(between) is not None
        charset = word.group(1).split("*", 1)[0].lower()
        decoded = _decode_word(word.group(2), word.group(3))
        if decoded is not None and run and only_space and charset == run_charset:
            run.append(decoded)
        else:
            if run:
                pieces.append(_decode_run(run, run_charset, defects, where))
                run = []
            if not (only_space and previous_decoded and decoded is not None):
                pieces.append(between)  # §6.2: space between two encoded words is dropped
            if decoded is None:
                defects.add(f"{where}: undecodable encoded word {quoted(word.group(0))} kept")
                pieces.append(word.group(0))
            else:
                run, run_charset = [decoded], charset
        previous_decoded = decoded is not None
        position = word.end()
    if run:
        pieces.append(_decode_run(run, run_charset, defects, where))
    pieces.append(text[position:])
    return clean_text("".join(pieces), defects, where)


def _decode_word(encoding: str, encoded: str) -> bytes | None:
    data = encoded.encode("ascii", "replace")
    if encoding in "Qq":
        return binascii.a2b_qp(data, header=True)  # header=True: "_" is a space (§4.2)
    data = data.replace(b" ", b"")
    if not _BASE64_TEXT.fullmatch(data):
        return None
    missing = -len(data) % _BASE64_PADDING
    try:
        return binascii.a2b_base64(data + b"=" * missing)
    except binascii.Error:
        return None


def _decode_run(run: list[bytes], charset: str, defects: DefectLog, where: str) -> str:
    return decode_declared(b"".join(run), charset, defects, where)
