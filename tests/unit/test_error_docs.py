"""docs/errors.md is exactly what scripts/gen-error-docs makes of the error registry."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

from emaildesk.domain.errors import all_specs

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATOR = REPO_ROOT / "scripts" / "gen-error-docs"
REFERENCE = REPO_ROOT / "docs" / "errors.md"


def _load_generator() -> ModuleType:
    # The script has no .py suffix (it is run as a command), so name the loader explicitly.
    loader = importlib.machinery.SourceFileLoader("gen_error_docs", str(GENERATOR))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_committed_reference_matches_the_generator() -> None:
    expected = _load_generator().render_reference()
    assert REFERENCE.read_text(encoding="utf-8") == expected, "run scripts/gen-error-docs"


def test_reference_lists_every_code_once() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    for spec in all_specs():
        assert text.count(f"| `{spec.code}` |") == 1, spec.code
