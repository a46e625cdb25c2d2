"""Tricky and hostile raw messages, built in code (no binary fixtures to rot or to trust).

`tricky_messages()` returns every message by name; each named builder is also public so a test
can take one and assert on its known contents (the constants below). The parser's tests hold the
expected outcome of every name; the SMTP/IMAP tests feed the same bytes through a real
transport. Lines end in CRLF as on the wire (RFC 5322 §2.1) unless a message is about that.
"""

from __future__ import annotations

import base64
import quopri
import random
from collections.abc import Callable

CRLF = b"\r\n"
SENDER = "Jane Customer <jane@example.org>"
SENDER_ADDRESS = "jane@example.org"
RECIPIENT = "support@desk.example.test"
DATE = "Tue, 05 Mar 2024 10:15:00 +0100"
PREAMBLE = b"This is a multi-part message in MIME format."  # RFC 2046 §5.1.1: ignored
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) + b"IEND\xaeB`\x82"
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(255, -1, -1)) * 3 + b"\n%%EOF\n"
TNEF_BYTES = b"\x78\x9f\x3e\x22" + b"\x01\x06\x90\x08\x00\x04\x00\x00\x00\x00\x00\x01\x00" * 20
FORWARDED_INNER = (
    b"Return-Path: <bob@example.net>\r\n"
    b"From:   Bob Original <bob@example.net>\r\n"
    b"To: jane@example.org\r\n"
    b"Subject:   Original\r\n\tquestion\r\n"
    b"Message-ID: <inner-1@example.net>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"The inner body, which must not leak into the outer text.\r\n"
)
DSN_BLOCKS = (
    b"Reporting-MTA: dns; mx.example.org\r\n"
    b"Arrival-Date: Tue, 05 Mar 2024 10:15:00 +0100\r\n"
    b"\r\n"
    b"Final-Recipient: rfc822; nobody@example.net\r\n"
    b"Action: failed\r\n"
    b"Status: 5.1.1\r\n"
)
BOUNCED_ORIGINAL = (
    b"From: support@desk.example.test\r\n"
    b"To: nobody@example.net\r\n"
    b"Subject: Your case [#1042]\r\n"
    b"Message-ID: <ed.1042.5531@desk.example.test>\r\n"
    b"\r\n"
    b"We answered your question.\r\n"
)


def eml(headers: list[str], body: bytes = b"hello" + CRLF) -> bytes:
    """Header lines (already folded as wanted) and a body, joined the way the wire does."""
    head = CRLF.join(line.encode("utf-8", "surrogateescape") for line in headers)
    return head + CRLF + CRLF + body


def basic_headers(subject: str = "Hello", sender: str = SENDER) -> list[str]:
    return [
        f"From: {sender}",
        f"To: {RECIPIENT}",
        f"Subject: {subject}",
        f"Date: {DATE}",
        "Message-ID: <tricky@example.org>",
        "MIME-Version: 1.0",
    ]


def multipart(subtype: str, boundary: str, parts: list[bytes], extra: str = "") -> bytes:
    """A multipart body (RFC 2046 §5.1.1) of already-built parts (headers + CRLF + body)."""
    out = PREAMBLE + CRLF
    for part in parts:
        out += b"--" + boundary.encode() + CRLF + part + CRLF
    return out + b"--" + boundary.encode() + b"--" + CRLF


def part(headers: list[str], body: bytes) -> bytes:
    return CRLF.join(h.encode("utf-8") for h in headers) + CRLF + CRLF + body


