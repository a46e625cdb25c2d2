"""Catalog completeness and Accept-Language negotiation (api/i18n.py).

The catalog tests read the committed .po/.pot files, so adding an ErrorSpec without running
scripts/update-catalogs and translating it fails here. The Translator tests read the compiled
.mo files, which scripts/compile-catalogs (run by the Makefile before tests) produces.
"""

from __future__ import annotations

import gettext
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from emaildesk.api.i18n import (
    DEFAULT_LOCALE,
    SUPPORTED_LOCALES,
    CatalogMissingError,
    Translator,
    default_locale_dir,
    negotiate_locale,
)
from emaildesk.domain import errors
from emaildesk.domain.errors import DomainError, all_specs

REPO_ROOT = Path(__file__).resolve().parents[3]
LOCALE_DIR = default_locale_dir()
POT_PATH = LOCALE_DIR / "emaildesk.pot"
TRANSLATED = [tag for tag in SUPPORTED_LOCALES if tag != "en-US"]
SPEC_MESSAGES = {spec.message for spec in all_specs()}


def _po_path(tag: str) -> Path:
    return LOCALE_DIR / tag.replace("-", "_") / "LC_MESSAGES" / "emaildesk.po"


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def _entries(catalog: Catalog) -> dict[str, tuple[str, bool]]:
    """msgid → (msgstr, fuzzy) for every non-header message."""
    return {
        str(message.id): (str(message.string), message.fuzzy) for message in catalog if message.id
    }


# --- catalogs ---------------------------------------------------------------------------------


def _pot_ids() -> set[str]:
    return set(_entries(_read(POT_PATH)))


def test_every_registered_error_is_in_the_pot() -> None:
    missing = SPEC_MESSAGES - _pot_ids()
    assert not missing, f"run scripts/update-catalogs; not in the .pot: {sorted(missing)}"


def test_pot_is_what_extraction_produces_today(tmp_path: Path) -> None:
    """Same extraction as scripts/update-catalogs: catches msgids added, reworded or removed.

    The .pot is compared with the sources rather than only with `all_specs()`, because messages
    marked with N_() outside the registry (services/auth.py today) are served too.
    """
    fresh = tmp_path / "fresh.pot"
    command = [sys.executable, "-m", "babel.messages.frontend", "--quiet", "extract"]
    command += ["--mapping-file=babel.cfg", "--keywords=N_", f"--output-file={fresh}"]
    result = subprocess.run(
        [*command, "src/emaildesk"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    extracted = set(_entries(_read(fresh)))
    committed = _pot_ids()
    assert not extracted - committed, (
        f"run scripts/update-catalogs; not in the .pot: {sorted(extracted - committed)}"
    )
    assert not committed - extracted, (
        f"run scripts/update-catalogs; no longer in the sources: {sorted(committed - extracted)}"
    )


def test_every_supported_locale_has_a_catalog_with_its_headers() -> None:
    for tag in SUPPORTED_LOCALES:
        catalog = _read(_po_path(tag))
        headers = dict(catalog.mime_headers)
        # The gettext spelling of the directory name, not Babel's expansion ("zh_Hans_CN").
        assert headers["Language"] == tag.replace("-", "_")
        assert headers["Plural-Forms"].startswith("nplurals=")
        assert headers["Content-Type"].lower() == "text/plain; charset=utf-8"


def test_english_catalog_leaves_the_source_text_alone() -> None:
    entries = _entries(_read(_po_path("en-US")))
    assert set(entries) == _pot_ids()
    assert all(msgstr == "" for msgstr, _ in entries.values())


@pytest.mark.parametrize("tag", TRANSLATED)
def test_every_message_is_translated(tag: str) -> None:
    entries = _entries(_read(_po_path(tag)))
    problems = []
    for msgid in sorted(_pot_ids()):
        msgstr, fuzzy = entries.get(msgid, ("", False))
        if msgid not in entries:
            problems.append(f"missing: {msgid!r}")
        elif not msgstr.strip():
            problems.append(f"untranslated: {msgid!r}")
        elif fuzzy:
            problems.append(f"fuzzy (needs review): {msgid!r}")
        elif msgstr == msgid:
            problems.append(f"copied English: {msgid!r}")
    assert not problems, f"{tag}: " + "\n".join(problems)


@pytest.mark.parametrize("tag", TRANSLATED)
def test_translations_keep_the_placeholders(tag: str) -> None:
    entries = _entries(_read(_po_path(tag)))
    problems = [
        f"{msgid!r}: {sorted(_placeholders(msgstr))} != {sorted(_placeholders(msgid))}"
        for msgid, (msgstr, _) in entries.items()
        if msgstr and _placeholders(msgstr) != _placeholders(msgid)
    ]
    assert not problems, f"{tag}: " + "\n".join(problems)


def test_portuguese_variants_differ_where_the_languages_do() -> None:
    brazil = "\n".join(msgstr for msgstr, _ in _entries(_read(_po_path("pt-BR"))).values())
    portugal = "\n".join(msgstr for msgstr, _ in _entries(_read(_po_path("pt-PT"))).values())
    assert "usuário" in brazil and "utilizador" not in brazil
    assert "utilizador" in portugal and "usuário" not in portugal
    assert "arquivo" in brazil and "ficheiro" in portugal


@pytest.mark.parametrize("tag", SUPPORTED_LOCALES)
def test_compiled_catalog_is_current(tag: str) -> None:
    """A .mo older than its .po would serve stale text: scripts/compile-catalogs was skipped."""
    mo_path = _po_path(tag).with_suffix(".mo")
    assert mo_path.is_file(), f"{mo_path} missing; run scripts/compile-catalogs"
    with mo_path.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, (msgstr, fuzzy) in _entries(_read(_po_path(tag))).items():
        expected = msgstr if msgstr and not fuzzy else msgid
        assert compiled.gettext(msgid) == expected, f"{tag}: recompile; {msgid!r} is stale"


# --- negotiation ------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", SUPPORTED_LOCALES)
def test_each_supported_tag_negotiates_to_itself(tag: str) -> None:
    assert negotiate_locale(tag) == tag
    assert negotiate_locale(tag.lower()) == tag
    assert negotiate_locale(tag.upper()) == tag
    assert negotiate_locale(tag.replace("-", "_")) == tag


@pytest.mark.parametrize("header", [None, "", "   "])
def test_absent_or_empty_header_gives_the_default(header: str | None) -> None:
    assert negotiate_locale(header) == DEFAULT_LOCALE
    assert negotiate_locale(header, default="ja-JP") == "ja-JP"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-FR;q=0.9, en;q=0.5", "fr-FR"),
        ("en;q=0.5, fr-FR;q=0.9", "fr-FR"),
        ("de-AT, de;q=0.8, en;q=0.5", "de-DE"),
        ("xx-YY, sv-SE;q=0.1", "sv-SE"),
        ("pt-PT;q=1.000, pt-BR;q=0.999", "pt-PT"),
        ("ja-JP ; q=0.3 , ko-KR ;q=0.2", "ja-JP"),
        ("fr-CA,fr;q=0.9", "fr-CA"),
        ("fr-FR, fr-CA", "fr-FR"),
        ("es-ES;Q=0.7, it-IT;q=0.7", "es-ES"),
        ("zh-CN;q=0, ko-KR;q=0.1", "ko-KR"),
        (",, nl-NL ,", "nl-NL"),
        ("*", "en-US"),
        ("*, da-DK", "da-DK"),
        ("en-US;q=0, *", "es-ES"),
    ],
)
def test_weighted_lists_pick_the_best_supported_match(header: str, expected: str) -> None:
    assert negotiate_locale(header) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "en-US"),
        ("es", "es-ES"),
        ("fr", "fr-FR"),
        ("it", "it-IT"),
        ("de", "de-DE"),
        ("nl", "nl-NL"),
        ("pt", "pt-BR"),
        ("da", "da-DK"),
        ("ru", "ru-RU"),
        ("zh", "zh-CN"),
        ("ja", "ja-JP"),
        ("ko", "ko-KR"),
        ("sv", "sv-SE"),
        ("FR", "fr-FR"),
    ],
)
def test_bare_language_maps_to_its_default_region(language: str, expected: str) -> None:
    assert negotiate_locale(language) == expected


