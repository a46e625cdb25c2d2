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


async def _apply_site_file(
    settings: Settings,
    path: Path,
    only_if_new: bool = False,
    *,
    dry_run: bool = False,
    self_contained: bool = False,
) -> bool:
    """Apply a site file; with `only_if_new`, skip when the site already has departments;
    with `dry_run`, print what would change and roll back. Returns whether the file was applied.
    Every problem, in the file or found while applying, is raised as a `SiteFileError` naming
    the entry at fault (`users[2].home_department: ...`)."""
    from emaildesk.db.database import Database
    from emaildesk.services.passwords import Argon2PasswordHasher
    from emaildesk.services.site import apply_site
    from emaildesk.sitefile import load_site_file, site_error_from_domain

    spec = load_site_file(path, self_contained=self_contained)
    database = Database(settings.effective_database_url)
    try:
        await database.migrate()
        async with database.uow() as uow:
            if only_if_new and await uow.directory.departments():
                return False
            try:
                report = await apply_site(uow, spec, Argon2PasswordHasher())
            except DomainError as error:
                raise site_error_from_domain(str(path), error) from None
            if not dry_run:
                await uow.commit()
        print(report.summary())
        if dry_run:
            print("dry run: nothing was saved")
        return True
    finally:
        await database.dispose()


def cmd_migrate(args: argparse.Namespace) -> int:
    asyncio.run(_migrate(_settings(args)))
    print("schema is up to date")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from emaildesk.sitefile import SiteFileError

    settings = _settings(args)
    if not args.demo:
        asyncio.run(_migrate(settings))
        print(f"initialized an empty site in {settings.data_dir}")
        return 0
    try:
        # The bundled demo must stand on its own: every name it uses is defined in it.
        applied = asyncio.run(
            _apply_site_file(settings, DEMO_SITE, only_if_new=args.if_new, self_contained=True)
        )
    except SiteFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if applied:
        print(f"demo site created in {settings.data_dir} (logins: see README.md, 'Demo site')")
    else:
        print(f"reusing the existing site in {settings.data_dir}")
    return 0


def cmd_site_apply(args: argparse.Namespace) -> int:
    from emaildesk.sitefile import SiteFileError

    try:
        asyncio.run(_apply_site_file(_settings(args), args.file, dry_run=args.dry_run))
    except SiteFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from emaildesk.server import serve

    asyncio.run(serve(_settings(args)))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from emaildesk.worker_process import run_worker

    asyncio.run(run_worker(_settings(args)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emaildesk", description=__doc__)
    parser.add_argument("--config", type=Path, default=None, help="TOML settings file")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="data directory (default ./var)"
    )
    parser.add_argument("--database-url", default=None, help="SQLAlchemy URL (default SQLite)")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API and in-process workers")
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser("worker", help="run only the outbox workers (scale-out)")
    worker.set_defaults(func=cmd_worker)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(func=cmd_migrate)

    init = commands.add_parser("init", help="create the schema, optionally with the demo site")
    init.add_argument("--demo", action="store_true", help="apply the bundled demo site")
    init.add_argument("--if-new", action="store_true", help="only when the site is empty")
    init.set_defaults(func=cmd_init)

    site = commands.add_parser("site", help="manage the site directory")
    site_commands = site.add_subparsers(dest="site_command", required=True)
    apply = site_commands.add_parser(
        "apply",
        help="apply a site file (idempotent; never deletes; format: docs/site-file.md)",
    )
    apply.add_argument("file", type=Path)
    apply.add_argument(
        "--dry-run", action="store_true", help="check and report the changes, save nothing"
    )
    apply.set_defaults(func=cmd_site_apply)

    from emaildesk.cli_mail import add_mail_commands  # `emaildesk mail …` (cli_mail.py)

    add_mail_commands(commands, _settings)

    from emaildesk.cli_analytics import add_analytics_commands  # `emaildesk analytics …`

    add_analytics_commands(commands, _settings)
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
