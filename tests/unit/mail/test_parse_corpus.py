"""Issue #4's "100% of messages ingested": every message of the benchmark corpus parses with the
subject, sender, recipient and attachments its manifest says it has.

The corpus comes from the shared, deterministic, stdlib-only generator, run here into a
temporary directory. Its manifest counts each PDF attachment one byte larger than the PDF it
writes (`fake_blob` reserves 8 bytes for a 7-byte "%%EOF" tail), so the expected byte count is
corrected by one per PDF.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emaildesk.mail.parse import parse_message

GENERATOR = Path("/work/shared/bench/gen_corpus.py")
QUICK_CORPUS_SIZE = 50
PDF_TAIL_SHORTFALL = 1


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, object]]]:
    out = tmp_path_factory.mktemp("corpus")
    return out, generate(out)


def generate(out: Path) -> list[dict[str, object]]:
    subprocess.run(
        [sys.executable, str(GENERATOR), "--quick", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    lines = (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_every_corpus_message_parses_as_its_manifest_says(
    corpus: tuple[Path, list[dict[str, object]]],
) -> None:
    tmp_path, manifest = corpus
    assert len(manifest) == QUICK_CORPUS_SIZE
    mismatches: list[str] = []
    for entry in manifest:
        parsed = parse_message((tmp_path / str(entry["file"])).read_bytes())
        pdfs = sum(a.content_type == "application/pdf" for a in parsed.attachments)
        got = {
            "subject": parsed.subject,
            "from": parsed.from_address,
            "to": parsed.to,
            "message_id": f"<{parsed.message_id}>",
            "n_attach": len(parsed.attachments),
            "attach_bytes": sum(len(a.data) for a in parsed.attachments)
            + pdfs * PDF_TAIL_SHORTFALL,
            "has_text": parsed.text is not None and parsed.text.strip() != "",
            "defects": parsed.defects,
        }
        expected = {
            "subject": entry["subject"],
            "from": entry["from"],
            "to": [entry["to"]],
            "message_id": entry["message_id"],
            "n_attach": entry["n_attach"],
            "attach_bytes": entry["attach_bytes"],
            "has_text": True,
            "defects": [],
        }
        if got != expected:
            mismatches.append(f"{entry['file']}: {got} != {expected}")
    assert not mismatches, "\n".join(mismatches)


def test_corpus_html_messages_keep_their_inline_image_referenced(
    corpus: tuple[Path, list[dict[str, object]]],
) -> None:
    tmp_path, manifest = corpus
    related = [entry for entry in manifest if entry["kind"] == "related"]
    assert related, "the quick corpus has html messages with an inline image"
    for entry in related:
        parsed = parse_message((tmp_path / str(entry["file"])).read_bytes())
        inline = [a for a in parsed.attachments if a.inline]
        assert len(inline) == 1
        assert parsed.html is not None
        assert f"cid:{inline[0].content_id}" in parsed.html