def test_star_uses_the_callers_default() -> None:
    assert negotiate_locale("*", default="de-DE") == "de-DE"


@pytest.mark.parametrize(
    "header",
    [
        "xx-YY",
        "klingon",
        "en-US;q=abc",
        "en-US;q=1.5",
        "en-US;q=0.1234",
        "en-US;level=1",
        "en US",
        "en-US-",
        "de-AT",
        "zh-TW",
        "en-US;q=0",
        "!!!",
        "<script>",
        ",",
        "fr-FR;q=0.9, =garbage",
        "éé-FR",
    ],
)
def test_unsupported_or_invalid_header_is_406_100(header: str) -> None:
    with pytest.raises(DomainError) as raised:
        negotiate_locale(header)
    assert raised.value.code == "406-100"
    assert raised.value.spec is errors.INVALID_ACCEPT_LANGUAGE


def test_unsupported_default_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="xx-YY"):
        negotiate_locale(None, default="xx-YY")


# --- Translator -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator()


def test_translator_renders_german(translator: Translator) -> None:
    text = translator.message(errors.TOO_LONG, {"attribute": "subject", "limit": "255"}, "de-DE")
    assert text == "Der Wert des Attributs 'subject' darf höchstens 255 Zeichen lang sein."


def test_translator_renders_japanese(translator: Translator) -> None:
    text = translator.message(errors.TOO_LONG, {"attribute": "subject", "limit": "255"}, "ja-JP")
    assert text == "属性 'subject' の値は 255 文字以内にする必要があります。"


def test_translator_renders_english_from_the_source(translator: Translator) -> None:
    text = translator.message(errors.TOO_LONG, {"attribute": "subject", "limit": "255"}, "en-US")
    assert text == "The value of attribute 'subject' must not exceed 255 characters."
    assert text == errors.TOO_LONG(attribute="subject", limit=255).english()


def test_translator_keeps_a_missing_parameter_visible(translator: Translator) -> None:
    text = translator.message(errors.CASE_NOT_FOUND, {}, "fr-FR")
    assert text == "Le dossier '{case_id}' n'existe pas."


def test_translator_covers_every_locale_and_message(translator: Translator) -> None:
    assert translator.locales == SUPPORTED_LOCALES
    for tag in TRANSLATED:
        for spec in all_specs():
            assert translator.gettext(spec.message, tag) != spec.message, (tag, spec.code)


def test_translator_refuses_an_unknown_locale(translator: Translator) -> None:
    with pytest.raises(ValueError, match="de_DE"):
        translator.gettext("Too many requests.", "de_DE")


def test_missing_compiled_catalog_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(CatalogMissingError, match=r"en_US/LC_MESSAGES/emaildesk\.mo.*make"):
        Translator(locale_dir=tmp_path)
