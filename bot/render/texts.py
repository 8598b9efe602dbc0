"""The catalogue of every user-facing text, keyed by message id, one TOML file per language.

``render(lang, "start.greeting", name=...)`` looks the id up in ``locales/<lang>.toml``, falls
back to English for a missing language or key, and fills the placeholders. Adding a language
is adding a file.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = Path(__file__).with_name("locales")
FALLBACK = "en"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The flat ``{"section.key": text}`` map of one language; empty if it has no file."""
    path = LOCALES / f"{lang}.toml"
    if not lang.isalpha() or not path.exists():
        return {}
    return dict(_flatten(tomllib.loads(path.read_text(encoding="utf-8"))))


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for key, value in table.items():
        if isinstance(value, dict):
            items.extend(_flatten(value, f"{prefix}{key}."))
        else:
            items.append((f"{prefix}{key}", str(value)))
    return items


def languages() -> list[str]:
    return sorted(path.stem for path in LOCALES.glob("*.toml"))


def render(lang: str | None, message_id: str, **params: Any) -> str:
    """The text of ``message_id`` in ``lang`` (English if missing), placeholders filled."""
    text = catalogue(lang or FALLBACK).get(message_id)
    if text is None:
        text = catalogue(FALLBACK).get(message_id)
    if text is None:
        raise KeyError(f"no text with id {message_id!r}")
    return text.format(**params) if params else text
