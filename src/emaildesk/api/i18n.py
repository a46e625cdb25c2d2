"""Pick the response language from `Accept-Language` and render domain errors in it.

Why here: the domain raises errors as data (a code, an English msgid, parameters); choosing a
language is an HTTP concern (RFC 9110 §12.5.4, RFC 4647 language ranges), and each dialect's
`errors.py` calls `Translator.message` when it builds its envelope.

eGain semantics (api-notes §1.4): a request without the header gets the default locale; a header
that names none of the supported locales, or cannot be parsed, is refused with 406 `406-100`.

The catalogs are the `emaildesk` gettext domain under `emaildesk/locale`, compiled from the
committed `.po` files by `scripts/compile-catalogs` (the `.mo` files are build output).
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from emaildesk.domain.errors import INVALID_ACCEPT_LANGUAGE, ErrorSpec, render

GETTEXT_DOMAIN = "emaildesk"

# The locales eGain v12 documents for Accept-Language, in its order.
SUPPORTED_LOCALES: tuple[str, ...] = (
    "en-US",
    "es-ES",
    "fr-FR",
    "it-IT",
    "de-DE",
    "nl-NL",
    "pt-BR",
    "pt-PT",
    "da-DK",
    "ru-RU",
    "fr-CA",
    "zh-CN",
    "ja-JP",
    "ko-KR",
    "sv-SE",
)
DEFAULT_LOCALE = "en-US"

_BY_LOWER: dict[str, str] = {tag.lower(): tag for tag in SUPPORTED_LOCALES}

# A bare language range ("pt") names no region; answer with the region most clients of that
# language mean. pt → pt-BR and fr → fr-FR follow the size of the user base (and what browsers
# send as the fallback after "pt-BR"/"fr-FR"); a client wanting pt-PT or fr-CA says so.
_DEFAULT_REGION: dict[str, str] = {
    "en": "en-US",
    "es": "es-ES",
    "fr": "fr-FR",
    "it": "it-IT",
    "de": "de-DE",
    "nl": "nl-NL",
    "pt": "pt-BR",
    "da": "da-DK",
    "ru": "ru-RU",
    "zh": "zh-CN",
    "ja": "ja-JP",
    "ko": "ko-KR",
    "sv": "sv-SE",
}

# RFC 4647 §2.1 language-range, plus "_" as a separator because eGain clients send "fr_FR".
_LANGUAGE_RANGE = re.compile(r"\*|[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*")
# RFC 9110 §12.4.2 weight: OWS ";" OWS "q=" qvalue, qvalue at most three decimals and ≤ 1.
_WEIGHT = re.compile(r"[ \t]*;[ \t]*[qQ]=(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")


def negotiate_locale(header: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Return the supported locale the client prefers most, or raise `INVALID_ACCEPT_LANGUAGE`.

    Matching is deliberately narrow: a full tag must be one we ship (case and `_`/`-`
    insensitive) and a bare language maps to its default region; a regional variant we have no
    catalog for ("de-AT") is not silently served another region's text. Browsers list the bare
    language as a later fallback ("de-AT, de;q=0.9"), which does match.
    """
    if default not in SUPPORTED_LOCALES:
        raise ValueError(f"default locale {default!r} is not one of SUPPORTED_LOCALES")
    if header is None or not header.strip():
        return default
    ranges = _parse_accept_language(header)
    excluded = {tag for tag, q in ranges if q == 0 and tag is not None}
    # Highest weight first; at equal weight a named language beats "*" (it is more specific)
    # and otherwise the client's order decides, as sorted() is stable.
    for tag, q in sorted(ranges, key=lambda item: (-item[1], item[0] == "*")):
        if q == 0 or tag is None:
            continue
        if tag != "*":
            return tag
        # "*" is any language not named; a language named with q=0 is not acceptable.
        chosen = _first_not_excluded(default, excluded)
        if chosen is not None:
            return chosen
    raise INVALID_ACCEPT_LANGUAGE()


