"""Counted nouns in the English of the admin CLI, reports and logs ("1 absence", "2 absences"),
by Babel's English plural rule: never a noun with "(s)". People read their texts from the
catalogues (``bot.render.texts``); this is for what only an operator reads."""

from __future__ import annotations

from bot.render import texts


def counted(count: int, one: str, other: str | None = None) -> str:
    """``count`` with the noun in the form English takes: ``counted(2, "problem")`` is
    "2 problems"; an irregular plural is given (``counted(3, "thing", "things")``)."""
    noun = one if texts.plural_category("en", count) == "one" else (other or f"{one}s")
    return f"{count} {noun}"
