"""The catalogue of every user-facing text, keyed by message id, one TOML file per language.

``render(lang, "start.greeting", name=...)`` looks the id up in ``locales/<lang>.toml``, falls
back to English for a missing language or key (logged once per key), and fills the
placeholders. Adding a language is adding a file.

A text that counts something is a plural table: its keys are CLDR plural categories (``zero``,
``one``, ``two``, ``few``, ``many``, ``other``) and the ``count`` placeholder chooses one, by the
language's CLDR rules from Babel::

    header = { one = "{count} item needs you:", other = "{count} items need you:" }

Russian adds ``few`` and ``many``; Chinese has only ``other``.
"""

from __future__ import annotations

import logging
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale

from models.replies import Action, Category, Words

log = logging.getLogger(__name__)

LOCALES = Path(__file__).with_name("locales")
FALLBACK = "en"
PLURAL_CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})

Text = str | dict[str, str]


@cache
def catalogue(lang: str) -> dict[str, Text]:
    """The flat ``{"section.key": text}`` map of one language; empty if it has no file. A plural
    table stays a ``{category: text}`` dict."""
    path = LOCALES / f"{lang}.toml"
    if not lang.replace("-", "").isalpha() or not path.exists():
        return {}
    return dict(_flatten(tomllib.loads(path.read_text(encoding="utf-8"))))


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Text]]:
    items: list[tuple[str, Text]] = []
    for key, value in table.items():
        if isinstance(value, dict) and value and set(value) <= PLURAL_CATEGORIES:
            items.append((f"{prefix}{key}", {k: str(v) for k, v in value.items()}))
        elif isinstance(value, dict):
            items.extend(_flatten(value, f"{prefix}{key}."))
        else:
            items.append((f"{prefix}{key}", str(value)))
    return items


@cache
def languages() -> list[str]:
    """The languages execbot speaks: one catalogue file each (``en``, ``ru``, ``zh-Hans``...)."""
    return sorted(path.stem for path in LOCALES.glob("*.toml"))


@cache
def locale(lang: str) -> Locale:
    """Babel's locale for a catalogue's language tag (``zh-Hans`` -> ``zh_Hans``)."""
    try:
        return Locale.parse(lang, sep="-")
    except (ValueError, LookupError):
        return Locale.parse(FALLBACK)


def plural_category(lang: str, count: int) -> str:
    """The CLDR plural category of ``count`` in ``lang`` ("one", "few", "many", "other"...)."""
    return str(locale(lang).plural_form(abs(count)))


_missing: set[tuple[str, str]] = set()


def _lookup(lang: str, message_id: str) -> tuple[str, Text]:
    """The text and the language it is in: ``lang``'s, else English's (logged once per key)."""
    text = catalogue(lang).get(message_id)
    if text is not None:
        return lang, text
    if lang != FALLBACK and (lang, message_id) not in _missing:
        _missing.add((lang, message_id))
        log.warning("no %r text for %r: using English", lang, message_id)
    text = catalogue(FALLBACK).get(message_id)
    if text is None:
        raise KeyError(f"no text with id {message_id!r}")
    return FALLBACK, text


def render(lang: str | None, message_id: str, **params: Any) -> str:
    """The text of ``message_id`` in ``lang`` (English if missing), placeholders filled; a
    plural table takes the form the ``count`` parameter calls for in that language. A
    translation that cannot be filled (a placeholder misspelt in its file) gives English's
    text, logged once: a bad catalogue never fails a handler."""
    found_in, text = _lookup(lang or FALLBACK, message_id)
    try:
        return _fill(found_in, text, params)
    except (KeyError, IndexError, ValueError) as exc:
        if found_in == FALLBACK:
            raise
        if (found_in, message_id) not in _missing:
            _missing.add((found_in, message_id))
            log.warning(
                "%r text for %r cannot be filled (%r): using English", found_in, message_id, exc
            )
        return _fill(FALLBACK, _lookup(FALLBACK, message_id)[1], params)


def _fill(lang: str, text: Text, params: dict[str, Any]) -> str:
    if isinstance(text, dict):
        category = plural_category(lang, int(params.get("count", 0)))
        text = text.get(category) or text["other"]
    return text.format(**params) if params else text


@cache
def typed_words(lang: str | None) -> Words:
    """The words a typed reply in ``lang`` may use (``[typed]`` in the catalogue: comma-separated
    words per answer and per block category), on top of English's, which always work."""
    found = catalogue(lang or FALLBACK)

    def listed(key: str) -> list[str]:
        text = found.get(f"typed.{key}")
        return [w.strip() for w in text.split(",") if w.strip()] if isinstance(text, str) else []

    return Words.of(
        {action: listed(action.value) for action in Action},
        {category: listed(category.value) for category in Category},
    )
