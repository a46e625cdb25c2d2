"""The export connector: post emaildesk's own finished conversations to a Uniphore-compatible
`POST /contacts/email` (another system's, or emaildesk's own).

Each email activity of a case becomes one contact: convId is the case (with the site's optional
prefix), msgId a UUID derived from the conversation and the activity (uuid5), so a retried or
repeated export is the same message to the receiver, which stores it once. The department's
route names the receiver's tenant, organization and category. Direction follows the activity's
mode: the department's mailbox is the "agent" address (`agentEmailId`), so an outbound email
(sent from the mailbox) is an agent message and an inbound one (sent to it) a participant's.

Delivery goes through the outbox (`analytics.export`, one job per email): the job reads what it
needs in a short unit of work of its own and closes it *before* the HTTP call, so no
transaction (on SQLite: the database's write lock) is held while the network is slow — the
receiver may even be this same server. A receiver that is down, slow, rate limiting or failing
(5xx) is retried with the outbox's backoff; one that refuses the contact (other 4xx) fails the
job permanently, visibly, since sending it again cannot help.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from emaildesk.domain.activities import Activity, ActivityType, Mode
from emaildesk.domain.analytics import (
    LANGUAGES,
    MAX_AGENT_ID_LENGTH,
    MAX_BODY_BYTES,
    MAX_CONV_ID_LENGTH,
    MAX_PS_ID_LENGTH,
    MAX_SUBJECT_LENGTH,
    ExportRoute,
    ExportSettings,
    is_valid_contact_address,
)
from emaildesk.domain.outbox import OutboxJob
from emaildesk.services.outbox import enqueue
from emaildesk.services.ports import UnitOfWork

EXPORT_JOB = "analytics.export"
# Fixed forever: changing it would make every msgId new and duplicate the receiver's messages.
MSG_ID_NAMESPACE = uuid.UUID("6f1c1d2e-9a54-5b8e-8d3c-5e4d0a1b7c21")
UNASSIGNED_AGENT = "unassigned"
UNKNOWN_PARTICIPANT = "unknown"
# eGain language tags (activity.language) → Uniphore's country-language codes (api-notes §3).
LANGUAGE_CODES = {"en-US": "us-en", "en-AU": "au-en", "en-GB": "gb-en"}
_TAG = re.compile(r"<[^>]*>")


class ExportError(Exception):
    """A contact could not be delivered; `reason` becomes the job's last_error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ExportTransientError(ExportError):
    """Worth retrying later: the receiver is unreachable, slow, busy or failing."""


class ExportPermanentError(ExportError):
    """Retrying cannot help: the receiver refused the contact, or there is nothing to send."""