def b64_lines(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", CRLF)


# --- header encodings -----------------------------------------------------------------------


def encoded_word(text: str, charset: str, encoding: str = "B") -> str:
    data = text.encode(charset)
    if encoding == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    quoted = quopri.encodestring(data, header=True).decode().replace("=\n", "")
    return f"=?{charset}?Q?{quoted}?="


def rfc2047_subject(text: str, charset: str, encoding: str = "B") -> bytes:
    return eml(basic_headers(encoded_word(text, charset, encoding)))


def subject_unknown_charset() -> bytes:
    return eml(basic_headers("=?x-klingon?Q?caf=E9_cr=E8me?="))


# --- bodies ---------------------------------------------------------------------------------


def quoted_printable_body() -> bytes:
    body = b"Caf=C3=A9 au lait =E2=82=AC5 and a soft=\r\n break.\r\n"
    return eml(
        [
            *basic_headers("QP"),
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
        ],
        body,
    )


def base64_body() -> bytes:
    text = "Здравствуйте,\r\nмой заказ не пришёл.\r\n".encode()
    return eml(
        [
            *basic_headers("B64"),
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
        ],
        b64_lines(text),
    )


def undeclared_8bit(text: str, codec: str) -> bytes:
    return eml(
        [*basic_headers("8bit"), "Content-Type: text/plain", "Content-Transfer-Encoding: 8bit"],
        text.encode(codec) + CRLF,
    )


def alternative() -> bytes:
    boundary = "alt-1"
    parts = [
        part(["Content-Type: text/plain; charset=us-ascii"], b"First plain"),
        part(["Content-Type: text/html; charset=us-ascii"], b"<p>First html</p>"),
        part(["Content-Type: text/enriched"], b"<bold>Enriched</bold>"),
        part(["Content-Type: text/plain; charset=us-ascii"], b"Best plain"),
        part(["Content-Type: text/html; charset=us-ascii"], b"<p>Best html</p>"),
    ]
    return eml(
        [
            *basic_headers("Alternative"),
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
        ],
        multipart("alternative", boundary, parts),
    )


def related_with_cid_image() -> bytes:
    """What Apple Mail and Outlook send: mixed[alternative[text, related[html, cid image]], pdf]."""
    html = b'<html><body><p>See the logo:</p><img src="cid:logo.1@desk.example.test"></body></html>'
    related = multipart(
        "related",
        "rel-1",
        [
            part(["Content-Type: text/html; charset=utf-8"], html),
            part(
                [
                    "Content-Type: image/png",
                    "Content-Transfer-Encoding: base64",
                    "Content-ID: <logo.1@desk.example.test>",
                ],
                b64_lines(PNG_BYTES),
            ),
        ],
    )
    alt = multipart(
        "alternative",
        "alt-2",
        [
            part(["Content-Type: text/plain; charset=utf-8"], b"See the logo."),
            part(['Content-Type: multipart/related; boundary="rel-1"; type="text/html"'], related),
        ],
    )
    mixed = multipart(
        "mixed",
        "mix-1",
        [
            part(['Content-Type: multipart/alternative; boundary="alt-2"'], alt),
            part(
                [
                    "Content-Type: application/pdf",
                    "Content-Transfer-Encoding: base64",
                    'Content-Disposition: attachment; filename="invoice.pdf"',
                ],
                b64_lines(PDF_BYTES),
            ),
        ],
    )
    return eml(
        [*basic_headers("Related"), 'Content-Type: multipart/mixed; boundary="mix-1"'], mixed
    )


def forwarded_rfc822() -> bytes:
    parts = [
        part(["Content-Type: text/plain; charset=utf-8"], b"See the message below."),
        part(["Content-Type: message/rfc822", "Content-Disposition: inline"], FORWARDED_INNER),
    ]
    return eml(
        [*basic_headers("Fwd: Original question"), 'Content-Type: multipart/mixed; boundary="fw"'],
        multipart("mixed", "fw", parts),
    )


def attachment_message(
    disposition: str, content_type: str, encoded: bytes, encoding: str = "base64"
) -> bytes:
    """A text part and one attachment whose body is `encoded` as written."""
    parts = [
        part(["Content-Type: text/plain"], b"Attached."),
        part(
            [
                f"Content-Type: {content_type}",
                f"Content-Transfer-Encoding: {encoding}",
                disposition,
            ],
            encoded,
        ),
    ]
    return eml(
        [*basic_headers("Attachment"), 'Content-Type: multipart/mixed; boundary="att"'],
        multipart("mixed", "att", parts),
    )


def rfc2231_filename() -> bytes:
    return attachment_message(
        "Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf",
        "application/pdf",
        b64_lines(PDF_BYTES),
    )


def rfc2231_continuations() -> bytes:
    return attachment_message(
        "Content-Disposition: attachment;\r\n filename*0*=UTF-8''%E2%82%AC%20ex;\r\n"
        ' filename*1*=change%20; filename*2="rates 2024.pdf"',
        "application/pdf",
        b64_lines(PDF_BYTES),
    )


def tnef_winmail() -> bytes:
    return attachment_message(
        'Content-Disposition: attachment; filename="winmail.dat"',
        'application/ms-tnef; name="winmail.dat"',
        b64_lines(TNEF_BYTES),
    )


def binary_attachment(data: bytes) -> bytes:
    return attachment_message(
        'Content-Disposition: attachment; filename="data.bin"',
        "application/octet-stream",
        b64_lines(data),
    )


def random_bytes(size: int, seed: int = 4) -> bytes:
    return random.Random(seed).randbytes(size)


def missing_boundary() -> bytes:
    body = b"--xyz\r\nContent-Type: text/plain\r\n\r\nhello\r\n--xyz--\r\n"
    return eml([*basic_headers("No boundary"), "Content-Type: multipart/mixed"], body)


def broken_base64() -> bytes:
    """Padding cut off and stray characters in the middle: the data is still all there."""
    encoded = base64.b64encode(PDF_BYTES)
    assert encoded.endswith(b"==")  # len(PDF_BYTES) % 3 == 1
    damaged = encoded[:40] + b"!*" + encoded[40:-2]
    return attachment_message(
        'Content-Disposition: attachment; filename="broken.pdf"', "application/pdf", damaged
    )


# --- limits ---------------------------------------------------------------------------------


def many_headers(count: int = 10_000) -> bytes:
    return eml(basic_headers("Many headers") + [f"X-Filler-{n}: value {n}" for n in range(count)])


def many_parts(count: int = 1_000) -> bytes:
    """`count` MIME parts in all: the top-level multipart and `count - 1` small attachments."""
    parts = [
        part(
            ["Content-Type: text/plain", f'Content-Disposition: attachment; filename="f{n}.txt"'],
            f"file {n}".encode(),
        )
        for n in range(count - 1)
    ]
    return eml(
        [*basic_headers("Many parts"), 'Content-Type: multipart/mixed; boundary="many"'],
        multipart("mixed", "many", parts),
    )


def deep_nesting(depth: int = 50) -> bytes:
    """`depth` multiparts each inside the previous one (the top-level one included), a text
    part innermost, at nesting depth `depth`. Built in linear time: depth may be thousands."""
    opening: list[bytes] = []
    closing: list[bytes] = []
    for level in range(depth):
        boundary = f"level-{level}".encode()
        if level:
            opening.append(
                b'Content-Type: multipart/mixed; boundary="' + boundary + b'"' + CRLF * 2
            )
        opening.append(PREAMBLE + CRLF + b"--" + boundary + CRLF)
        closing.append(CRLF + b"--" + boundary + b"--" + CRLF)
    innermost = part(["Content-Type: text/plain"], b"deep")
    return eml(
        [*basic_headers("Deep"), 'Content-Type: multipart/mixed; boundary="level-0"'],
        b"".join(opening) + innermost + b"".join(reversed(closing)),
    )


def long_header_line(size: int = 1024 * 1024) -> bytes:
    return eml(basic_headers("A" * size))


def nul_bytes() -> bytes:
    return eml(basic_headers("nul\x00here"), b"before\x00after" + CRLF)


def empty() -> bytes:
    return b""


def only_headers() -> bytes:
    return CRLF.join(line.encode() for line in basic_headers("Only headers")) + CRLF


# --- automatic mail -------------------------------------------------------------------------


def auto_submitted() -> bytes:
    return eml([*basic_headers("Out of office"), "Auto-Submitted: auto-replied"])


def precedence_bulk() -> bytes:
    return eml([*basic_headers("Newsletter"), "Precedence: bulk"])


def x_autoreply() -> bytes:
    return eml([*basic_headers("Away"), "X-Autoreply: yes"])


def return_path_null() -> bytes:
    return eml(["Return-Path: <>", *basic_headers("Returned")])


def dsn_bounce() -> bytes:
    """A delivery status notification (RFC 3464) in a multipart/report (RFC 6522)."""
    parts = [
        part(
            ["Content-Type: text/plain; charset=us-ascii"], b"Your message could not be delivered."
        ),
        part(["Content-Type: message/delivery-status"], DSN_BLOCKS),
        part(["Content-Type: message/rfc822"], BOUNCED_ORIGINAL),
    ]
    return eml(
        [
            "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>",
            f"To: {RECIPIENT}",
            "Subject: Undelivered Mail Returned to Sender",
            f"Date: {DATE}",
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"',
        ],
        multipart("report", "dsn", parts),
    )


def no_from() -> bytes:
    return eml([line for line in basic_headers("Anonymous") if not line.startswith("From:")])


def large_message(size: int = 25 * 1024 * 1024) -> tuple[bytes, bytes]:
    """A message of about `size` bytes, almost all of it one base64 attachment; returns the raw
    message and the attachment's bytes."""
    data = random_bytes(size * 3 // 4 - 4096, seed=25)
    return binary_attachment(data), data


BUILDERS: dict[str, Callable[[], bytes]] = {
    "subject_utf8": lambda: rfc2047_subject("Grüße aus Köln €", "utf-8"),
    "subject_iso_8859_1": lambda: rfc2047_subject("Café crème", "iso-8859-1", "Q"),
    "subject_koi8_r": lambda: rfc2047_subject("Привет мир", "koi8-r"),
    "subject_shift_jis": lambda: rfc2047_subject("日本語の件名", "shift_jis"),
    "subject_unknown_charset": subject_unknown_charset,
    "quoted_printable_body": quoted_printable_body,
    "base64_body": base64_body,
    "undeclared_8bit_utf8": lambda: undeclared_8bit("Grüße, naïve café", "utf-8"),
    "undeclared_8bit_latin1": lambda: undeclared_8bit("Grüße, naïve café", "latin-1"),
    "alternative": alternative,
    "related_cid_image": related_with_cid_image,
    "forwarded_rfc822": forwarded_rfc822,
    "rfc2231_filename": rfc2231_filename,
    "rfc2231_continuations": rfc2231_continuations,
    "tnef_winmail": tnef_winmail,
    "binary_attachment": lambda: binary_attachment(random_bytes(200_000)),
    "missing_boundary": missing_boundary,
    "broken_base64": broken_base64,
    "many_headers": many_headers,
    "many_parts": many_parts,
    "deep_nesting": deep_nesting,
    "long_header_line": long_header_line,
    "nul_bytes": nul_bytes,
    "empty": empty,
    "only_headers": only_headers,
    "auto_submitted": auto_submitted,
    "precedence_bulk": precedence_bulk,
    "x_autoreply": x_autoreply,
    "return_path_null": return_path_null,
    "dsn_bounce": dsn_bounce,
    "no_from": no_from,
}


def tricky_messages() -> dict[str, bytes]:
    """Every tricky message by name (the 25 MB `large_message` is left out: build it alone)."""
    return {name: build() for name, build in BUILDERS.items()}
