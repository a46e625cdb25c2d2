"""Content negotiation: which format (`Accept`) and language (`Accept-Language`) to answer in.

eGain's APIs answer JSON or XML (seeds 000/001/004: `Accept` is `application/json` or
`application/xml`) and refuse anything else with 406. The choice follows RFC 9110 §12.5.1: the
most specific media range that matches a representation sets its weight, the highest weight
wins, and among equals the more specific match, then the client's order, then our default
decides. `text/xml` (RFC 7303 §4.1) counts as XML.

Parsing is lenient where real clients are sloppy: an unparsable element of the list is skipped
(as RFC 9110 §12.5.1 permits), and a bare `*` (Java's HttpURLConnection default, "`*; q=.2`")
means `*/*`. Only a header that leaves nothing we can send is refused.

The result is kept on `request.state`, so the error handlers answer a failing request in the
format and language it asked for without negotiating twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Final

from starlette.requests import HTTPConnection

from emaildesk.api.i18n import DEFAULT_LOCALE, negotiate_locale
from emaildesk.domain import errors
from emaildesk.domain.errors import DomainError


class ResponseFormat(Enum):
    """A response representation; the value is its media type."""

    JSON = "application/json"
    XML = "application/xml"

    @property
    def media_type(self) -> str:
        return self.value


# The media types we can send, and which format each is. Order matters only as documentation.
_REPRESENTATIONS: Final[tuple[tuple[str, str, ResponseFormat], ...]] = (
    ("application", "json", ResponseFormat.JSON),
    ("application", "xml", ResponseFormat.XML),
    ("text", "xml", ResponseFormat.XML),
)
SUPPORTED_ACCEPT: Final = ", ".join(f.media_type for f in ResponseFormat)

_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # RFC 9110 §5.6.2
_MEDIA_RANGE = re.compile(rf"\s*({_TCHARS})\s*/\s*({_TCHARS})\s*")
_PARAMETER = re.compile(rf"\s*({_TCHARS})\s*=\s*(\"[^\"]*\"|{_TCHARS})\s*")

# request.state attribute names.
STATE_FORMAT: Final = "response_format"
STATE_NEGOTIATED: Final = "negotiated"


@dataclass(frozen=True)
class Negotiated:
    """What the client accepts: the response format and the locale of messages."""

    format: ResponseFormat
    locale: str


@dataclass(frozen=True)
class _Range:
    type: str
    subtype: str
    weight: float
    position: int

    def specificity(self, type_: str, subtype: str) -> int | None:
        """2 for an exact match, 1 for `type/*`, 0 for `*/*`, None when it does not match."""
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type != type_:
            return None
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == subtype else None


def negotiate_format(
    accept: str | None, default: ResponseFormat = ResponseFormat.JSON
) -> ResponseFormat:
    """The format to answer in, or `UNSUPPORTED_ACCEPT` (406-101) when we can send none."""
    if accept is None or not accept.strip():
        return default
    ranges = _parse_accept(accept)
    best: tuple[float, int, int, bool] | None = None
    chosen: ResponseFormat | None = None
    for type_, subtype, response_format in _REPRESENTATIONS:
        matches = [(r, r.specificity(type_, subtype)) for r in ranges]
        scored = [(r, s) for r, s in matches if s is not None]
        if not scored:
            continue
        # RFC 9110 §12.5.1: the most specific range decides; the first one at equal specificity.
        top = max(s for _, s in scored)
        deciding = next(r for r, s in scored if s == top)
        key = (deciding.weight, top, -deciding.position, response_format is default)
        if deciding.weight > 0 and (best is None or key > best):
            best, chosen = key, response_format
    if chosen is None:
        raise errors.UNSUPPORTED_ACCEPT(values=SUPPORTED_ACCEPT)
    return chosen


def _parse_accept(accept: str) -> list[_Range]:
    ranges: list[_Range] = []
    for position, element in enumerate(_split(accept, ",")):
        media_range, *parameters = _split(element, ";")
        if media_range.strip() == "*":
            media_range = "*/*"
        match = _MEDIA_RANGE.fullmatch(media_range)
        if match is None:
            continue
        weight = _weight(parameters)
        if weight is None:
            continue
        type_, subtype = match.group(1).lower(), match.group(2).lower()
        if type_ == "*" and subtype != "*":
            continue  # "*/json" is not a media range
        ranges.append(_Range(type_, subtype, weight, position))
    return ranges


def _split(text: str, separator: str) -> list[str]:
    """Split on `separator` outside double-quoted strings (RFC 9110 §5.6.4 quoted-string)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _weight(parameters: list[str]) -> float | None:
    """The q parameter (default 1); None when a parameter or the weight is unreadable."""
    weight = 1.0
    for parameter in parameters:
        match = _PARAMETER.fullmatch(parameter)
        if match is None:
            return None
        if match.group(1).lower() == "q":
            try:
                weight = float(match.group(2))
            except ValueError:
                return None
            if not 0.0 <= weight <= 1.0:
                return None
    return weight


def negotiate(
    request: HTTPConnection,
    *,
    default_format: ResponseFormat = ResponseFormat.JSON,
    default_locale: str = DEFAULT_LOCALE,
) -> Negotiated:
    """Negotiate format then locale, remember them on `request.state`, and return them.

    Raises `UNSUPPORTED_ACCEPT` (406-101) or `INVALID_ACCEPT_LANGUAGE` (406-100). The format is
    stored before the locale is negotiated, so a 406-100 is still answered in that format.
    """
    response_format = negotiate_format(_header(request, "accept"), default_format)
    setattr(request.state, STATE_FORMAT, response_format)
    locale = negotiate_locale(_header(request, "accept-language"), default_locale)
    negotiated = Negotiated(response_format, locale)
    setattr(request.state, STATE_NEGOTIATED, negotiated)
    return negotiated


def negotiated_for_error(
    request: HTTPConnection, *, default_locale: str = DEFAULT_LOCALE
) -> Negotiated:
    """How to answer with an error: never raises.

    What `negotiate` stored when it ran; otherwise negotiated now. A bad `Accept` is answered
    in JSON, a bad `Accept-Language` in `default_locale`, each independently of the other.
    """
    stored = getattr(request.state, STATE_NEGOTIATED, None)
    if isinstance(stored, Negotiated):
        return stored
    response_format = getattr(request.state, STATE_FORMAT, None)
    if not isinstance(response_format, ResponseFormat):
        try:
            response_format = negotiate_format(_header(request, "accept"))
        except DomainError:
            response_format = ResponseFormat.JSON
    try:
        locale = negotiate_locale(_header(request, "accept-language"), default_locale)
    except DomainError:
        locale = default_locale
    return Negotiated(response_format, locale)


def _header(request: HTTPConnection, name: str) -> str | None:
    """A list-valued header, its repeated lines combined as RFC 9110 §5.3 says."""
    values = request.headers.getlist(name)
    return ", ".join(values) if values else None
