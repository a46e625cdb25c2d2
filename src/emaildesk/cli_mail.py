"""`emaildesk mail …`: feed messages in by hand, process received mail, and work the quarantine.

An edge like the transports: it opens units of work, calls the mail use cases
(services/mail_receive.py, mail_ingest.py, quarantine.py) and commits. `cli.py` registers the
group with `add_mail_commands`, handing over how it builds settings from the global options.

    mail import FILE.eml... --to ALIAS [--from ADDR] [--process]
    mail process                       process every RECEIVED message now, in this process
    mail quarantine list [--limit N]
    mail quarantine show ID
    mail quarantine download ID [-o FILE]
    mail quarantine reprocess ID... | --all

`process` and `reprocess` run the ingest use case here and now, so an operator sees each
outcome; the outbox jobs of those messages later find them handled and do nothing, and a server
running meanwhile cannot process one twice (the ingestion row is locked while it is processed).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from emaildesk.domain.ingestion import Ingestion, IngestionSource, IngestionState
from emaildesk.secrets_file import site_secret
from emaildesk.services.mail_config import MailConfig
from emaildesk.services.mail_ingest import ingest_received, read_message
from emaildesk.services.mail_receive import accepting_alias, receive_raw
from emaildesk.services.quarantine import (
    inspect,
    list_quarantined,
    raw_message,
    received_ingestions,
    reprocess,
)
from emaildesk.settings import Settings

if TYPE_CHECKING:  # imported when a command runs, so that `emaildesk --help` stays quick
    from emaildesk.db.blobs import FileBlobStore
    from emaildesk.db.database import Database

SettingsOf = Callable[[argparse.Namespace], Settings]
PAGE = 100
REASON_COLUMN = 70  # characters of a reason shown by `quarantine list`


@dataclass(frozen=True)
class _Site:
    settings: Settings
    database: Database
    blobs: FileBlobStore

    def mail_config(self) -> MailConfig:
        """As the composition root builds it (app.build_runtime): one secret per site."""
        return MailConfig(
            secret=site_secret(self.settings),
            domain=self.settings.mail_domain,
            subject_token=self.settings.subject_token,
            sender_rate_per_hour=self.settings.sender_rate_per_hour,
        )


@asynccontextmanager
async def _site(settings: Settings) -> AsyncIterator[_Site]:
    from emaildesk.db.blobs import FileBlobStore
    from emaildesk.db.database import Database

    database = Database(settings.effective_database_url)
    try:
        await database.migrate()
        yield _Site(settings, database, FileBlobStore(settings.blob_dir))
    finally:
        await database.dispose()


MailCommand = Callable[[_Site, argparse.Namespace], Awaitable[int]]


def _run(settings_of: SettingsOf, command: MailCommand, args: argparse.Namespace) -> int:
    """Run one subcommand's coroutine against the site the global options name."""

    async def body() -> int:
        async with _site(settings_of(args)) as site:
            return await command(site, args)

    return asyncio.run(body())


# --- import and process -------------------------------------------------------------------


async def _import(site: _Site, args: argparse.Namespace) -> int:
    recipients: list[str] = args.to
    async with site.database.uow() as uow:
        for address in recipients:
            if await accepting_alias(uow, address) is None:
                print(f"error: {address} is not an active alias of this site", file=sys.stderr)
                return 1
    paths: list[Path] = args.files
    received = []
    for path in paths:
        raw = await asyncio.to_thread(path.read_bytes)
        async with site.database.uow() as uow:
            ingestion = await receive_raw(
                uow,
                site.blobs,
                raw=raw,
                source=IngestionSource.CLI,
                envelope_from=args.envelope_from,
                recipients=recipients,
            )
            await uow.commit()
        assert ingestion.id is not None
        received.append(ingestion.id)
        print(f"{path}: received as ingestion {ingestion.id} ({len(raw)} bytes)")
    if not args.process:
        return 0
    config = site.mail_config()
    failed = [i for i in received if not await _process_one(site, config, i)]
    return 1 if failed else 0


