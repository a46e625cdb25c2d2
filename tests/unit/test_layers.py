"""Dependencies point inward (DESIGN.md "Layout and what each part may import", STYLE.md habit 1).

Every module under src/emaildesk is parsed with `ast` (nothing is imported, so a module with
import-time side effects cannot hide from the check) and each import is resolved to a module
name, relative imports included. Imports under `if TYPE_CHECKING:` count too: a type-only
dependency on an outer layer is still a dependency the inner layer should not know about.

- `domain/`: nothing of ours outside `domain/`, and no third-party package at all.
- `mail/`: nothing of ours outside `mail/`; third-party only `nh3` (HTML sanitizing).
- `services/`: ours only from `domain/`, `mail/`, `services/`; third-party only `argon2`
  (password hashing is a crypto primitive, not a framework).
- `db/`: never the edges (api, transports, workers, realtime, console) nor the composition root.
- Nothing imports the composition root except the composition root.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "emaildesk"

EDGES = ("api", "transports", "workers", "realtime", "console")
# DESIGN.md names app.py and cli.py as the composition root; server.py is the body of
# `emaildesk serve` that cli.py calls, so it builds the app too.
COMPOSITION_ROOT = frozenset(
    {"emaildesk.app", "emaildesk.cli", "emaildesk.server", "emaildesk.worker_process"}
)
MAIL_THIRD_PARTY = frozenset({"nh3"})
SERVICES_THIRD_PARTY = frozenset({"argon2"})


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted and absolute
    line: int
    text: str  # the statement as written, for the failure message


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def known_modules(src: Path = SRC) -> frozenset[str]:
    return frozenset(module_name(p, src) for p in (src / PACKAGE).rglob("*.py"))


def imports_of(
    module: str, source: str, package: bool = False, known: frozenset[str] = frozenset()
) -> Iterator[Import]:
    """Every import in `source`, resolved to absolute targets. `from pkg import name` targets
    `pkg.name` when that is one of our modules, else `pkg`."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno, f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            base = resolve_relative(module, package, node.level, node.module)
            names = ", ".join(a.name for a in node.names)
            text = f"from {'.' * node.level}{node.module or ''} import {names}"
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                target = candidate if candidate in known else base
                yield Import(module, target, node.lineno, text)


def resolve_relative(module: str, package: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    parts = module.split(".")
    if not package:
        parts = parts[:-1]  # a plain module's relative imports start from its package
    parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*parts, name] if name else parts)


def top(target: str) -> str:
    return target.split(".", 1)[0]


def is_stdlib(target: str) -> bool:
    return top(target) in sys.stdlib_module_names


def is_ours(target: str) -> bool:
    return top(target) == PACKAGE


def within(target: str, *areas: str) -> bool:
    return any(target == f"{PACKAGE}.{a}" or target.startswith(f"{PACKAGE}.{a}.") for a in areas)


def area_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violation(imp: Import) -> str | None:
    """Why this import points the wrong way, or None when it is allowed."""
    area, target = area_of(imp.module), imp.target
    if is_ours(target) and target in COMPOSITION_ROOT and imp.module not in COMPOSITION_ROOT:
        return "only the composition root (app, cli, server) may import the composition root"
    if area == "domain":
        if is_ours(target) and not within(target, "domain"):
            return "domain/ imports nothing of ours outside domain/"
        if not is_ours(target) and not is_stdlib(target):
            return "domain/ imports no third-party package (stdlib only)"
    elif area == "mail":
        if is_ours(target) and not within(target, "mail"):
            return "mail/ imports nothing of ours outside mail/"
        if not is_ours(target) and not is_stdlib(target) and top(target) not in MAIL_THIRD_PARTY:
            return f"mail/ imports only the stdlib and {sorted(MAIL_THIRD_PARTY)}"
    elif area == "services":
        if is_ours(target) and not within(target, "domain", "mail", "services"):
            return "services/ import only domain/, mail/ and services/ of ours"
        if (
            not is_ours(target)
            and not is_stdlib(target)
            and top(target) not in SERVICES_THIRD_PARTY
        ):
            return f"services/ import no framework (stdlib and {sorted(SERVICES_THIRD_PARTY)})"
    elif area == "db" and is_ours(target) and within(target, *EDGES):
        return "db/ must not import the edges (api, transports, workers, realtime, console)"
    return None


