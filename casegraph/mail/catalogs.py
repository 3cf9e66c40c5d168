"""Mail texts per language: one JSON file per language, ``catalogs/<language>.json``.

A language is a file: ``es.json`` makes Spanish available. An agency's template directory may
hold a ``catalogs/`` of its own; its files replace the built-in ones of the same language. A text
missing from a language falls back to English, so a new catalogue can be filled in bit by bit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

BUILT_IN: Final = Path(__file__).resolve().parent / "catalogs"
FALLBACK: Final = "en"
LANGUAGE: Final = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


class CatalogError(ValueError):
    """A catalogue that cannot be used: unreadable, not an object of strings, or English missing."""


@dataclass(frozen=True)
class Texts:
    """The texts of one language, English beneath; ``text`` fills ``{placeholders}`` from ``values``."""

    language: str
    own: dict[str, str]
    fallback: dict[str, str]

    def text(self, key: str, values: dict[str, Any]) -> str:
        template = self.own.get(key, self.fallback.get(key))
        if template is None:
            raise CatalogError(f"No text {key!r} in the {self.language!r} or English catalogue.")
        return template.format_map(values)


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CatalogError(f"Mail catalogue {path}: {error}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise CatalogError(f"Mail catalogue {path} must be one JSON object of strings.")
    return data


class Catalogs:
    """Every language's texts, read once: built-in files, then the agency's.

    The mails' catalogues by default; the server's own pages (casegraph/pages) keep theirs in
    ``built_in`` and an agency's in ``<override>/<folder>``, read the same way.
    """

    def __init__(self, override: Path | None = None, *, built_in: Path = BUILT_IN, folder: str = "catalogs") -> None:
        self._languages: dict[str, dict[str, str]] = {}
        for directory in (built_in, override / folder if override is not None else None):
            if directory is None or not directory.is_dir():
                continue
            for path in sorted(directory.glob("*.json")):
                self._languages[path.stem] = _read(path)
        if FALLBACK not in self._languages:
            raise CatalogError(f"The catalogues in {built_in} need {FALLBACK}.json.")

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._languages)

    def find(self, locale: str | None) -> str | None:
        """The language for a locale: itself (``es-MX``), its language (``es``), else none."""
        wanted = (locale or "").strip().replace("_", "-")
        for candidate in (wanted, wanted.split("-")[0].lower()):
            if candidate in self._languages:
                return candidate
        return None

    def choose(self, locale: str | None) -> str:
        """The language for a locale, else English."""
        return self.find(locale) or FALLBACK

    def texts(self, locale: str | None) -> Texts:
        language = self.choose(locale)
        return Texts(language=language, own=self._languages[language], fallback=self._languages[FALLBACK])


@lru_cache(maxsize=4)
def mail_languages(override: str | None) -> frozenset[str]:
    """The languages of the catalogues (read once per template directory)."""
    return Catalogs(Path(override) if override is not None else None).languages
