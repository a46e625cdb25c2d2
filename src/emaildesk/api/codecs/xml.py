"""eGain XML ⇄ the dict shape of eGain's JSON (api-notes §1.5), without entity expansion.

eGain's JSON is a JAXB mirror of its XML, so the routes validate one dict shape whichever format
arrived and render one dict into whichever format `Accept` asks for:

- XML attributes are plain fields (`<case id='1060'/>` ↔ `"case": {"id": "1060"}`);
- an element repeated among its siblings, or named in `list_elements`, is a list under its name
  (`<contents><content/><content/></contents>` ↔ `"contents": {"content": [{}, {}]}`), so a single
  `<content>` still arrives as the one-item list a JSON client sends;
- a text-only element is a string (CDATA included); namespaces carry no meaning for the data
  (`ns2:name` and `name` are the same field), because clients send both forms (api-notes §4).

Security: the parser is defusedxml's with DTDs, entity declarations and external references all
forbidden (no XXE, no billion laughs, no network or file access), and the tree is built by a
target that refuses nesting deeper than `max_depth` as the elements stream in, so a depth bomb
is refused before it is built. Every parse failure is `MALFORMED_BODY`, never a 500.

`list_elements` and `element_namespaces` accept plain element names and `parent/name` entries:
some names mean a list (or a namespace) in one place only. `content` is a list inside
`contents` but the base64 string inside an `<attachment>`; `email` is one object in `payload`
but a list inside a customer's `contact`.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final
from xml.etree.ElementTree import ParseError

from defusedxml.ElementTree import DefusedXMLParser

from emaildesk.domain import errors

XML_MEDIA_TYPE: Final = "application/xml"
DEFAULT_MAX_DEPTH: Final = 64

# Where eGain's JSON has a list (api-notes §1.5: `contents.content`, `attachments.attachment`,
# `customAttributes.customAttribute`, `attribValues.attribValue`, `grantsTo.customer`,
# `contacts.contact[].email[]`, `link[]`, `to.address[]`, the edit body's `activity[]`).
DEFAULT_LIST_ELEMENTS: Final[frozenset[str]] = frozenset(
    {
        "contents/content",
        "attachment",
        "customAttribute",
        "attribValue",
        "address",
        "contact",
        "contact/email",
        "contact/phone",
        "contact/social",
        "link",
        "grantsTo/customer",
        "grantsFrom/customer",
        "activities/activity",
    }
)
# Keys that eGain writes as XML attributes when their value is a scalar (`<case id="1"/>`,
# `<link rel="self" href="…"/>`, `<date date="…"/>`); as a dict they are child elements.
DEFAULT_ATTRIBUTE_KEYS: Final[frozenset[str]] = frozenset({"id", "rel", "href", "date"})
# Where an element with attributes (or the root) also carries text, the text is this field.
TEXT_KEY: Final = "value"

# Encodings expat decodes itself; any other declared encoding is decoded by Python first
# (expat refuses multi-byte encodings such as Shift_JIS, which Japanese clients send).
_EXPAT_ENCODINGS: Final = frozenset(
    {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "iso8859-1", "latin-1", "ascii"}
)
_DECLARED_ENCODING = re.compile(
    rb"\A(?:\xef\xbb\xbf)?<\?xml[ \t\r\n][^>]*?encoding[ \t\r\n]*=[ \t\r\n]*"
    rb"[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']"
)
# XML 1.0 §2.2 Char: what may appear in a document at all, even escaped.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# XML names we emit: ASCII or Unicode word characters, no colon (NCName, Namespaces in XML §3).
_XML_NAME = re.compile(r"[^\W\d][\w.-]*")


class _RefusedXmlError(ValueError):
    """The document parses but has a shape we refuse (too deep, mixed content, clashing names)."""


# --- parsing ----------------------------------------------------------------------------------


def parse_xml(
    body: bytes,
    *,
    list_elements: frozenset[str] = DEFAULT_LIST_ELEMENTS,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> tuple[str, dict[str, Any]]:
    """Parse an eGain XML document into (root element local name, the root's content as a dict).

    Raises `MALFORMED_BODY` for anything that is not a well-formed, DTD-free document within
    `max_depth` levels (the root is level 1).
    """
    builder = _DictBuilder(list_elements, max_depth)
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(_decodable(body))
        parser.close()
    except (ParseError, ValueError, LookupError) as exc:
        # DefusedXmlException, UnicodeDecodeError and _RefusedXmlError are ValueErrors; an
        # unknown declared encoding is a LookupError.
        raise errors.MALFORMED_BODY(format=XML_MEDIA_TYPE) from exc
    if builder.root is None:  # pragma: no cover - expat reports "no element found" first
        raise errors.MALFORMED_BODY(format=XML_MEDIA_TYPE)
    name, content = builder.root
    return name, content


def _decodable(body: bytes) -> bytes | str:
    """The body as expat can read it: bytes, or text when only Python knows the encoding.

    A str is parsed as the text it is and its declaration's encoding is ignored, which is what
    we want once Python has decoded it.
    """
    match = _DECLARED_ENCODING.match(body)
    if match is None:
        return body
    declared = match.group(1).decode("ascii")
    if codecs.lookup(declared).name in _EXPAT_ENCODINGS:
        return body
    return body.decode(declared)


@dataclass
class _Frame:
    name: str
    attributes: dict[str, str]
    children: list[tuple[str, Any]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


class _DictBuilder:
    """An ElementTree parser target that builds the dict shape directly, one element at a time."""

    def __init__(self, list_elements: frozenset[str], max_depth: int) -> None:
        self._list_elements = list_elements
        self._max_depth = max_depth
        self._stack: list[_Frame] = []
        self.root: tuple[str, dict[str, Any]] | None = None

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        if len(self._stack) >= self._max_depth:
            raise _RefusedXmlError(f"nesting deeper than {self._max_depth} elements")
        attributes: dict[str, str] = {}
        for key, value in attrib.items():
            local = _local_name(key)
            if local in attributes:
                raise _RefusedXmlError(f"attribute {local!r} given twice")
            attributes[local] = value
        self._stack.append(_Frame(_local_name(tag), attributes))

    def data(self, text: str) -> None:
        self._stack[-1].text.append(text)

    def end(self, tag: str) -> None:
        frame = self._stack.pop()
        if self._stack:
            parent = self._stack[-1]
            parent.children.append((frame.name, self._value(frame)))
        else:
            self.root = (frame.name, self._content(frame))

    def close(self) -> None:
        return None

    def _value(self, frame: _Frame) -> str | dict[str, Any]:
        if not frame.attributes and not frame.children:
            text = "".join(frame.text)
            return text if text.strip() else ""
        return self._content(frame)

    def _content(self, frame: _Frame) -> dict[str, Any]:
        content: dict[str, Any] = dict(frame.attributes)
        grouped: dict[str, list[Any]] = {}
        for name, value in frame.children:
            grouped.setdefault(name, []).append(value)
        for name, values in grouped.items():
            if name in content:
                raise _RefusedXmlError(f"{name!r} is both an attribute and an element")
            listed = name in self._list_elements or f"{frame.name}/{name}" in self._list_elements
            content[name] = values if listed or len(values) > 1 else values[0]
        text = "".join(frame.text)
        if text.strip():
            # Mixed content is not data eGain sends (HTML travels in CDATA); refusing it tells
            # the client its markup was not escaped, instead of silently dropping text.
            if frame.children or TEXT_KEY in content:
                raise _RefusedXmlError(f"<{frame.name}> mixes text with elements")
            content[TEXT_KEY] = text
        return content


def _local_name(tag: str) -> str:
    """`{uri}name` (ElementTree's spelling of a namespaced name) → `name`."""
    return tag.rpartition("}")[2]


# --- rendering --------------------------------------------------------------------------------


@dataclass
class _Element:
    name: str
    namespace: str
    attributes: list[tuple[str, str]] = field(default_factory=list)
    children: list[_Element] = field(default_factory=list)
    text: str | None = None


def render_xml(
    root: str,
    data: Mapping[str, Any],
    *,
    namespace: str,
    element_namespaces: Mapping[str, str] | None = None,
    attribute_keys: frozenset[str] = DEFAULT_ATTRIBUTE_KEYS,
) -> bytes:
    """Render `data` as the UTF-8 XML document `<root xmlns=namespace>…</root>`.

    A key in `attribute_keys` with a scalar value is an attribute; other scalars are child
    elements with text, a mapping a child element, a list repeated child elements of the key's
    name; booleans are `true`/`false`, numbers their decimal text, None is left out.

    Elements are in `namespace` unless `element_namespaces` maps their name (or `parent/name`,
    which wins) to another URI; those get the prefixes ns2, ns3, … in order of first use, all
    declared on the root as eGain's own documents do. Characters XML cannot carry (control
    characters, lone surrogates) become U+FFFD rather than making the document unreadable.
    A key that is not an XML name, or a value of another type, is a programming error
    (ValueError / TypeError).
    """
    builder = _ElementBuilder(namespace, element_namespaces or {}, attribute_keys)
    document = _Element(_checked_name(root), namespace)
    builder.fill(document, data)
    prefixes = _prefixes(document, namespace)
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>']
    declarations = [("xmlns", namespace)]
    declarations += [(f"xmlns:{prefix}", uri) for uri, prefix in prefixes.items()]
    _serialize(document, prefixes, out, declarations)
    return "".join(out).encode("utf-8")


class _ElementBuilder:
    def __init__(
        self,
        namespace: str,
        element_namespaces: Mapping[str, str],
        attribute_keys: frozenset[str],
    ) -> None:
        self._namespace = namespace
        self._element_namespaces = element_namespaces
        self._attribute_keys = attribute_keys

    def fill(self, element: _Element, data: Mapping[str, Any]) -> None:
        for key, value in data.items():
            if value is None:
                continue
            name = _checked_name(key)
            if name in self._attribute_keys and _is_scalar(value):
                element.attributes.append((name, _scalar_text(value)))
            elif isinstance(value, list | tuple):
                for item in value:
                    if item is not None:
                        element.children.append(self._child(element.name, name, item))
            else:
                element.children.append(self._child(element.name, name, value))

    def _child(self, parent: str, name: str, value: object) -> _Element:
        namespace = self._element_namespaces.get(
            f"{parent}/{name}", self._element_namespaces.get(name, self._namespace)
        )
        child = _Element(name, namespace)
        if isinstance(value, Mapping):
            self.fill(child, value)
        elif _is_scalar(value):
            child.text = _scalar_text(value)
        else:
            raise TypeError(f"cannot render {type(value).__name__} as the XML element <{name}>")
        return child


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | Decimal)  # bool is an int


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _checked_name(name: str) -> str:
    if not isinstance(name, str) or _XML_NAME.fullmatch(name) is None:
        raise ValueError(f"{name!r} is not an XML element or attribute name")
    return name


def _prefixes(document: _Element, default: str) -> dict[str, str]:
    """Namespace URI → prefix, numbered from ns2 in document order (the root is ns1's place)."""
    prefixes: dict[str, str] = {}
    stack = [document]
    while stack:
        element = stack.pop()
        if element.namespace != default and element.namespace not in prefixes:
            prefixes[element.namespace] = f"ns{len(prefixes) + 2}"
        stack.extend(reversed(element.children))
    return prefixes


def _serialize(
    element: _Element,
    prefixes: Mapping[str, str],
    out: list[str],
    declarations: list[tuple[str, str]] | None = None,
) -> None:
    prefix = prefixes.get(element.namespace)
    tag = f"{prefix}:{element.name}" if prefix else element.name
    out.append(f"<{tag}")
    for key, value in (*(declarations or ()), *element.attributes):
        out.append(f' {key}="{_escape_attribute(value)}"')
    if not element.children and not element.text:
        out.append("/>")
        return
    out.append(">")
    if element.text:
        out.append(_escape_text(element.text))
    for child in element.children:
        _serialize(child, prefixes, out)
    out.append(f"</{tag}>")


def _escape_text(text: str) -> str:
    text = _NOT_XML_CHAR.sub("\ufffd", text)
    # A literal CR would be normalised to LF by every parser (XML 1.0 §2.11); &#13; survives.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _escape_attribute(text: str) -> str:
    # Attribute-value normalisation (XML 1.0 §3.3.3) turns literal tabs and newlines into spaces.
    return _escape_text(text).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
