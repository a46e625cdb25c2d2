"""Shared pieces of the eGain v12 conformance tests: paths, demo logins, request bodies (the
published Example 1 among them), and the checks every refusal must pass.

A refusal is checked the same way everywhere (`V12Api.refused`): the status, the eGain code,
the attribute or value the message must name, the echoed `X-egain-session`, and that the
database holds exactly the rows it held before (nothing is written on a 4xx).
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from emaildesk.db import tables as t
from emaildesk.db.database import Database

V12 = "/system/ws/v12"
ALIAS = "/ws/v12"
SESSION = "X-egain-session"
LOGIN = f"{V12}/authentication/user/login"
LOGOUT = f"{V12}/authentication/user/logout"
ACTIVITY = f"{V12}/interaction/activity"
JSON = "application/json"
XML = "application/xml"
ACTIVITY_NS = "http://bindings.egain.com/ws/model/v12/gen/interaction/activity"
PLATFORM_NS = "http://bindings.egain.com/ws/model/v12/gen/platform"
COMMON_NS = "http://bindings.egain.com/ws/model/v12/gen/common"
INVALID_SESSION_MESSAGE = (
    "Invalid or expired 'X-egain-session' header provided. New login is required."
)

# README "Demo site".
PASSWORDS = {
    "agent1": "Agent1-demo",
    "agent2": "Agent2-demo",
    "super1": "Super1-demo",
    "admin": "Admin-demo",
    "nolicense": "Nolicense-demo",
}
CUSTOMER = "jhenry@customer.com"  # Example 1's sender: not a demo customer yet
SUPPORT = "support@example.com"  # Service
SALES = "sales@example.com"  # Sales
RETIRED = "old-support@example.com"  # Service, inactive

# Tables a create writes to; a refused request must leave every count as it was.
WRITTEN_TABLES = (
    t.activities,
    t.email_payloads,
    t.attachments,
    t.cases,
    t.customers,
    t.contact_points,
    t.events,
)


async def login(client: httpx.AsyncClient, user: str = "agent1", **params: str) -> str:
    response = await client.post(
        LOGIN, json={"userName": user, "password": PASSWORDS[user]}, params=params
    )
    assert response.status_code == 204, response.text
    return response.headers[SESSION]


def minimal_email(**top: Any) -> dict[str, Any]:
    """A valid JSON create body with only what the spec requires (plus a subject)."""
    body: dict[str, Any] = {
        "department": {"name": "Service"},
        "type": {"value": "email", "subtype": {"value": "general"}},
        "subject": "Where is my order?",
        "payload": {
            "email": {
                "date": {"date": "2015-12-26T19:00:00.000Z"},
                "contents": {"content": [{"type": "text", "value": "It has not arrived."}]},
                "emailAddresses": {"from": CUSTOMER, "receiver": SUPPORT},
            }
        },
    }
    body.update(top)
    return body


def attachment(
    name: str, data: bytes, content_type: str = "application/pdf", **extra: str
) -> dict[str, str]:
    """One `attachments.attachment` element (JSON mode: base64 content)."""
    return {
        "fileName": name,
        "contentType": content_type,
        "content": base64.b64encode(data).decode(),
        **extra,
    }


def example_1_json(case_id: int) -> dict[str, Any]:
    """api-notes §1.5 Example 1, JSON form, as published but for the case (the demo site
    has no case 1060) and the receiver (support@business.com is not a demo alias)."""
    return {
        "department": {"name": "service"},
        "type": {"value": "email", "subtype": {"value": "general"}},
        "case": {"id": str(case_id)},
        "isSecure": "true",
        "subject": "Issue with mobile phone",
        "payload": {
            "email": {
                "date": {"date": "2015-12-26T19:00:00.000Z"},
                "contents": {
                    "content": [
                        {"type": "text", "value": "This is the issue"},
                        {"type": "html", "value": "<HTML>...</HTML>"},
                    ]
                },
                "emailAddresses": {"from": CUSTOMER, "receiver": SUPPORT},
            }
        },
    }


def example_1_xml(case_id: int) -> str:
    """api-notes §1.5 Example 1, XML form, namespaces and all (same substitutions)."""
    return f"""<activity xmlns="{ACTIVITY_NS}"
          xmlns:ns2="{PLATFORM_NS}"
          xmlns:ns3="{COMMON_NS}"
          xmlns:ns4="http://bindings.egain.com/ws/model/v12/gen/interaction/attachment">
  <department><ns2:name>service</ns2:name></department>
  <type><value>email</value><subtype><ns3:value>general</ns3:value></subtype></type>
  <case id='{case_id}'/>
  <isSecure>true</isSecure>
  <subject>Issue with mobile phone</subject>
  <payload><email>
    <date date='2015-12-26T19:00:00.000Z'/>
    <contents>
      <content><ns3:type>text</ns3:type><ns3:value>This is the issue</ns3:value></content>
      <content><ns3:type>html</ns3:type><ns3:value><![CDATA[<HTML>...</HTML>]]></ns3:value></content>
    </contents>
    <emailAddresses><from>{CUSTOMER}</from><receiver>{SUPPORT}</receiver></emailAddresses>
  </email></payload>
