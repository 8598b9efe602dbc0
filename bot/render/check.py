"""The catalogue checker: what is wrong with one language's catalogue, measured against English.

``problems(lang)`` lists, one short line each:

- a file that does not parse, or a language Babel does not know (its plural rules and dates
  would silently be English's);
- a key English has and the language lacks (people would read English there), and a key
  English lacks (no code asks for it: a typo, or a renamed key);
- a template that does not parse (an unmatched ``{``), and a placeholder English does not use
  or one it drops: every form must use exactly the placeholders of English's text (of its
  ``other`` form, for a plural table);
- a plural table whose categories are not exactly the language's CLDR categories (Babel's
  ``plural_form.tags`` and ``other``); a text that is a plural table in English that is not
  one in the language (a language whose only category is ``other`` may write a plain string);
  a plural table where English has a plain text (nothing would choose its form);
- a button label longer than ``BUTTON_LIMIT`` characters when rendered with the largest
  numbers it shows (``number=99``, ``index=9``, ``page=99``): a phone cuts it.

Run for every language by ``tests/core/test_catalogues.py`` and listed by ``execbot doctor``.
"""

from __future__ import annotations

import string
import tomllib
from typing import Any

from babel import Locale, UnknownLocaleError

from bot.render import texts

BUTTON_LIMIT = 20  # characters a button label may have, duty number included
BUTTON_VALUES = {"number": 99, "index": 9, "page": 99, "count": 99}
# Every text shown on a button: by exact id, or by the start of the id.
BUTTON_IDS = frozenset(
    {
        "escalation.ack",
        "escalation.excuse",
        "escalation.nudge",
        "escalation.reassign",
        "escalation.resolve",
        "reply.skip",
        "action.page_previous",
        "action.page_next",
        "meta.language_name",  # the choices of /language
    }
)
BUTTON_PREFIXES = ("nudge.button_", "reply.category_", "reply.later_")


def problems(lang: str) -> list[str]:
    """Everything wrong with ``lang``'s catalogue (empty when none), one short line each."""
    try:
        found = texts.catalogue(lang)
        english = texts.catalogue(texts.FALLBACK)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return [f"the file does not parse: {exc}"]
    if not found:
        return [f"no catalogue {lang}.toml"]
    out: list[str] = []
    tags = categories(lang)
    if tags is None:
        out.append(f"Babel knows no language {lang!r}: its plurals and dates would be English")
    out += [f"{key}: missing (English has it)" for key in english if key not in found]
    out += [f"{key}: English has no such key" for key in found if key not in english]
    for key, text in found.items():
        out += _text_problems(key, text, english.get(key), tags)
    return out


def categories(lang: str) -> frozenset[str] | None:
    """The CLDR plural categories of ``lang`` (``other`` included); None if Babel lacks it."""
    try:
        babel_locale = Locale.parse(lang, sep="-")
    except (ValueError, UnknownLocaleError):
        return None
    return frozenset(babel_locale.plural_form.tags) | {"other"}


def is_button(key: str) -> bool:
    return key in BUTTON_IDS or key.startswith(BUTTON_PREFIXES)


def placeholders(template: str) -> set[str]:
    """The placeholder names of a ``str.format`` template; ValueError if it does not parse."""
    names = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None:
            names.add(field.split(".")[0].split("[")[0])
    return names


def _text_problems(
    key: str, text: texts.Text, english: texts.Text | None, tags: frozenset[str] | None
) -> list[str]:
    out: list[str] = []
    forms = text if isinstance(text, dict) else {"": text}
    if isinstance(text, dict):
        if tags is not None and set(text) != tags:
            out.append(f"{key}: plural forms {_listed(text)}, the language's are {_listed(tags)}")
        if english is not None and not isinstance(english, dict):
            out.append(f"{key}: a plural table, English has a plain text")
    elif isinstance(english, dict) and tags != frozenset({"other"}):
        out.append(f"{key}: a plain text, English has a plural table ({_listed(english)})")
    wanted = _wanted(english)
    for form, template in forms.items():
        where = f"{key}.{form}" if form else key
        try:
            used = placeholders(template)
        except ValueError as exc:
            out.append(f"{where}: the template does not parse ({exc})")
            continue
        if wanted is not None:
            out += [f"{where}: placeholder {{{n}}} English does not use" for n in used - wanted]
            out += [f"{where}: drops placeholder {{{n}}}" for n in sorted(wanted - used)]
        if is_button(key):
            label = _rendered(template, used)
            if len(label) > BUTTON_LIMIT:
                out.append(
                    f"{where}: button label {label!r} has {len(label)} characters"
                    f" (at most {BUTTON_LIMIT})"
                )
    return out


def _wanted(english: texts.Text | None) -> set[str] | None:
    """The placeholders every form must use: English's text's (its ``other`` form's)."""
    if english is None:
        return None
    template = english.get("other", "") if isinstance(english, dict) else english
    try:
        return placeholders(template)
    except ValueError:
        return None  # English's own problem, reported when English is checked


def _rendered(template: str, used: set[str]) -> str:
    values: dict[str, Any] = {name: BUTTON_VALUES.get(name, "X") for name in used}
    try:
        return template.format(**values)
    except (ValueError, KeyError, IndexError, AttributeError):
        return template


def _listed(names: Any) -> str:
    order = ["zero", "one", "two", "few", "many", "other"]
    return ", ".join(sorted(names, key=lambda n: order.index(n) if n in order else 99))
