"""Request and response codecs: JSON, eGain XML, multipart and form bodies in one dict shape.

`xml` converts between eGain's XML and the dict shape of its JSON; `body` reads a request body
of any accepted content type into that shape within a byte limit. Content negotiation (which
format to answer in) is `emaildesk.api.negotiation`.
"""

from emaildesk.api.codecs.body import (
    MediaKind,
    ParsedBody,
    UploadedPart,
    decode_base64,
    read_body,
)
from emaildesk.api.codecs.xml import (
    DEFAULT_ATTRIBUTE_KEYS,
    DEFAULT_LIST_ELEMENTS,
    parse_xml,
    render_xml,
)

__all__ = [
    "DEFAULT_ATTRIBUTE_KEYS",
    "DEFAULT_LIST_ELEMENTS",
    "MediaKind",
    "ParsedBody",
    "UploadedPart",
    "decode_base64",
    "parse_xml",
    "read_body",
    "render_xml",
]
