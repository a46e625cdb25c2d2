"""The replies our SMTP and LMTP listeners send, as named constants (STYLE.md habit 8).

Each name carries its reply code (RFC 5321 §4.2) so a reader of the handler sees what the
client gets; each text starts with that code and an enhanced status code (RFC 3463) of the same
class. A test checks both. The texts never echo addresses or exception messages back: a reply
is read by strangers and lands in bounce messages.

What the client does with each class (RFC 5321 §4.2.1): 2yz the message is ours (only after the
commit); 4yz try again later (the sender's queue keeps the message); 5yz give up and bounce.
"""

from __future__ import annotations

from typing import Final

# --- accepted ----------------------------------------------------------------------------------
REPLY_250_RECIPIENT_OK: Final = "250 2.1.5 Recipient ok"
REPLY_250_QUEUED: Final = "250 2.0.0 Ok: queued as {ingestion_id}"
"""Only after the raw message and its ingestion record are committed (DESIGN.md "Mail")."""

# --- try again later ---------------------------------------------------------------------------
REPLY_451_TRY_AGAIN: Final = (
    "451 4.3.0 Temporary local problem, message not stored; try again later"
)
"""The database or the disk failed: nothing was acknowledged, so the sender's retry is safe."""
REPLY_452_TOO_MANY_RECIPIENTS: Final = "452 4.5.3 Too many recipients"
"""RFC 5321 §4.5.3.1.10: the client sends the rest in another transaction."""

# --- refused -----------------------------------------------------------------------------------
REPLY_550_NO_SUCH_RECIPIENT: Final = "550 5.1.1 Recipient address rejected: no such mailbox here"
"""Unknown or inactive alias, refused at RCPT before any body is read (STYLE.md habit 3)."""
REPLY_552_MESSAGE_TOO_LARGE: Final = (
    "552 5.3.4 Message size exceeds fixed maximum message size"  # RFC 1870 §6.1, RFC 3463 §3.4
)
REPLY_500_LINE_TOO_LONG: Final = "500 5.5.2 Line too long"
REPLY_421_SHUTTING_DOWN: Final = "421 4.3.2 Service shutting down, try again later"

# --- aiosmtpd's own texts, replaced by ours ----------------------------------------------------
# The protocol engine enforces the size and line limits itself (before our handler sees a byte)
# and answers with fixed texts that lack an enhanced status code; the listener swaps them for
# ours. Keyed by the start of aiosmtpd 1.4's reply text.
ENGINE_REPLIES: Final[dict[str, str]] = {
    "552 Error: Too much mail data": REPLY_552_MESSAGE_TOO_LARGE,
    "552 Error: message size exceeds fixed maximum message size": REPLY_552_MESSAGE_TOO_LARGE,
    "500 Line too long": REPLY_500_LINE_TOO_LONG,
}
