"""Shared by the Uniphore conformance tests: the demo tenant and key (src/emaildesk/demo/site.toml),
a valid contact to vary one field at a time, and checks of the error envelope."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from emaildesk.db.database import Database
from emaildesk.domain.activities import Activity, ActivityType, Case, EmailPayload, Mode, Substatus
from emaildesk.domain.customers import ContactPointKind

DEMO_KEY = "demo-analytics-key-1234567890"
TENANT = "Acme Corp"
ORG = "Sales"
CAT = "Leads"
EMAIL = "/contacts/email"
NSMETA = "/contacts/nsmeta/insertion"
METRICS = "/contacts/metrics/email"
AGENT = "agent1@xyz.com"
CUSTOMER = "ps1@acmecorp.com"
MARIA = "maria.lopez@example.net"  # a customer of the demo site
PAYLOAD_TYPE = "/errors/contact-payload"
T0 = 1_577_836_800_000  # the seed's ts: 2020-01-01T00:00:00Z


def auth(key: str = DEMO_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def contact(
    *,
    conv_id: str | None = None,
    msg_id: str | None = None,
    ts: int = T0,
    inbound: bool = True,
    metadata: dict[str, Any] | None = None,
    **data: Any,
) -> dict[str, Any]:
    """The seed's example contact: from the participant (inbound) or the agent."""
    body: dict[str, Any] = {
        "metadata": {"tenantName": TENANT, "orgName": ORG, "catName": CAT},
        "data": {
            "convId": conv_id or str(uuid.uuid4()),
            "msgId": msg_id or str(uuid.uuid4()),
            "lang": "us-en",
            "sub": "Goods Delivary Status",
            "ts": ts,
            "body": "Hi John, I'm writing this email to enquire about the my delivery status",
            "agentId": "Agent1",
            "psId": "Participant1",
            "agentEmailId": AGENT,
            "psEmailId": CUSTOMER,
            "from": CUSTOMER if inbound else AGENT,
            "to": [AGENT] if inbound else [CUSTOMER, "ps2@acmecorp.com"],
            "journeyId": "02d8f01e-42b0-11ea-b77f-2e728ce88125",
        },
    }
    body["metadata"].update(metadata or {})
    body["data"].update(data)
    return body


def without(body: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy of `body` without the field at `path` (`data.msgId`)."""
    changed = copy.deepcopy(body)
    section, name = path.split(".")
    del changed[section][name]
    return changed


def with_value(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    section, name = path.split(".")
    changed[section][name] = value
    return changed


def problems(response: httpx.Response, status: int) -> list[dict[str, str]]:
    """The envelope's problems, after checking its shape and status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"status", "errors"}
    assert body["status"] == status
    assert body["errors"], body
    for item in body["errors"]:
        assert set(item) == {"type", "title", "detail"}
        assert all(isinstance(v, str) and v for v in item.values())
    errors: list[dict[str, str]] = body["errors"]
    return errors


def titles(response: httpx.Response, status: int = 400) -> list[str]:
    return [item["title"] for item in problems(response, status)]


@dataclass(frozen=True)
class FinishedCase:
    case_id: int
    inbound_id: int
    outbound_id: int


async def finished_case(
    database: Database, start: datetime, department: str = "Service"
) -> FinishedCase:
    """A completed case of the demo site: Maria writes to support@example.com at `start`,
    agent1 answers five minutes later, sent from the mailbox (both emails closed)."""
    async with database.uow() as uow:
        dept = await uow.directory.department_by_name(department)
        agent = await uow.directory.user_by_login("agent1")
        alias = await uow.directory.alias_by_address("support@example.com")
        point = await uow.customers.find_point(ContactPointKind.EMAIL, MARIA)
        assert dept is not None and agent is not None and alias is not None and point
        assert dept.id is not None
        case = await uow.cases.add(Case(point.customer_id, dept.id, "Where is my order?"))

        def email_activity(mode: Mode, at: datetime, email: EmailPayload) -> Activity:
            return Activity(
                type=ActivityType.EMAIL,
                subtype="general",
                mode=mode,
                department_id=dept.id or 0,
                case_id=case.id,
                substatus=Substatus.COMPLETED if mode is Mode.INBOUND else Substatus.SENT,
                subject="Where is my order? " + "x" * 100,  # longer than Uniphore's 78
                customer_id=point.customer_id,
                assigned_user_id=agent.id,
                created_at=at,
                email=email,
            )

        inbound = await uow.activities.add(
            email_activity(
                Mode.INBOUND,
                start,
                EmailPayload(
                    from_address=MARIA,
                    to=["support@example.com"],
                    receiver_alias_id=alias.id,
                    sent_date=start,
                    html="<p>Where is my <b>order</b>?</p>",
                ),
            )
        )
        reply_at = start + timedelta(minutes=5)
        outbound = await uow.activities.add(
            email_activity(
                Mode.OUTBOUND,
                reply_at,
                EmailPayload(
                    from_address="support@example.com",
                    to=[MARIA],
                    sent_date=reply_at,
                    text="It ships today.",
                ),
            )
        )
        await uow.commit()
    assert case.id is not None and inbound.id is not None and outbound.id is not None
    return FinishedCase(case.id, inbound.id, outbound.id)