class ContactSender(Protocol):
    """Posts one contact body (api/uniphore/client.py over HTTP; tests may fake it)."""

    async def post_contact(self, url: str, token: str, body: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class PreparedExport:
    url: str
    token: str
    body: dict[str, Any]


@dataclass(frozen=True)
class ExportParties:
    """Who took part in one email, as the receiver must see them."""

    agent_id: str
    agent_email: str
    participant_id: str
    participant_email: str


def conversation_id_of(settings: ExportSettings, case_id: int) -> str:
    return f"{settings.conversation_prefix}{case_id}"[:MAX_CONV_ID_LENGTH]


def message_id_of(conv_id: str, activity_id: int) -> str:
    """The same UUID for the same activity in the same conversation, on every attempt."""
    return str(uuid.uuid5(MSG_ID_NAMESPACE, f"{conv_id}/{activity_id}"))


def language_code(tag: str, default: str) -> str:
    return LANGUAGE_CODES.get(tag, default if default in LANGUAGES else LANGUAGES[0])


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def plain_body(text: str | None, markup: str | None) -> str:
    """The text part, else the HTML with its tags removed; cut to 1 MB of UTF-8."""
    body = text if text else html.unescape(_TAG.sub(" ", markup or ""))
    encoded = body.encode("utf-8")
    if len(encoded) <= MAX_BODY_BYTES:
        return body
    return encoded[:MAX_BODY_BYTES].decode("utf-8", errors="ignore")


def build_contact(
    activity: Activity, route: ExportRoute, settings: ExportSettings, parties: ExportParties
) -> dict[str, Any]:
    """The `POST /contacts/email` body of one email activity of a case."""
    email = activity.email
    if email is None or activity.case_id is None or activity.id is None:
        raise ExportPermanentError(f"activity {activity.id} is not an email of a case")
    from_address = parties.agent_email if activity.mode is Mode.OUTBOUND else email.from_address
    if not is_valid_contact_address(from_address):
        raise ExportPermanentError(f"activity {activity.id} has no valid sender address")
    to = [a for a in email.to if is_valid_contact_address(a)]
    counterpart = parties.participant_email if activity.mode is Mode.OUTBOUND else None
    conv_id = conversation_id_of(settings, activity.case_id)
    return {
        "metadata": {
            "tenantName": route.tenant_name,
            "orgName": route.organization_name,
            "catName": route.category_name,
            "metadataMap": {"emaildeskActivityId": str(activity.id)},
        },
        "data": {
            "convId": conv_id,
            "msgId": message_id_of(conv_id, activity.id),
            "lang": language_code(activity.language, settings.default_lang),
            "sub": activity.subject[:MAX_SUBJECT_LENGTH],
            "ts": epoch_ms(email.sent_date or activity.created_at),
            "body": plain_body(email.text, email.html),
            "agentId": parties.agent_id[:MAX_AGENT_ID_LENGTH],
            "psId": parties.participant_id[:MAX_PS_ID_LENGTH],
            "agentEmailId": parties.agent_email,
            "psEmailId": parties.participant_email,
            "from": from_address,
            "to": to or [counterpart or parties.agent_email],
            "cc": [a for a in email.cc if is_valid_contact_address(a)],
            "bcc": [a for a in email.bcc if is_valid_contact_address(a)],
        },
    }


async def parties_of(uow: UnitOfWork, activity: Activity) -> ExportParties:
    """The agent (assigned or last working user; the department's mailbox as address) and the
    participant (the customer) of an email activity."""
    email = activity.email
    assert email is not None
    user_id = activity.assigned_user_id or activity.user_last_worked_id
    user = await uow.directory.user(user_id) if user_id is not None else None
    if activity.mode is Mode.OUTBOUND:  # sent from the mailbox to the customer
        mailbox = email.from_address
        customer_address = email.to[0] if email.to else ""
    else:  # received by the mailbox (the alias it arrived at) from the customer
        aliases = {a.id: a.address for a in await uow.directory.aliases()}
        mailbox = aliases.get(email.receiver_alias_id) or (email.to[0] if email.to else "")
        customer_address = email.from_address
    if not is_valid_contact_address(mailbox) or not is_valid_contact_address(customer_address):
        raise ExportPermanentError(f"activity {activity.id} lacks a mailbox or customer address")
    return ExportParties(
        agent_id=user.login_id if user is not None else UNASSIGNED_AGENT,
        agent_email=mailbox,
        participant_id=(
            str(activity.customer_id) if activity.customer_id is not None else UNKNOWN_PARTICIPANT
        ),
        participant_email=customer_address,
    )


async def prepare_export(uow: UnitOfWork, activity_id: int) -> PreparedExport:
    """Everything the HTTP call needs, read in the caller's unit of work."""
    settings = await uow.analytics_export.settings()
    if settings is None or not settings.enabled:
        raise ExportPermanentError("analytics export is not configured or not enabled")
    activity = await uow.activities.get(activity_id)
    if activity is None or activity.type is not ActivityType.EMAIL or activity.email is None:
        raise ExportPermanentError(f"activity {activity_id} is not an email activity")
    route = await uow.analytics_export.route(activity.department_id)
    if route is None:
        raise ExportPermanentError(f"department {activity.department_id} has no analytics route")
    parties = await parties_of(uow, activity)
    return PreparedExport(
        settings.url, settings.token, build_contact(activity, route, settings, parties)
    )


async def export_activity(
    uow_factory: Callable[[], UnitOfWork], sender: ContactSender, activity_id: int
) -> None:
    """Read in a short unit of work, close it, then post (see the module docstring)."""
    async with uow_factory() as uow:
        prepared = await prepare_export(uow, activity_id)
    await sender.post_contact(prepared.url, prepared.token, prepared.body)


async def enqueue_activity_export(uow: UnitOfWork, activity_id: int) -> OutboxJob:
    return await enqueue(uow, EXPORT_JOB, {"activity_id": activity_id})


async def enqueue_case_export(uow: UnitOfWork, case_id: int) -> list[OutboxJob]:
    """Queue the export of every email of a completed case, when its department has a route.

    The hook for "a case was completed": the use case that closes a case's last open activity
    calls this in its own transaction, so the jobs commit with the completion.
    """
    settings = await uow.analytics_export.settings()
    if settings is None or not settings.enabled:
        return []
    jobs = []
    for activity in await uow.activities.in_case(case_id):
        if activity.type is not ActivityType.EMAIL or activity.id is None:
            continue
        if await uow.analytics_export.route(activity.department_id) is None:
            continue
        jobs.append(await enqueue_activity_export(uow, activity.id))
    return jobs


async def backfill_page(
    uow: UnitOfWork, since: datetime, after_id: int = 0, limit: int = 100
) -> list[int]:
    """The next ids of closed email activities of routed departments created since `since`."""
    routes = await uow.analytics_export.routes()
    return await uow.analytics_export.email_activity_ids(
        [r.department_id for r in routes], since, after_id=after_id, limit=limit
    )


async def backfill_count(uow: UnitOfWork, since: datetime) -> int:
    routes = await uow.analytics_export.routes()
    return await uow.analytics_export.count_email_activities(
        [r.department_id for r in routes], since
    )
