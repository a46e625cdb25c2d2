"""The operator CLI: `emaildesk serve | worker | init | migrate | site apply | ...`.

A thin edge like the HTTP API: it builds settings, opens units of work and calls the same use
cases. Long jobs print progress; failures print the domain error's code and message and exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from emaildesk.domain.errors import DomainError
from emaildesk.settings import Settings, load_settings

DEMO_SITE = Path(__file__).parent / "demo" / "site.toml"


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    if args.database_url is not None:
        overrides["database_url"] = args.database_url
    return load_settings(args.config, **overrides)


async def _migrate(settings: Settings) -> None:
    from emaildesk.db.database import Database

    database = Database(settings.effective_database_url)
    try:
        await database.migrate()
    finally:
        await database.dispose()


async def _apply_site_file(settings: Settings, path: Path, only_if_new: bool = False) -> bool:
    """Apply a site file; with `only_if_new`, skip when the site already has departments.
    Returns whether the file was applied."""
    from emaildesk.db.database import Database
    from emaildesk.services.passwords import Argon2PasswordHasher
    from emaildesk.services.site import apply_site
    from emaildesk.sitefile import load_site_file

    spec = load_site_file(path)
    database = Database(settings.effective_database_url)
    try:
        await database.migrate()
        async with database.uow() as uow:
            if only_if_new and await uow.directory.departments():
                return False
            report = await apply_site(uow, spec, Argon2PasswordHasher())
            await uow.commit()
        print(report.summary())
        return True
    finally:
        await database.dispose()


def cmd_migrate(args: argparse.Namespace) -> int:
    asyncio.run(_migrate(_settings(args)))
    print("schema is up to date")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if not args.demo:
        asyncio.run(_migrate(settings))
        print(f"initialized an empty site in {settings.data_dir}")
        return 0
    applied = asyncio.run(_apply_site_file(settings, DEMO_SITE, only_if_new=args.if_new))
    if applied:
        print(f"demo site created in {settings.data_dir} (logins: see README.md, 'Demo site')")
    else:
        print(f"reusing the existing site in {settings.data_dir}")
    return 0


def cmd_site_apply(args: argparse.Namespace) -> int:
    asyncio.run(_apply_site_file(_settings(args), args.file))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from emaildesk.server import serve

    asyncio.run(serve(_settings(args)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emaildesk", description=__doc__)
    parser.add_argument("--config", type=Path, default=None, help="TOML settings file")
    parser.add_argument("--data-dir", type=Path, default=None, help="data directory (default ./var)")
    parser.add_argument("--database-url", default=None, help="SQLAlchemy URL (default SQLite)")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API and in-process workers")
    serve.set_defaults(func=cmd_serve)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(func=cmd_migrate)

    init = commands.add_parser("init", help="create the schema, optionally with the demo site")
    init.add_argument("--demo", action="store_true", help="apply the bundled demo site")
    init.add_argument("--if-new", action="store_true", help="only when the site is empty")
    init.set_defaults(func=cmd_init)

    site = commands.add_parser("site", help="manage the site directory")
    site_commands = site.add_subparsers(dest="site_command", required=True)
    apply = site_commands.add_parser("apply", help="apply a site file (idempotent)")
    apply.add_argument("file", type=Path)
    apply.set_defaults(func=cmd_site_apply)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except DomainError as exc:
        print(f"error {exc.code}: {exc.english()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