async def _process(site: _Site, args: argparse.Namespace) -> int:
    config = site.mail_config()
    after_id, processed, failures = 0, 0, 0
    while True:
        async with site.database.uow() as uow:
            page = await received_ingestions(uow, limit=PAGE, after_id=after_id)
        if not page:
            break
        for listed in page:
            assert listed.id is not None
            after_id = listed.id
            processed += 1
            failures += not await _process_one(site, config, listed.id, listed)
    if processed == 0:
        print("no received messages waiting")
    return 1 if failures else 0


async def _process_one(
    site: _Site, config: MailConfig, ingestion_id: int, listed: Ingestion | None = None
) -> bool:
    """Process one message in its own unit of work; print the outcome. A failure is this
    message's alone (STYLE.md habit 7): it stays RECEIVED for its job to retry. A message
    already listed is read and parsed before the transaction, as the worker does."""
    try:
        read = None
        if listed is not None:
            with suppress(LookupError):  # missing: ingest_received quarantines it
                read = await read_message(site.blobs, listed.raw_sha256, listed.envelope_from)
        async with site.database.uow() as uow:
            ingestion = await ingest_received(
                uow, site.blobs, ingestion_id, settings=config, read=read
            )
            await uow.commit()
    except Exception as error:  # the per-message boundary
        print(
            f"ingestion {ingestion_id}: failed, left received: {type(error).__name__}: {error}",
            file=sys.stderr,
        )
        return False
    print(outcome_line(ingestion))
    return True


def outcome_line(ingestion: Ingestion) -> str:
    prefix = f"ingestion {ingestion.id}: {ingestion.state.value}"
    if ingestion.state is IngestionState.STORED:
        return f"{prefix} as activity {ingestion.activity_id} ({ingestion.reason})"
    if ingestion.state is IngestionState.DUPLICATE:
        return f"{prefix} of activity {ingestion.activity_id}"
    if ingestion.state is IngestionState.QUARANTINED:
        return f"{prefix}: {ingestion.reason}"
    return prefix


# --- quarantine ---------------------------------------------------------------------------


async def _list(site: _Site, args: argparse.Namespace) -> int:
    async with site.database.uow() as uow:
        found = await list_quarantined(uow, limit=args.limit)
    if not found:
        print("no quarantined messages")
        return 0
    print(f"{'ID':>6}  {'RECEIVED':<20}  {'SOURCE':<6}  {'BYTES':>9}  {'SENDER':<30}  REASON")
    for ingestion in found:
        reason = ingestion.reason or ""
        if len(reason) > REASON_COLUMN:
            reason = reason[: REASON_COLUMN - 1] + "…"
        print(
            f"{ingestion.id:>6}  {_time(ingestion):<20}  {ingestion.source.value:<6}  "
            f"{ingestion.size:>9}  {_sender(ingestion):<30}  {reason}"
        )
    return 0


async def _show(site: _Site, args: argparse.Namespace) -> int:
    async with site.database.uow() as uow:
        shown = await inspect(uow, site.blobs, args.id)
    ingestion = shown.ingestion
    recipients = ", ".join(f"<{r}>" for r in ingestion.recipients) or "(none)"
    lines = [
        f"ingestion {ingestion.id}: {ingestion.state.value}",
        f"reason:     {ingestion.reason or '-'}",
        f"received:   {_time(ingestion)} via {ingestion.source.value}, {ingestion.size} bytes",
        f"sha256:     {ingestion.raw_sha256}",
        f"envelope:   MAIL FROM:<{ingestion.envelope_from}> RCPT TO:{recipients}",
        f"sender:     {ingestion.sender or '-'}",
        f"message-id: {ingestion.message_id or '-'}",
    ]
    if ingestion.mailbox:
        lines.append(f"mailbox:    {ingestion.mailbox} uid {ingestion.remote_uid}")
    if ingestion.activity_id is not None:
        lines.append(f"activity:   {ingestion.activity_id}")
    lines.append("headers:")
    lines += [f"  {name}: {value}" for name, value in shown.headers] or ["  (none readable)"]
    print("\n".join(lines))
    return 0