def check_source(
    module: str, source: str, package: bool = False, known: frozenset[str] = frozenset()
) -> list[str]:
    """One line per wrong-way import: module, line, the statement, and the rule it breaks."""
    found: dict[str, None] = {}  # ordered set: `from x import a, b` is one problem, not two
    for imp in imports_of(module, source, package, known):
        reason = violation(imp)
        if reason:
            found[f"{imp.module}:{imp.line}: `{imp.text}` -> {imp.target}: {reason}"] = None
    return list(found)


def check_tree(src: Path = SRC) -> list[str]:
    known = known_modules(src)
    found: list[str] = []
    for path in sorted((src / PACKAGE).rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        found += check_source(module_name(path, src), source, is_package(path), known)
    return found


# --- the rule, on the real tree -------------------------------------------------------------


def test_imports_point_inward() -> None:
    problems = check_tree()
    assert not problems, "imports pointing the wrong way (DESIGN.md):\n" + "\n".join(problems)


def test_the_walk_sees_every_layer() -> None:
    """Guard against a walk that silently checks nothing (wrong root, renamed package)."""
    modules = known_modules()
    for expected in ("emaildesk.domain.errors", "emaildesk.db.uow", "emaildesk.services.ports"):
        assert expected in modules
    assert any(imp.target == "sqlalchemy" for imp in imports_of_module("emaildesk.db.engine"))


def imports_of_module(module: str) -> list[Import]:
    path = SRC / Path(*module.split(".")).with_suffix(".py")
    return list(imports_of(module, path.read_text(encoding="utf-8"), known=known_modules()))


# --- the checker catches what it should (so the rule above can fail) ------------------------

KNOWN = frozenset(
    {
        "emaildesk.domain",
        "emaildesk.domain.errors",
        "emaildesk.db",
        "emaildesk.db.tables",
        "emaildesk.api",
        "emaildesk.api.runtime",
        "emaildesk.app",
        "emaildesk.cli",
        "emaildesk.mail",
        "emaildesk.mail.parse",
        "emaildesk.services",
        "emaildesk.services.ports",
    }
)

BAD = [
    ("emaildesk.domain.fake", "from sqlalchemy import select", "third-party"),
    ("emaildesk.domain.fake", "import pydantic", "third-party"),
    ("emaildesk.domain.fake", "from emaildesk.db.tables import users", "outside domain"),
    ("emaildesk.domain.fake", "from emaildesk.services import ports", "outside domain"),
    ("emaildesk.domain.fake", "from ..db import tables", "outside domain"),
    ("emaildesk.domain.fake", "import emaildesk.mail.parse", "outside domain"),
    ("emaildesk.mail.fake", "from emaildesk.domain import errors", "outside mail"),
    ("emaildesk.mail.fake", "import fastapi", "stdlib"),
    ("emaildesk.services.fake", "from sqlalchemy.ext.asyncio import AsyncSession", "framework"),
    ("emaildesk.services.fake", "import fastapi", "framework"),
    ("emaildesk.services.fake", "from starlette.requests import Request", "framework"),
    ("emaildesk.services.fake", "from pydantic import BaseModel", "framework"),
    ("emaildesk.services.fake", "import aiosmtpd.smtp", "framework"),
    ("emaildesk.services.fake", "from emaildesk.db.tables import users", "only domain"),
    ("emaildesk.services.fake", "from emaildesk.api.runtime import runtime_of", "only domain"),
    ("emaildesk.db.fake", "from emaildesk.api import runtime", "edges"),
    ("emaildesk.db.fake", "from emaildesk.workers.outbox_worker import X", "edges"),
    ("emaildesk.db.fake", "import emaildesk.transports.smtp", "edges"),
    ("emaildesk.db.fake", "from emaildesk import app", "composition root"),
    ("emaildesk.db.fake", "from emaildesk.cli import main", "composition root"),
    ("emaildesk.api.fake", "from emaildesk.app import create_app", "composition root"),
    ("emaildesk.settings", "from emaildesk import cli", "composition root"),
    ("emaildesk.domain.fake", "if TYPE_CHECKING:\n    from sqlalchemy import Table", "third"),
    ("emaildesk.domain.fake", "def f():\n    import httpx\n    return httpx", "third-party"),
]

GOOD = [
    ("emaildesk.domain.fake", "from __future__ import annotations"),
    ("emaildesk.domain.fake", "import re\nfrom datetime import UTC\nfrom collections import abc"),
    ("emaildesk.domain.fake", "from emaildesk.domain import errors"),
    ("emaildesk.domain.fake", "from . import errors\nfrom .errors import N_"),
    ("emaildesk.mail.fake", "import email.policy\nimport nh3\nfrom emaildesk.mail import parse"),
    ("emaildesk.services.fake", "import argon2\nfrom emaildesk.domain import errors"),
    ("emaildesk.services.fake", "from emaildesk.mail.parse import x\nfrom .ports import Uow"),
    ("emaildesk.db.fake", "import sqlalchemy\nfrom emaildesk.domain import errors"),
    ("emaildesk.db.fake", "from emaildesk.services.ports import UnitOfWork"),
    ("emaildesk.api.fake", "import fastapi\nfrom emaildesk.db import tables"),
    ("emaildesk.cli", "from emaildesk.app import create_app"),
    ("emaildesk.app", "from emaildesk import cli"),
]


@pytest.mark.parametrize(("module", "source", "reason"), BAD)
def test_layer_checker_catches_a_bad_import(module: str, source: str, reason: str) -> None:
    problems = check_source(module, source, known=KNOWN)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{module}:")
    assert reason in problems[0]


@pytest.mark.parametrize(("module", "source"), GOOD)
def test_layer_checker_allows_a_good_import(module: str, source: str) -> None:
    assert check_source(module, source, known=KNOWN) == []


def test_layer_checker_message_names_module_line_and_import() -> None:
    source = "import re\n\nfrom sqlalchemy import select, text\n"
    (problem,) = check_source("emaildesk.domain.fake", source, known=KNOWN)
    assert problem.startswith("emaildesk.domain.fake:3: `from sqlalchemy import select, text`")


def test_layer_checker_walks_a_tree_on_disk(tmp_path: Path) -> None:
    domain = tmp_path / PACKAGE / "domain"
    domain.mkdir(parents=True)
    (tmp_path / PACKAGE / "__init__.py").write_text("")
    (domain / "__init__.py").write_text("from .. import db\n")
    (domain / "ok.py").write_text("from . import bad\nimport json\n")
    (domain / "bad.py").write_text("import json\n\nfrom emaildesk.db import tables\n")
    (tmp_path / PACKAGE / "db").mkdir()
    (tmp_path / PACKAGE / "db" / "__init__.py").write_text("")
    (tmp_path / PACKAGE / "db" / "tables.py").write_text("import sqlalchemy\n")
    problems = check_tree(tmp_path)
    assert problems == [
        "emaildesk.domain:1: `from .. import db` -> emaildesk.db: "
        "domain/ imports nothing of ours outside domain/",
        "emaildesk.domain.bad:3: `from emaildesk.db import tables` -> emaildesk.db.tables: "
        "domain/ imports nothing of ours outside domain/",
    ]


@pytest.mark.parametrize(
    ("module", "package", "level", "name", "expected"),
    [
        ("emaildesk.domain.customers", False, 1, "errors", "emaildesk.domain.errors"),
        ("emaildesk.domain.customers", False, 1, None, "emaildesk.domain"),
        ("emaildesk.domain.customers", False, 2, "db", "emaildesk.db"),
        ("emaildesk.domain", True, 1, "errors", "emaildesk.domain.errors"),
        ("emaildesk.domain", True, 2, None, "emaildesk"),
        ("emaildesk.db.repositories.base", False, 2, "tables", "emaildesk.db.tables"),
    ],
)
def test_relative_imports_resolve_from_the_module_package(
    module: str, package: bool, level: int, name: str | None, expected: str
) -> None:
    assert resolve_relative(module, package, level, name) == expected
