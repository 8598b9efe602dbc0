"""Reasons the core states in English ("leader absent, no deputy", "blocked the bot") in the
reader's language: each part a catalogue text (``[reason]``), joined by the language's list
pattern from CLDR ("leader absent and no deputy", "руководитель отсутствует и нет
заместителя"). A part the catalogue does not know is shown as it is."""

from __future__ import annotations

import re

from babel.lists import format_list

from bot.render import texts


def reason_text(lang: str | None, reason: str) -> str:
    parts = [part.strip() for part in reason.split(",") if part.strip()]
    shown = [_part(lang, part) for part in parts]
    return format_list(shown, locale=texts.locale(lang or texts.FALLBACK)) if shown else reason


def _part(lang: str | None, part: str) -> str:
    key = "reason." + re.sub(r"\W+", "_", part.lower()).strip("_")
    return texts.render(lang, key) if key in texts.catalogue(texts.FALLBACK) else part