def _parse_accept_language(header: str) -> list[tuple[str | None, float]]:
    """Split the header into (supported tag or "*" or None, weight); raise on bad syntax."""
    ranges: list[tuple[str | None, float]] = []
    for element in header.split(","):
        element = element.strip(" \t")
        if not element:
            continue  # RFC 9110 §5.6.1: empty list elements are ignored
        match = _LANGUAGE_RANGE.match(element)
        if match is None:
            raise INVALID_ACCEPT_LANGUAGE()
        rest = element[match.end() :]
        weight = 1.0
        if rest:
            weight_match = _WEIGHT.fullmatch(rest)
            if weight_match is None:
                raise INVALID_ACCEPT_LANGUAGE()
            weight = float(weight_match.group(1))
        ranges.append((_supported_tag(match.group(0)), weight))
    if not ranges:
        raise INVALID_ACCEPT_LANGUAGE()
    return ranges


def _supported_tag(language_range: str) -> str | None:
    """Map one language range to our spelling of a supported tag, "*", or None."""
    if language_range == "*":
        return "*"
    key = language_range.replace("_", "-").lower()
    return _BY_LOWER.get(key) or _DEFAULT_REGION.get(key)


def _first_not_excluded(default: str, excluded: set[str]) -> str | None:
    """The locale "*" stands for: the default, unless the client ruled it out with q=0."""
    for tag in (default, *SUPPORTED_LOCALES):
        if tag not in excluded:
            return tag
    return None


def default_locale_dir() -> Path:
    """The `locale` directory shipped inside the package (compiled catalogs live there)."""
    return Path(__file__).resolve().parent.parent / "locale"


class CatalogMissingError(RuntimeError):
    """A compiled catalog is absent: the build skipped `scripts/compile-catalogs`."""


class Translator:
    """Every supported locale's compiled catalog, loaded once by the composition root.

    Construction reads all catalogs and fails on the first missing one, so a deployment without
    compiled catalogs stops at start-up instead of answering in English in production. en-US is
    loaded like the others: its catalog may override an English wording without a code change.
    """

    def __init__(
        self,
        locale_dir: Path | None = None,
        locales: Iterable[str] = SUPPORTED_LOCALES,
    ) -> None:
        directory = locale_dir if locale_dir is not None else default_locale_dir()
        self._catalogs: dict[str, gettext.GNUTranslations] = {}
        for tag in locales:
            if tag not in SUPPORTED_LOCALES:
                raise ValueError(f"locale {tag!r} is not one of SUPPORTED_LOCALES")
            path = directory / tag.replace("-", "_") / "LC_MESSAGES" / f"{GETTEXT_DOMAIN}.mo"
            try:
                with path.open("rb") as compiled:
                    self._catalogs[tag] = gettext.GNUTranslations(compiled)
            except FileNotFoundError:
                raise CatalogMissingError(
                    f"compiled catalog {path} is missing; run `make` (scripts/compile-catalogs "
                    f"compiles the .po catalogs into .mo files)"
                ) from None

    @property
    def locales(self) -> tuple[str, ...]:
        """The locales this translator can answer in."""
        return tuple(self._catalogs)

    def gettext(self, msgid: str, locale: str) -> str:
        """Translate `msgid` into `locale` (a tag from `negotiate_locale`).

        An untranslated msgid comes back unchanged, as gettext does; the catalog tests are what
        keep that from happening to a shipped message.
        """
        try:
            catalog = self._catalogs[locale]
        except KeyError:
            raise ValueError(f"no catalog loaded for locale {locale!r}") from None
        return catalog.gettext(msgid)

    def message(self, spec: ErrorSpec, params: Mapping[str, str], locale: str) -> str:
        """The error's message in `locale`, with its parameters filled in."""
        return render(self.gettext(spec.message, locale), params)
