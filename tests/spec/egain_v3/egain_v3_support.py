"""Helpers for the eGain v3 conformance tests: demo-site names, durable-state snapshots, setup
through the services (the v12 API is another module's), and error assertions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, inspect, select

from emaildesk.db.blobs import FileBlobStore
from emaildesk.db.database import Database
from emaildesk.db.tables import metadata
from emaildesk.domain.activities import Activity, ActivityType, Case, EmailPayload, Mode, Substatus
from emaildesk.domain.customers import ContactPointKind
from emaildesk.services.incoming_email import IncomingEmail, NewAttachment, create_incoming_email

V3 = "/core/casemgr/v3"
TASK_URL = f"{V3}/activity/task"
UPLOAD_URL = f"{V3}/activity/attachment"
MARIA = "maria.lopez@example.net"
LEO = "leo.lopez@example.net"
SAM = "sam.chen@example.org"
SUPPORT = "support@example.com"
SALES = "sales@example.com"
RETIRED_ALIAS = "old-support@example.com"
INVALID_TOKEN_MESSAGE = "Invalid or expired 'Authorization' header provided. New login is required."


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def email_url(activity_id: int | str) -> str:
    return f"{V3}/activity/{activity_id}/email/general"


def activity_url(ids: int | str) -> str:
    return f"{V3}/activity/{ids}"


def location_id(response: httpx.Response) -> int:
    """The new activity's id from a 201's `Location: /core/casemgr/v3/activity/{id}`."""
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    prefix = f"{V3}/activity/"
    assert location.startswith(prefix), location
    return int(location.removeprefix(prefix))


@dataclass
class DurableState:
    """Row counts of every table and the files in the blob store."""

    rows: dict[str, int]
    blobs: set[str] = field(default_factory=set)


async def durable_state(database: Database, blob_dir: Path) -> DurableState:
    """Every table's row count (the tables the migrated database has; one round trip for the
    counts) and the blob store's files."""
    async with database.engine.connect() as connection:
        names = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        tables = [t for t in metadata.sorted_tables if t.name in names]
        counts = select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
        row = (await connection.execute(counts)).one()
    return DurableState(
        {t.name: int(n) for t, n in zip(tables, row, strict=True)}, blob_files(blob_dir)
    )


def blob_files(blob_dir: Path) -> set[str]:
    """The files in the blob store (a synchronous directory walk: test-sized)."""
    if not blob_dir.exists():
        return set()
    return {str(p.relative_to(blob_dir)) for p in blob_dir.rglob("*") if p.is_file()}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An eGain error envelope with this status and code; returns the body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["developerMessage"]
    return body


@dataclass
class Refusals:
    """Send a request that must be refused, and check that nothing durable changed."""

    client: httpx.AsyncClient
    database: Database
    blob_dir: Path

    async def __call__(
        self, method: str, url: str, status: int, code: str, **kwargs: Any
    ) -> dict[str, Any]:
        before = await durable_state(self.database, self.blob_dir)
        response = await self.client.request(method, url, **kwargs)
        body = assert_error(response, status, code)
        after = await durable_state(self.database, self.blob_dir)
        assert after == before, "a refused request changed durable state"
        return body


async def customer_id(database: Database, address: str) -> int:
    async with database.uow() as uow:
        point = await uow.customers.find_point(ContactPointKind.EMAIL, address)
    assert point is not None and point.customer_id is not None
    return point.customer_id


async def user_id(database: Database, login_id: str) -> int:
    async with database.uow() as uow:
        user = await uow.directory.user_by_login(login_id)
    assert user is not None and user.id is not None
    return user.id


async def incoming_email(
    database: Database,
    blob_dir: Path,
    sender: str,
    *,
    receiver: str = SUPPORT,
    subject: str = "Issue with mobile phone",
    attachments: list[NewAttachment] | None = None,
    html: str | None = None,
) -> int:
    """An inbound email as the v12 API, SMTP or IMAP would create it (the shared use case)."""
    command = IncomingEmail(
        from_address=sender,
        receiver=receiver,
        subject=subject,
        text="The screen stays dark.",
        html=html,
        message_id=f"<{subject.replace(' ', '-')}.{sender}>",
        attachments=attachments or [],
    )
    async with database.uow() as uow:
        activity = await create_incoming_email(uow, FileBlobStore(blob_dir), command, None)
        await uow.commit()
    assert activity.id is not None
    return activity.id


async def outbound_email(database: Database, customer: int, substatus: Substatus) -> int:
    """An outbound email to `customer` in the Service department, in `substatus`."""
    async with database.uow() as uow:
        service = await uow.directory.department_by_name("Service")
        assert service is not None and service.id is not None
        case = await uow.cases.add(Case(customer, service.id, "Your order"))
        activity = Activity(
            ActivityType.EMAIL,
            "general",
            Mode.OUTBOUND,
            service.id,
            case_id=case.id,
            substatus=substatus,
            subject="Your order",
            customer_id=customer,
            email=EmailPayload(from_address=SUPPORT, to=[MARIA], text="Shipped."),
        )
        await uow.activities.add(activity)
        await uow.commit()
    assert activity.id is not None
    return activity.id


async def set_partition(database: Database, **changes: Any) -> None:
    """Change partition settings (the demo site's values are the defaults of the tests)."""
    async with database.uow() as uow:
        settings = await uow.directory.settings()
        for name, value in changes.items():
            setattr(settings, name, value)
        await uow.commit()


TOKEN_PATH = "/oauth2/token"
ON_BEHALF_OF_PATH = "/core/authmgr/v4/oauth2/v2.0/onbehalfof/token"
CLIENT_ID = "demo-integrator"
CLIENT_SECRET = "Demo-integrator-secret"
PASSWORDS = {
    "agent1": "Agent1-demo",
    "agent2": "Agent2-demo",
    "super1": "Super1-demo",
    "admin": "Admin-demo",
    "nolicense": "Nolicense-demo",
}


@dataclass
class Tokens:
    """Bearer headers by who they are for, each token issued once per test."""

    client: httpx.AsyncClient
    _cache: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)

    async def _issue(
        self, key: tuple[str, str, str], path: str, form: dict[str, str]
    ) -> dict[str, str]:
        if key not in self._cache:
            response = await self.client.post(path, data=form, auth=(CLIENT_ID, CLIENT_SECRET))
            assert response.status_code == 200, response.text
            self._cache[key] = bearer(response.json()["access_token"])
        return self._cache[key]

    async def integrator(self, scope: str = "") -> dict[str, str]:
        """The demo client application (client credentials), optionally with fewer scopes."""
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        return await self._issue(("client", CLIENT_ID, scope), TOKEN_PATH, form)

    async def user(
        self, login_id: str, scope: str = "", password: str | None = None
    ) -> dict[str, str]:
        """A user by password grant (a demo user's password unless another is given)."""
        secret = password if password is not None else PASSWORDS[login_id]
        form = {"grant_type": "password", "username": login_id, "password": secret}
        if scope:
            form["scope"] = scope
        return await self._issue(("user", login_id, scope), TOKEN_PATH, form)

    async def customer(self, address: str, scope: str = "") -> dict[str, str]:
        """A customer by the eGain on-behalf-of flow (the client application vouches)."""
        form = {"grant_type": "password", "subject_email": address}
        if scope:
            form["scope"] = scope
        path = f"{ON_BEHALF_OF_PATH}?user_type=customer"
        return await self._issue(("customer", address, scope), path, form)
