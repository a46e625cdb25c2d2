"""The never-raise contract under damage: every tricky message, cut, flipped, spliced and
shuffled in seeded ways, either parses into storable text or is refused with a reason. The
parser's last-resort "internal parser error" refusal must never be what happens: it would mean
a stdlib or parser bug that quarantines mail a fix would have ingested."""

from __future__ import annotations

import random
import re

import pytest

from emaildesk.mail.parse import MessageRejectedError, ParsedEmail, parse_message
from support import tricky_mail as tm

SEED = 20240305
INTERNAL_ERROR = "internal parser error"
MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
MUTATIONS_PER_MESSAGE = 12
SMALL_ENOUGH = 64 * 1024  # the mutations are about structure; big messages only slow them
NASTY = [
    b"\x00",
    b"\r",
    b"\n",
    b"\r\n\r\n",
    b"--",
    b"=?",
    b"?=",
    b'"',
    b";",
    b"\xff",
    b"\xc3",
    b"(",
    b"<",
    b"*0*=",
]


def mutate(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 6)):
        choice = rng.randrange(5)
        at = rng.randrange(len(data) + 1)
        if choice == 0:  # truncate
            del data[at:]
        elif choice == 1 and data:  # flip a byte
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif choice == 2:  # insert something the parser cares about
            data[at:at] = rng.choice(NASTY)
        elif choice == 3:  # delete a stretch
            del data[at : at + rng.randint(1, 40)]
        else:  # duplicate a stretch (repeated boundaries, repeated headers)
            data[at:at] = data[at : at + rng.randint(1, 200)]
    return bytes(data)


def storable(parsed: ParsedEmail) -> None:
    texts = [
        parsed.subject,
        parsed.from_name,
        parsed.text or "",
        parsed.html or "",
        parsed.message_id or "",
        parsed.in_reply_to or "",
        *parsed.references,
        *parsed.to,
        *parsed.cc,
        *parsed.defects,
        *(a.file_name for a in parsed.attachments),
        *(a.content_id or "" for a in parsed.attachments),
    ]
    for text in texts:
        text.encode("utf-8")
        assert "\x00" not in text
    assert parsed.date is None or parsed.date.utcoffset() is not None
    for attachment in parsed.attachments:
        assert MEDIA_TYPE.fullmatch(attachment.content_type), attachment.content_type


def parsed_or_refused(raw: bytes) -> None:
    refusal = ""
    try:
        storable(parse_message(raw))
    except MessageRejectedError as refused:
        refusal = refused.reason
    assert not refusal.startswith(INTERNAL_ERROR), refusal


SOURCES = {name: raw for name, raw in tm.tricky_messages().items() if 0 < len(raw) <= SMALL_ENOUGH}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_damaged_messages_parse_or_are_refused_with_a_reason(name: str) -> None:
    rng = random.Random(f"{SEED}-{name}")
    for _ in range(MUTATIONS_PER_MESSAGE):
        parsed_or_refused(mutate(SOURCES[name], rng))


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_parse_or_are_refused(seed: int) -> None:
    rng = random.Random(seed)
    parsed_or_refused(rng.randbytes(rng.randint(1, 4096)))
