"""Which case an inbound email belongs to, and why (issue #4, "Threading, layered and explained").

Layers, first match wins:

1. **token**: an id in `In-Reply-To` or `References` that is one of our own outbound
   Message-IDs with a valid signature (`mail.tokens.read_message_id`) names a case and activity;
   the reply goes to that activity's case (its current one, should it have moved), *if the
   sender is the case's customer or a customer holding a grant from them* (api-notes §1.7).
   An id whose token is refused is not given a second chance as a plain header match (layer 2),
   or the refusal would mean nothing.
2. **header**: `In-Reply-To`, then `References` newest first (RFC 5322 §3.6.4: the last id is
   the parent), matched against the stored Message-IDs of inbound and outbound email activities.
   A header match needs no sender check, whoever replies: a Message-ID is known only to the
   people who received that email, so quoting it proves the sender took part in the thread (a
   Cc'd colleague, a forwarded-to manager). This is RFC 5322 threading as every mail client and
   helpdesk does it, and what lets >= 99% of real replies thread (issue #4's target; the
   benchmark corpus has ~15% of replies from someone other than the original sender). The new
   activity keeps its own customer (the sender); only the case is shared. Guessable ids are the
   risk: tokens and subjects, which anyone can type, keep the sender check.
3. **subject**: a case token in the subject (`[#1042]` by default, configurable), if that case
   exists and the sender belongs to it. Anyone can type a token, hence the check.
4. **new**: otherwise a new case.

The reason is a short sentence stored with the activity (`email_payloads.thread_reason`) and shown
to agents: what matched, and any candidate that was ignored and why. It never contains the
sender's address (STYLE.md habit 15): ids and Message-IDs only.
"""

from __future__ import annotations

from dataclasses import dataclass

from emaildesk.domain.activities import Activity, Case
from emaildesk.mail.parse import ParsedEmail
from emaildesk.mail.tokens import (
    CASE_ID_FIELD,
    DEFAULT_SUBJECT_TOKEN,
    case_id_from_subject,
    read_message_id,
)
from emaildesk.services.ports import UnitOfWork

MAX_REASON_LENGTH = 255  # email_payloads.thread_reason is String(255)
# Ids examined per message: In-Reply-To plus the newest References. Each costs a query, and
# References may hold thousands of ids (up to the parser's header limit); the newest carry the
# thread (RFC 5322 §3.6.4 appends the parent's id last).
MAX_THREAD_IDS = 50
MAX_ID_IN_REASON = 80  # characters of a Message-ID quoted in a reason

VIA_TOKEN = "token"  # noqa: S105 - a threading layer, not a secret
VIA_HEADER = "header"
VIA_SUBJECT = "subject"
VIA_NEW = "new"

IN_REPLY_TO = "In-Reply-To"
REFERENCES = "References"
NOT_THE_CUSTOMER = "sender not the case's customer"
SENDER_UNKNOWN = "sender unknown"


@dataclass(frozen=True)
class ThreadDecision:
    case_id: int | None  # None: a new case
    reason: str  # ≤ 255 characters, for email_payloads.thread_reason
    via: str  # "token" | "header" | "subject" | "new"


@dataclass(frozen=True)
class _Candidate:
    header: str  # IN_REPLY_TO or REFERENCES
    message_id: str  # without <>


class _Sender:
    """Whether the sender belongs to a case: its customer, or a grantee of that customer.
    Grants are read once, and only when a candidate needs them."""

    def __init__(self, uow: UnitOfWork, customer_id: int | None) -> None:
        self.uow = uow
        self.customer_id = customer_id
        self._grantors: frozenset[int] | None = None

    @property
    def refusal(self) -> str:
        return SENDER_UNKNOWN if self.customer_id is None else NOT_THE_CUSTOMER

    async def belongs_to(self, case: Case) -> bool:
        if self.customer_id is None or case.customer_id is None:
            return False
        if case.customer_id == self.customer_id:
            return True
        if self._grantors is None:
            self._grantors = frozenset(await self.uow.customers.grantors_of(self.customer_id))
        return case.customer_id in self._grantors


def _bare(message_id: str) -> str:
    text = message_id.strip()
    return text[1:-1].strip() if text.startswith("<") and text.endswith(">") else text


def _candidates(parsed: ParsedEmail) -> list[_Candidate]:
    """In-Reply-To, then References newest first; each id once, at most MAX_THREAD_IDS."""
    found: list[_Candidate] = []
    seen: set[str] = set()
    ordered = [(IN_REPLY_TO, parsed.in_reply_to or "")]
    ordered += [(REFERENCES, ref) for ref in reversed(parsed.references)]
    for header, raw in ordered:
        message_id = _bare(raw)
        if message_id and message_id not in seen:
            seen.add(message_id)
            found.append(_Candidate(header, message_id))
        if len(found) == MAX_THREAD_IDS:
            break
    return found


