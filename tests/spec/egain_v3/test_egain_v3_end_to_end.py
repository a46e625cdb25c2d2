"""End to end over a real socket, as an integrator would drive emaildesk with eGain v3 code:
tokens from the token endpoint, upload, create, read back (JSON and XML), download."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from defusedxml.ElementTree import fromstring
from egain_v3_support import (
    LEO,
    MARIA,
    TASK_URL,
    UPLOAD_URL,
    Refusals,
    activity_url,
    customer_id,
    email_url,
    incoming_email,
    location_id,
    user_id,
)

from emaildesk.db.database import Database

ACTIVITY_NS = "{http://bindings.egain.com/ws/model/v12/gen/interaction/activity}"
REPORT = hashlib.sha256(b"seed").digest() * 4096  # 128 KiB of binary, every byte value likely


async def test_client_application_uploads_creates_a_task_reads_it_back_and_downloads(
    client: httpx.AsyncClient, integrator: dict[str, str], demo_database: Database
) -> None:
    upload = await client.post(
        UPLOAD_URL,
        files={"attachment": ("call notes.bin", REPORT, "application/octet-stream")},
        headers=integrator,
    )
    assert upload.status_code == 201, upload.text
    alt_id = upload.json()["altId"]

    task = {
        "department": {"name": "Service"},
        "type": {"value": "task", "subtype": {"value": "callback"}},
        "subject": "Call Maria back",
        "payload": {"task": {"content": {"type": "text", "value": "About the refund."}}},
        "priority": "3",
        "customer": {"contacts": {"contact": [{"email": [{"emailAddress": MARIA}]}]}},
        "status": {"assigned": {"user": {"loginId": "agent1"}}},
        "attachments": {"attachment": [{"altId": alt_id}]},
    }
    created = await client.post(
        f"{TASK_URL}?searchContactOnAttribute=email.emailAddress&activityContact=email.emailAddress",
        headers=integrator,
        json=task,
    )
    task_id = location_id(created)

    as_json = await client.get(
        activity_url(task_id), params={"$attribute": "all"}, headers=integrator
    )
    assert as_json.status_code == 200
    [activity] = as_json.json()["activity"]
    assert activity["id"] == str(task_id)
    assert activity["type"]["subtype"]["value"] == "callback"
    assert activity["customer"]["id"] == await customer_id(demo_database, MARIA)
    assert activity["contactPointData"] == MARIA
    assert activity["priority"] == "3"
    assert activity["payload"]["task"]["content"] == [
        {"type": "text", "value": "About the refund."}
    ]
    [listed] = activity["attachments"]["attachment"]
    assert (listed["fileName"], listed["size"]) == ("call notes.bin", len(REPORT))
    async with demo_database.uow() as uow:
        stored = await uow.activities.get(task_id)
    assert stored is not None
    assert stored.assigned_user_id == await user_id(demo_database, "agent1")

    as_xml = await client.get(
        activity_url(task_id), headers={**integrator, "Accept": "application/xml"}
    )
    assert as_xml.status_code == 200
    root = fromstring(as_xml.content)
    xml_activity = root.find(f"{ACTIVITY_NS}activity")
    assert xml_activity is not None
    assert xml_activity.get("id") == str(task_id)
    assert xml_activity.findtext(f"{ACTIVITY_NS}subject") == "Call Maria back"

    download = await client.get(listed["link"]["href"], headers=integrator)
    assert download.status_code == 200
    assert download.content == REPORT
    # The upload now belongs to the task: it is no longer an upload anyone can fetch or reuse.
    assert (await client.get(upload.headers["location"], headers=integrator)).status_code == 404


async def test_customer_responds_for_herself_and_for_a_grantor_and_others_cannot_read_it(
    client: httpx.AsyncClient,
    refused: Refusals,
    maria: dict[str, str],
    leo: dict[str, str],
    sam: dict[str, str],
    demo_database: Database,
    blob_dir: Path,
) -> None:
    maria_email = await incoming_email(demo_database, blob_dir, MARIA)
    leo_email = await incoming_email(demo_database, blob_dir, LEO, subject="Where is my order")
    body = {
        "type": {"value": "email", "subtype": {"value": "general"}},
        "subject": "Re: Issue with mobile phone",
        "payload": {"email": {"content": {"type": "text", "value": "Any news?"}}},
    }

    own = location_id(await client.post(email_url(maria_email), headers=maria, json=body))
    leo_id = await customer_id(demo_database, LEO)
    for_leo = location_id(
        await client.post(f"{email_url(leo_email)}?customer={leo_id}", headers=maria, json=body)
    )

    response = await client.get(
        activity_url(f"{own},{for_leo}"), params={"$attribute": "all"}, headers=maria
    )
    assert response.status_code == 200
    mine, leos = response.json()["activity"]
    assert (mine["sentOnBehalf"], mine["customer"]["id"]) == (
        False,
        await customer_id(demo_database, MARIA),
    )
    assert (leos["sentOnBehalf"], leos["customer"]["id"]) == (True, leo_id)
    # Leo sees what was sent on his behalf; he holds no grant on Maria, so not hers.
    assert (await client.get(activity_url(for_leo), headers=leo)).status_code == 200
    await refused("GET", activity_url(own), 404, "404-101", headers=leo)
    # Sam sees neither Maria's email nor her response.
    for activity_id in (maria_email, own):
        await refused("GET", activity_url(activity_id), 404, "404-101", headers=sam)