</activity>"""


def without(body: Mapping[str, Any], path: str) -> dict[str, Any]:
    """A deep copy of `body` without the element at the dotted `path`."""
    copied = copy.deepcopy(dict(body))
    *parents, last = path.split(".")
    node = copied
    for name in parents:
        node = node[name]
    del node[last]
    return copied


def replaced(body: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `body` with the element at the dotted `path` set to `value`."""
    copied = copy.deepcopy(dict(body))
    *parents, last = path.split(".")
    node = copied
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value
    return copied


def activity_id_of(response: httpx.Response) -> int:
    """The id from a 201's Location, after checking the Location's documented form."""
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    prefix = f"{ACTIVITY}/"
    assert location.startswith(prefix), location
    return int(location[len(prefix) :])


def assert_error(response: httpx.Response, status: int, code: str, *mentions: str) -> None:
    """An eGain JSON error envelope with this status and code, naming every `mentions`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(JSON)
    body = response.json()
    assert body["code"] == code, body
    for mention in mentions:
        assert mention in body["developerMessage"], (mention, body)
    assert "userMessage" not in body


async def row_counts(database: Database) -> dict[str, int]:
    async with database.engine.connect() as connection:
        return {
            table.name: int(await connection.scalar(select(func.count()).select_from(table)) or 0)
            for table in WRITTEN_TABLES
        }


async def update_settings(database: Database, **changes: Any) -> None:
    """Change partition settings in the database, as an operator would between requests."""
    async with database.uow() as uow:
        settings = await uow.directory.settings()
        for name, value in changes.items():
            setattr(settings, name, value)
        await uow.commit()


@dataclass
class V12Api:
    """A logged-in agent1 session on the demo site, with the calls the tests make."""

    client: httpx.AsyncClient
    database: Database
    token: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {SESSION: self.token, "Accept": JSON, **extra}

    async def create(
        self, body: Mapping[str, Any], *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        if token is not None:
            headers[SESSION] = token
        return await self.client.post(ACTIVITY, json=body, headers=headers, **kwargs)

    async def create_xml(self, document: str | bytes, **headers: str) -> httpx.Response:
        merged = {**self.headers(), "Content-Type": XML, **headers}
        data = document.encode() if isinstance(document, str) else document
        return await self.client.post(ACTIVITY, content=data, headers=merged)

    async def create_multipart(
        self,
        data: str,
        data_type: str = JSON,
        files: list[tuple[str, tuple[Any, ...]]] | None = None,
        **headers: str,
    ) -> httpx.Response:
        # Text parts as (None, value) file tuples: httpx then sends multipart/form-data even
        # without attachments, and the parts carry no filename, as form fields do.
        fields: list[tuple[str, tuple[Any, ...]]] = [
            ("data", (None, data)),
            ("data-type", (None, data_type)),
        ]
        return await self.client.post(
            ACTIVITY, files=fields + (files or []), headers={**self.headers(), **headers}
        )

    async def created(self, body: Mapping[str, Any] | None = None) -> int:
        return activity_id_of(await self.create(body or minimal_email()))

    async def read(
        self, ids: int | str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        if token is not None:
            headers[SESSION] = token
        return await self.client.get(f"{ACTIVITY}/{ids}", headers=headers, **kwargs)

    async def read_one(self, activity_id: int, **params: str) -> dict[str, Any]:
        """The JSON representation of one activity, every attribute."""
        response = await self.read(activity_id, params={"$attribute": "all", **params})
        assert response.status_code == 200, response.text
        activities: list[dict[str, Any]] = response.json()["activity"]
        assert len(activities) == 1
        return activities[0]

    async def counts(self) -> dict[str, int]:
        return await row_counts(self.database)

    async def refused(
        self, call: Awaitable[httpx.Response], status: int, code: str, *mentions: str
    ) -> dict[str, Any]:
        """Await `call` and check it is this refusal, echoing the session, writing nothing."""
        before = await self.counts()
        response = await call
        assert_error(response, status, code, *mentions)
        sent = response.request.headers.get(SESSION)
        if sent is not None:
            assert response.headers.get(SESSION) == sent
        assert await self.counts() == before
        body: dict[str, Any] = response.json()
        return body
