"""Bytes of a header word or a text body to `str`, whatever the message claims its charset is.

Order of trust:
1. The declared charset, read through the WHATWG Encoding Standard's label table (§4.2): labels
   are decoded with the superset every browser and mail client really uses (iso-8859-1 is
   windows-1252, gb2312 is gb18030, shift_jis is windows-31j ...), falling back to the label's
   own codec when the superset refuses the bytes.
2. When the label is unknown, or the bytes are not valid in it: utf-8, then cp1252, then
   latin-1, which decodes every byte, so decoding never fails. The guess is recorded as a defect.
3. Undeclared 8-bit text (RFC 2045 §5.2 says it is us-ascii; RFC 6532 allows raw utf-8 in
   headers; real mailers send raw utf-8 or cp1252): utf-8 first, then cp1252, then latin-1.

Labels come from hostile messages, so they are checked against Python's static alias table
before `codecs.lookup` is asked: the stdlib's `encodings` search function caches every miss,
and a stream of invented charset names would grow that cache without bound.

The returned text is always storable: NULs removed (PostgreSQL `text` cannot hold them) and
lone surrogates (from codecs such as utf-7) replaced with U+FFFD.
"""

from __future__ import annotations

import codecs
import encodings.aliases
import re
from dataclasses import dataclass
from encodings import normalize_encoding

from emaildesk.mail.defects import DefectLog, quoted

_PYTHON_ALIASES: dict[str, str] = encodings.aliases.aliases
FALLBACK_CODECS = ("utf-8", "cp1252", "latin-1")  # latin-1 last: it decodes any byte
UNDECLARED = "undeclared"  # how a defect names text that carried no charset
MAX_LABEL_LENGTH = 40  # RFC 2978 §2.3: an IANA charset name is at most 40 characters
HTML_META_PRESCAN_BYTES = 1024  # HTML Living Standard §13.2.3.2: the prescan looks this far

# WHATWG Encoding Standard §4.2: labels that browsers decode as a superset. Keys and values are
# Python codec names (`codecs.lookup(label).name`).
_SUPERSETS = {
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "big5": "big5hkscs",
}
# Labels seen in mail that Python does not know under that name (WHATWG labels, vendor forms).
_EXTRA_LABELS = {
    "iso_8859_8_i": "iso8859_8",
    "iso_8859_8_e": "iso8859_8",
    "iso_8859_6_i": "iso8859_6",
    "iso_8859_6_e": "iso8859_6",
    "windows_874": "cp874",
    "x_sjis": "cp932",
    "windows_31j": "cp932",
    "ms_kanji": "cp932",
    "x_gbk": "gb18030",
    "x_euc_jp": "euc_jp",
    "x_mac_roman": "mac_roman",
    "x_mac_cyrillic": "mac_cyrillic",
    "x_mac_greek": "mac_greek",
    "x_mac_turkish": "mac_turkish",
    "x_mac_iceland": "mac_iceland",
    "x_mac_ce": "mac_latin2",
    "utf8mb4": "utf_8",
}
# Codec modules of the stdlib that have no alias naming them (so are missing from the table).
_UNALIASED_CODECS = frozenset(
    {
        "cp1006", "cp720", "cp737", "cp856", "cp874", "cp875", "koi8_t", "koi8_u",
        "mac_arabic", "mac_croatian", "mac_farsi", "mac_romanian", "utf_8_sig",
    }
)  # fmt: skip
# Codecs that are not charsets of mail text: transforms, or decoders with surprising semantics
# (`unicode_escape` turns "\n" sequences into newlines) or quadratic cost (punycode).
_REFUSED_CODECS = frozenset(
    {
        "unicode_escape", "raw_unicode_escape", "punycode", "idna", "undefined", "palmos",
        "base64_codec", "bz2_codec", "hex_codec", "quopri_codec", "rot_13", "uu_codec",
        "zlib_codec", "charmap", "mbcs", "oem",
    }
)  # fmt: skip
_KNOWN = frozenset(_PYTHON_ALIASES) | frozenset(_PYTHON_ALIASES.values()) | _UNALIASED_CODECS
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+()-]*\Z")
_META_CHARSET = re.compile(
    rb"<meta[^>]{0,512}?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:+-]{1,40})", re.I
)
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Codec:
    name: str  # the Python codec to try first
    fallback: str | None  # the label's own codec when `name` is a WHATWG superset