def _quote(message_id: str) -> str:
    if len(message_id) > MAX_ID_IN_REASON:
        message_id = message_id[: MAX_ID_IN_REASON - 1] + "…"
    return f"<{message_id}>"


def _decision(case_id: int | None, reason: str, via: str, notes: list[str]) -> ThreadDecision:
    if notes:
        reason = (
            f"{reason}: {'; '.join(notes)}" if via == VIA_NEW else f"{reason} ({'; '.join(notes)})"
        )
    if len(reason) > MAX_REASON_LENGTH:
        reason = reason[: MAX_REASON_LENGTH - 1] + "…"
    return ThreadDecision(case_id, reason, via)


def _sent_as(activity: Activity | None, message_id: str) -> bool:
    """Whether `activity` is the email that carried this Message-ID; an id reused after a
    restore from backup must not lead the reply into an unrelated case."""
    if activity is None or activity.email is None or not activity.email.message_id:
        return False
    return activity.email.message_id.lower() == message_id.lower()


async def _by_token(
    uow: UnitOfWork,
    candidates: list[_Candidate],
    sender: _Sender,
    secret: bytes,
    notes: list[str],
    ours: set[str],
) -> ThreadDecision | None:
    for candidate in candidates:
        token = read_message_id(candidate.message_id, secret=secret)
        if token is None:
            continue
        ours.add(candidate.message_id)
        case_id, activity_id = token
        activity = await uow.activities.get(activity_id)
        if _sent_as(activity, candidate.message_id) and activity and activity.case_id:
            case_id = activity.case_id  # the activity may have moved since we sent it
        case = await uow.cases.get(case_id)
        if case is None or case.id is None:
            notes.append(f"token of activity {activity_id} names no existing case")
        elif await sender.belongs_to(case):
            reason = (
                f"token: reply to activity {activity_id}"
                if candidate.header == IN_REPLY_TO
                else f"token: {REFERENCES} name activity {activity_id}"
            )
            return _decision(case.id, reason, VIA_TOKEN, notes)
        else:
            notes.append(f"token of activity {activity_id} ignored, {sender.refusal}")
    return None


async def _by_header(
    uow: UnitOfWork,
    candidates: list[_Candidate],
    sender: _Sender,
    notes: list[str],
    ours: set[str],
) -> ThreadDecision | None:
    for candidate in candidates:
        if candidate.message_id in ours:
            continue
        for activity in await uow.activities.by_message_id(candidate.message_id):
            if activity.case_id is None:
                continue
            case = await uow.cases.get(activity.case_id)
            if case is None or case.id is None:
                continue
            described = (
                f"{candidate.header} {_quote(candidate.message_id)} of activity {activity.id}"
            )
            return _decision(case.id, f"header: {described}", VIA_HEADER, notes)
    return None


async def _by_subject(
    uow: UnitOfWork, subject: str, template: str, sender: _Sender, notes: list[str]
) -> ThreadDecision | None:
    case_id = case_id_from_subject(subject, template)
    if case_id is None:
        return None
    token = template.replace(CASE_ID_FIELD, str(case_id))
    case = await uow.cases.get(case_id)
    if case is None or case.id is None:
        notes.append(f"subject token {token} names no existing case")
        return None
    if await sender.belongs_to(case):
        return _decision(case.id, f"subject: {token}", VIA_SUBJECT, notes)
    notes.append(f"subject token {token} ignored, {sender.refusal}")
    return None


async def decide_thread(
    uow: UnitOfWork,
    parsed: ParsedEmail,
    *,
    sender_customer_id: int | None,
    secret: bytes,
    subject_template: str = DEFAULT_SUBJECT_TOKEN,
) -> ThreadDecision:
    """The case this inbound email joins (None: a new one), how it was found, and why.

    Reads only; the caller stores the reason with the activity and owns the transaction.
    """
    sender = _Sender(uow, sender_customer_id)
    candidates = _candidates(parsed)
    notes: list[str] = []
    ours: set[str] = set()  # ids that carried a valid token: judged by layer 1 only
    decision = await _by_token(uow, candidates, sender, secret, notes, ours)
    if decision is None:
        decision = await _by_header(uow, candidates, sender, notes, ours)
    if decision is None:
        decision = await _by_subject(uow, parsed.subject, subject_template, sender, notes)
    if decision is None:
        decision = _decision(None, "new: no match" if not notes else "new", VIA_NEW, notes)
    return decision
