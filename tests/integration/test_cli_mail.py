"""`emaildesk mail …` run as an operator runs it: real processes against a SQLite data directory
with the demo site (import, process, then the quarantine: list, show, download, reprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from emaildesk.db.database import Database
from emaildesk.domain.ingestion import IngestionState

TIMEOUT_SECONDS = 120


def emaildesk(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EMAILDESK_")}
    return subprocess.run(
        [sys.executable, "-m", "emaildesk.cli", "--data-dir", str(data_dir), *args],
        capture_output=True,
        env={**clean, **(env or {})},
        cwd=data_dir.parent,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def out(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def eml(path: Path, *, subject: str, message_id: str, attachment: bytes | None = None) -> Path:
    msg = EmailMessage()
    msg["From"] = "Jane Doe <jane@customer.org>"
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{message_id}>"
    msg.set_content("Hello, my order did not arrive.")
    if attachment is not None:
        msg.add_attachment(
            attachment, maintype="application", subtype="octet-stream", filename="label.bin"
        )
    path.write_bytes(msg.as_bytes(policy=SMTP))
    return path


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `init --demo` per module (argon2 hashing of the demo users is slow); each test
    copies it."""
    data_dir = tmp_path_factory.mktemp("demo") / "var"
    out(emaildesk(data_dir, "init", "--demo"))
    return data_dir


@pytest.fixture
def data_dir(demo_template: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "var"
    shutil.copytree(demo_template, target)
    return target


async def states(data_dir: Path) -> dict[int, IngestionState]:
    database = Database(f"sqlite+aiosqlite:///{data_dir / 'emaildesk.sqlite3'}")
    try:
        async with database.uow() as uow:
            found = {}
            for state in IngestionState:
                for ingestion in await uow.ingestions.in_state(state):
                    assert ingestion.id is not None
                    found[ingestion.id] = state
            return found
    finally:
        await database.dispose()


@pytest.mark.slow
async def test_mail_import_process_quarantine_and_reprocess_as_an_operator(
    data_dir: Path, tmp_path: Path
) -> None:
    first = eml(tmp_path / "first.eml", subject="Order 1", message_id="o1@customer.org")
    second = eml(
        tmp_path / "second.eml",
        subject="Order 2",
        message_id="o2@customer.org",
        attachment=bytes(range(256)),
    )
    strict = {"EMAILDESK_SENDER_RATE_PER_HOUR": "1"}

    imported = out(
        emaildesk(
            data_dir, "mail", "import", str(first), str(second), "--to", "support@example.com"
        )
    )
    processed = out(emaildesk(data_dir, "mail", "process", env=strict))
    listed = out(emaildesk(data_dir, "mail", "quarantine", "list"))
    shown = out(emaildesk(data_dir, "mail", "quarantine", "show", "2"))
    downloaded = emaildesk(data_dir, "mail", "quarantine", "download", "2")
    saved = tmp_path / "saved.eml"
    out(emaildesk(data_dir, "mail", "quarantine", "download", "2", "-o", str(saved)))

    assert "received as ingestion 1" in imported and "received as ingestion 2" in imported
    assert "ingestion 1: stored as activity 1" in processed
    assert (
        "ingestion 2: quarantined: rate limit: 2 messages from jane@customer.org in the last hour"
        in processed
    )
    assert listed.splitlines()[0].split() == [
        "ID",
        "RECEIVED",
        "SOURCE",
        "BYTES",
        "SENDER",
        "REASON",
    ]
    row = listed.splitlines()[1].split()
    assert row[0] == "2" and row[2] == "cli" and row[4] == "jane@customer.org"
    assert "reason:     rate limit: 2 messages" in shown
    assert "envelope:   MAIL FROM:<> RCPT TO:<support@example.com>" in shown
    assert "  Subject: Order 2" in shown
    assert "  Message-ID: <o2@customer.org>" in shown
    assert downloaded.returncode == 0 and downloaded.stdout == second.read_bytes()
    assert saved.read_bytes() == second.read_bytes()

    # Still over the limit: reprocessing quarantines it again, with the same reason.
    still = out(emaildesk(data_dir, "mail", "quarantine", "reprocess", "2", env=strict))
    assert "ingestion 2: quarantined: rate limit" in still
    # The cause fixed (the default limit is 120 an hour), it is stored.
    again = out(emaildesk(data_dir, "mail", "quarantine", "reprocess", "--all"))
    assert "ingestion 2: stored as activity 2" in again
    assert out(emaildesk(data_dir, "mail", "quarantine", "list")).strip() == (
        "no quarantined messages"
    )
    assert await states(data_dir) == {1: IngestionState.STORED, 2: IngestionState.STORED}
    # Processing again finds nothing: every outcome is final.
    assert out(emaildesk(data_dir, "mail", "process")).strip() == "no received messages waiting"


@pytest.mark.slow
def test_mail_import_refuses_an_address_that_is_not_an_active_alias(
    data_dir: Path, tmp_path: Path
) -> None:
    first = eml(tmp_path / "first.eml", subject="Hi", message_id="h@customer.org")

    retired = emaildesk(data_dir, "mail", "import", str(first), "--to", "old-support@example.com")

    assert retired.returncode == 1
    assert b"old-support@example.com is not an active alias" in retired.stderr
    assert b"received as ingestion" not in retired.stdout


@pytest.mark.slow
def test_mail_import_with_process_stores_at_once(data_dir: Path, tmp_path: Path) -> None:
    first = eml(tmp_path / "first.eml", subject="Hi", message_id="h@customer.org")

    result = out(
        emaildesk(data_dir, "mail", "import", "--process", str(first), "--to", "sales@example.com")
    )

    assert "ingestion 1: stored as activity 1" in result


@pytest.mark.slow
def test_quarantine_commands_name_an_unknown_id(data_dir: Path) -> None:
    shown = emaildesk(data_dir, "mail", "quarantine", "show", "99")
    again = emaildesk(data_dir, "mail", "quarantine", "reprocess")

    assert shown.returncode == 1
    assert b"error 404-" in shown.stderr and b"Traceback" not in shown.stderr
    assert again.returncode == 2
    assert b"name the IDs to reprocess, or --all" in again.stderr
