"""`emaildesk analytics …`: API keys of the analytics tenants, and the export backfill.

An edge like the HTTP API: it opens units of work, calls the analytics use cases and commits.
`cli.py` registers the group with `add_analytics_commands`, handing over how it builds settings
from the global options.

    analytics keys create --tenant NAME [--name NAME]   prints the new key once
    analytics keys list [--tenant NAME]
    analytics keys revoke ID
    analytics export --since DATE                       progress on stderr

`export` posts every closed email of the routed departments created since DATE (ISO date or
date-time, UTC unless an offset is given), one contact per email, here and now. An email that
cannot be delivered is handed to the outbox (`analytics.export`), which retries it with backoff
while a server or `emaildesk worker` runs; the command then exits 1 and says how many. Running it
twice is harmless: the receiver stores each msgId once.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TextIO

from emaildesk.api.uniphore.client import HttpContactSender
from emaildesk.db.database import Database
from emaildesk.services.analytics_export import (
    ContactSender,
    ExportError,
    backfill_count,
    backfill_page,
    enqueue_activity_export,
    export_activity,
)
from emaildesk.services.analytics_keys import create_key, list_keys, revoke_key
from emaildesk.settings import Settings

SettingsOf = Callable[[argparse.Namespace], Settings]
PAGE = 100
BAR_WIDTH = 30


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.effective_database_url)
    try:
        await database.migrate()
        yield database
    finally:
        await database.dispose()


# --- keys -------------------------------------------------------------------------------------


async def _create(database: Database, args: argparse.Namespace) -> int:
    async with database.uow() as uow:
        key, plain = await create_key(uow, args.tenant, args.name)
        await uow.commit()
    print(f"API key {key.id} '{key.name}' of tenant '{args.tenant}' (shown only now):")
    print(plain)
    return 0


async def _list(database: Database, args: argparse.Namespace) -> int:
    async with database.uow() as uow:
        listed = await list_keys(uow, args.tenant)
    if not listed:
        print("no API keys")
        return 0
    print(f"{'ID':>5}  {'TENANT':<24}  {'NAME':<24}  {'CREATED':<20}  STATE")
    for item in listed:
        key = item.key
        state = "live" if key.active else f"revoked {_time(key.revoked_at)}"
        print(
            f"{key.id:>5}  {item.tenant_name:<24}  {key.name:<24}  {_time(key.created_at):<20}  "
            f"{state}"
        )
    return 0


async def _revoke(database: Database, args: argparse.Namespace) -> int:
    async with database.uow() as uow:
        key = await revoke_key(uow, args.id)
        await uow.commit()
    print(f"API key {key.id} '{key.name}' revoked")
    return 0


def _time(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


# --- export -----------------------------------------------------------------------------------


class Progress:
    """`export [#####-----] 12/40 sent, 1 deferred` on one line of stderr, redrawn in place."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.sent = 0
        self.deferred = 0

    def draw(self) -> None:
        done = self.sent + self.deferred
        filled = BAR_WIDTH * done // self.total if self.total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        line = f"export [{bar}] {done}/{self.total} sent {self.sent}, deferred {self.deferred}"
        self.stream.write("\r" + line)
        self.stream.flush()

    def finish(self) -> None:
        self.draw()
        self.stream.write("\n")
        self.stream.flush()


def parse_since(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: '{text}'") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def backfill(
    database: Database, sender: ContactSender, since: datetime, stream: TextIO
) -> Progress:
    async with database.uow() as uow:
        progress = Progress(await backfill_count(uow, since), stream)
    progress.draw()
    after_id = 0
    while True:
        async with database.uow() as uow:
            page = await backfill_page(uow, since, after_id, PAGE)
        if not page:
            break
        for activity_id in page:
            after_id = activity_id
            try:
                await export_activity(database.uow, sender, activity_id)
                progress.sent += 1
            except ExportError as error:  # this email's problem alone: the outbox retries it
                async with database.uow() as uow:
                    await enqueue_activity_export(uow, activity_id)
                    await uow.commit()
                progress.deferred += 1
                stream.write(f"\nactivity {activity_id}: deferred to the outbox: {error.reason}\n")
            progress.draw()
    progress.finish()
    return progress


async def _export(database: Database, args: argparse.Namespace) -> int:
    async with database.uow() as uow:
        settings = await uow.analytics_export.settings()
    if settings is None or not settings.enabled:
        print(
            "error: analytics export is not configured (site file [analytics.export])",
            file=sys.stderr,
        )
        return 1
    progress = await backfill(database, HttpContactSender(), args.since, sys.stderr)
    print(f"exported {progress.sent} of {progress.total} emails since {args.since.isoformat()}")
    if progress.deferred:
        print(f"{progress.deferred} deferred to the outbox for retry", file=sys.stderr)
        return 1
    return 0


# --- registration -----------------------------------------------------------------------------

Command = Callable[[Database, argparse.Namespace], Awaitable[int]]


def _runner(settings_of: SettingsOf, command: Command) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        async def body() -> int:
            async with _database(settings_of(args)) as database:
                return await command(database, args)

        return asyncio.run(body())

    return run


def add_analytics_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], settings_of: SettingsOf
) -> None:
    analytics = commands.add_parser("analytics", help="conversation analytics: keys, export")
    group = analytics.add_subparsers(dest="analytics_command", required=True)

    keys = group.add_parser("keys", help="API keys of the analytics tenants")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key (printed once)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--name", default=None, help="unique within the tenant")
    create.set_defaults(func=_runner(settings_of, _create))
    listing = key_commands.add_parser("list", help="list keys (never their values)")
    listing.add_argument("--tenant", default=None)
    listing.set_defaults(func=_runner(settings_of, _list))
    revoke = key_commands.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=_runner(settings_of, _revoke))

    export = group.add_parser("export", help="post finished conversations since a date")
    export.add_argument("--since", required=True, type=parse_since, help="ISO date, UTC")
    export.set_defaults(func=_runner(settings_of, _export))
