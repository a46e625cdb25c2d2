"""Recognising mail that no human wrote, so that it is stored with a flag and never answered
automatically (RFC 3834 §2: "automatic responses ... MUST NOT be sent in response to ..." such
messages; a mail loop between two auto-responders is the failure this prevents).

Signals, checked in this order (the first one found is the stored reason):
- a `multipart/report` (RFC 6522): a delivery status notification (RFC 3464) is a bounce, any
  other report (read receipts, RFC 8098) is automatic;
- `Auto-Submitted` with any value but "no" (RFC 3834 §5);
- a MAILER-DAEMON sender (the conventional bounce sender) - also a bounce;
- the null reverse-path `<>` (RFC 5321 §4.5.5: bounces, and what RFC 3834 §3.3 asks
  auto-responders to send from), from the envelope or a `Return-Path: <>` header;
- `X-Autoreply` / `X-Autorespond` (vendor auto-responders that predate RFC 3834);
- `Precedence: bulk`, `junk` or `list` (RFC 2076 §3.9, honoured by every vacation program).

An empty `envelope_from` means "not known" (the HTTP entrances have no envelope); only `<>` is
the null sender.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

NULL_SENDER = "<>"
MAILER_DAEMON = "mailer-daemon"
REPORT = "multipart/report"
DELIVERY_STATUS = "delivery-status"  # RFC 3464 §2: report-type of a DSN
AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list"})
VENDOR_AUTO_HEADERS = {"x-autoreply": "X-Autoreply", "x-autorespond": "X-Autorespond"}
MAX_REASON_VALUE = 100
_COMMENT = re.compile(r"\([^()]*\)")


@dataclass(frozen=True)
class AutoSubmission:
    auto_submitted: bool
    reason: str | None
    is_bounce: bool


HUMAN = AutoSubmission(auto_submitted=False, reason=None, is_bounce=False)


def classify(
    headers: Mapping[str, str],
    *,
    content_type: str,
    report_type: str | None,
    from_address: str | None,
    envelope_from: str,
) -> AutoSubmission:
    """`headers`: decoded first values by lower-cased field name."""
    reasons: list[str] = []
    bounce = False
    if content_type == REPORT:
        kind = (report_type or "").strip().lower()
        reasons.append(f"{REPORT}; report-type={kind or 'unknown'}")
        bounce = kind == DELIVERY_STATUS
    keyword = _keyword(headers.get("auto-submitted"))
    if keyword and keyword != "no":
        reasons.append(f"Auto-Submitted: {keyword}")
    for sender in (from_address, envelope_from):
        if sender and sender.strip("<>").rpartition("@")[0].lower() == MAILER_DAEMON:
            reasons.append(f"sender {MAILER_DAEMON.upper()}")
            bounce = True
    if envelope_from.strip() == NULL_SENDER:
        reasons.append("null sender (envelope)")
    if (headers.get("return-path") or "").strip() == NULL_SENDER:
        reasons.append("null sender (Return-Path)")
    for name, display in VENDOR_AUTO_HEADERS.items():
        if name in headers:
            reasons.append(f"{display}: {headers[name].strip()[:MAX_REASON_VALUE]}")
    precedence = _keyword(headers.get("precedence"))
    if precedence in AUTOMATIC_PRECEDENCE:
        reasons.append(f"Precedence: {precedence}")
    if not reasons:
        return HUMAN
    return AutoSubmission(auto_submitted=True, reason=reasons[0], is_bounce=bounce)


def _keyword(value: str | None) -> str:
    """The keyword of a field such as `auto-replied; owner-email="x@y" (comment)`."""
    if value is None:
        return ""
    return _COMMENT.sub("", value).split(";", 1)[0].strip().lower()[:MAX_REASON_VALUE]