async def _download(site: _Site, args: argparse.Namespace) -> int:
    async with site.database.uow() as uow:
        raw = await raw_message(uow, site.blobs, args.id)
    if args.output is None:
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()
        return 0
    output: Path = args.output
    await asyncio.to_thread(output.write_bytes, raw)
    print(f"wrote {len(raw)} bytes to {output}", file=sys.stderr)
    return 0


async def _reprocess(site: _Site, args: argparse.Namespace) -> int:
    ids: list[int] = list(args.ids)
    if not ids and not args.all:
        print("error: name the IDs to reprocess, or --all", file=sys.stderr)
        return 2
    if args.all:
        after_id = 0
        while True:
            async with site.database.uow() as uow:
                page = await list_quarantined(uow, limit=PAGE, after_id=after_id)
            if not page:
                break
            after_id = page[-1].id or after_id
            ids += [i.id for i in page if i.id is not None]
    if not ids:
        print("no quarantined messages")
        return 0
    for ingestion_id in ids:  # all requeued first: a failure below leaves them to the worker
        async with site.database.uow() as uow:
            await reprocess(uow, ingestion_id)
            await uow.commit()
    config = site.mail_config()
    failed = [i for i in ids if not await _process_one(site, config, i)]
    return 1 if failed else 0


def _time(ingestion: Ingestion) -> str:
    return ingestion.received_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sender(ingestion: Ingestion) -> str:
    return ingestion.sender or f"<{ingestion.envelope_from}>"


# --- registration -------------------------------------------------------------------------


def add_mail_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], settings_of: SettingsOf
) -> None:
    """Register `mail …` on the top-level subcommands (called from cli.build_parser)."""

    def bind(parser: argparse.ArgumentParser, command: MailCommand) -> None:
        parser.set_defaults(func=partial(_run, settings_of, command))

    mail = commands.add_parser("mail", help="received mail: import, process, quarantine")
    mail_commands = mail.add_subparsers(dest="mail_command", required=True)

    import_ = mail_commands.add_parser(
        "import", help="receive .eml files as if delivered to an alias (then: mail process)"
    )
    import_.add_argument("files", nargs="+", type=Path, metavar="FILE.eml")
    import_.add_argument(
        "--to", action="append", required=True, metavar="ALIAS", help="receiving alias (repeat)"
    )
    import_.add_argument(
        "--from", dest="envelope_from", default="", metavar="ADDR", help="envelope sender"
    )
    import_.add_argument("--process", action="store_true", help="process them now, too")
    bind(import_, _import)

    process = mail_commands.add_parser(
        "process", help="process every received message now (without a running worker)"
    )
    bind(process, _process)

    show_any = mail_commands.add_parser(
        "show", help="one received message (the id in SMTP's 'queued as'): outcome, activity, why"
    )
    show_any.add_argument("id", type=int)
    bind(show_any, _show)

    quarantine = mail_commands.add_parser("quarantine", help="messages that could not be stored")
    q_commands = quarantine.add_subparsers(dest="quarantine_command", required=True)
    list_ = q_commands.add_parser("list", help="quarantined messages, oldest first")
    list_.add_argument("--limit", type=int, default=PAGE)
    bind(list_, _list)
    show = q_commands.add_parser("show", help="reason, envelope and headers of one message")
    show.add_argument("id", type=int)
    bind(show, _show)
    download = q_commands.add_parser("download", help="the raw message, byte for byte")
    download.add_argument("id", type=int)
    download.add_argument("-o", "--output", type=Path, default=None, help="file (default stdout)")
    bind(download, _download)
    again = q_commands.add_parser("reprocess", help="process quarantined messages again")
    again.add_argument("ids", type=int, nargs="*", metavar="ID")
    again.add_argument("--all", action="store_true", help="every quarantined message")
    bind(again, _reprocess)