def codec_for(label: str | None) -> Codec | None:
    """The Python codec for a MIME charset label, or None when unknown or refused."""
    if label is None:
        return None
    token = label.strip().strip("\"'").strip()
    if not token or len(token) > MAX_LABEL_LENGTH or not _LABEL.match(token):
        return None
    key = normalize_encoding(token.lower())
    key = _EXTRA_LABELS.get(key, key)
    if key not in _KNOWN and key.startswith("x_") and key[2:] in _KNOWN:
        key = key[2:]  # "x-koi8-r" and friends: an experimental prefix on a known name
    if key not in _KNOWN and key.startswith("cp_") and key[3:] in _KNOWN:
        key = key[3:]  # "cp-1252": Python knows the bare number as a cp alias
    if key not in _KNOWN or _PYTHON_ALIASES.get(key, key) in _REFUSED_CODECS:
        return None
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    superset = _SUPERSETS.get(name)
    return Codec(superset, name) if superset else Codec(name, None)


def decode_declared(data: bytes, label: str | None, defects: DefectLog, where: str) -> str:
    """Text of `data` in the declared charset `label`, with the fallbacks the module describes.
    `where` names the decoded thing in defect lines ("body part 2", "Subject")."""
    codec = codec_for(label) if label is not None and label.strip() else None
    if codec is None and (label is None or not label.strip()):
        return decode_undeclared(data, defects, where)
    if codec is not None and codec.name == "ascii":
        # RFC 2045 §5.2's default, which mailers also write when they do not know: 8-bit bytes
        # under it are as undeclared as bytes under no label at all.
        return decode_undeclared(data, defects, where)
    if codec is None:
        assert label is not None
        text, used = _first_that_decodes(data, FALLBACK_CODECS)
        defects.add(f"{where}: unknown charset {quoted(label)}, decoded as {used}")
        return clean_text(text, defects, where)
    for name in (codec.name, codec.fallback):
        if name is None:
            continue
        try:
            return clean_text(data.decode(name), defects, where)
        except (LookupError, ValueError):  # UnicodeDecodeError is a ValueError
            continue
    text, used = _first_that_decodes(data, FALLBACK_CODECS)
    defects.add(
        f"{where}: bytes not valid in declared charset {quoted(label or '')}, decoded as {used}"
    )
    return clean_text(text, defects, where)


def decode_undeclared(data: bytes, defects: DefectLog, where: str) -> str:
    """Text with no usable charset declaration: ASCII as is, 8-bit as utf-8, else cp1252."""
    if data.isascii():
        return clean_text(data.decode("ascii"), defects, where)
    text, used = _first_that_decodes(data, FALLBACK_CODECS)
    defects.add(f"{where}: 8-bit text without a charset, decoded as {used}")
    return clean_text(text, defects, where)


def html_meta_charset(data: bytes) -> str | None:
    """The charset an HTML body declares in a <meta> near its start, for parts whose MIME header
    names none (HTML Living Standard §13.2.3.2, the encoding prescan)."""
    found = _META_CHARSET.search(data[:HTML_META_PRESCAN_BYTES])
    return found.group(1).decode("ascii") if found else None


def clean_text(text: str, defects: DefectLog, where: str) -> str:
    """`text` without NULs and with lone surrogates replaced, so every backend can store it."""
    if "\x00" in text:
        text = text.replace("\x00", "")
        defects.add(f"{where}: NUL characters removed")
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
        defects.add(f"{where}: unpaired surrogates replaced")
    return text


def _first_that_decodes(data: bytes, names: tuple[str, ...]) -> tuple[str, str]:
    for name in names[:-1]:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    return data.decode(names[-1]), names[-1]
