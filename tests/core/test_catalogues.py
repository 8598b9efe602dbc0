"""The catalogue checker (bot/render/check.py): every real catalogue is complete and sound,
and each kind of fault, planted in an otherwise good catalogue, is reported.

A good Russian catalogue is built from English (its plural tables given Russian's categories,
one, few, many and other); each test breaks one thing in it and looks for that report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.render import check, texts


@pytest.mark.parametrize("lang", texts.languages())
def test_every_catalogue_has_no_problems(lang: str) -> None:
    assert check.problems(lang) == []


def _clear() -> None:
    texts.catalogue.cache_clear()
    texts.languages.cache_clear()
    texts.locale.cache_clear()


@pytest.fixture
def locales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A locales folder holding only the real English catalogue."""
    english = (texts.LOCALES / "en.toml").read_text(encoding="utf-8")
    (tmp_path / "en.toml").write_text(english, encoding="utf-8")
    monkeypatch.setattr(texts, "LOCALES", tmp_path)
    _clear()
    yield tmp_path
    _clear()


def _from_english(lang: str) -> dict[str, texts.Text]:
    """A faultless catalogue for ``lang``: English's texts, each plural table with exactly
    ``lang``'s categories (every form English's ``other``)."""
    tags = check.categories(lang)
    assert tags is not None
    entries: dict[str, texts.Text] = {}
    for key, text in texts.catalogue("en").items():
        if isinstance(text, dict):
            entries[key] = {tag: text["other"] for tag in sorted(tags)}
        else:
            entries[key] = text
    return entries


def _write(folder: Path, lang: str, entries: dict[str, texts.Text]) -> None:
    """``entries`` as a TOML file (dotted keys; a plural table inline)."""
    lines = []
    for key, text in entries.items():
        if isinstance(text, dict):
            forms = ", ".join(
                f"{tag} = {json.dumps(form, ensure_ascii=False)}" for tag, form in text.items()
            )
            lines.append(f"{key} = {{ {forms} }}")
        else:
            lines.append(f"{key} = {json.dumps(text, ensure_ascii=False)}")
    (folder / f"{lang}.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _clear()


def test_a_catalogue_built_from_english_is_sound(locales: Path) -> None:
    """The base every fault below is planted in has no problem of its own."""
    for lang in ("ru", "zh-Hans", "de"):
        _write(locales, lang, _from_english(lang))
        assert check.problems(lang) == [], lang
    assert texts.languages() == ["de", "en", "ru", "zh-Hans"]


def test_a_missing_key(locales: Path) -> None:
    entries = _from_english("ru")
    del entries["reply.skip"]
    _write(locales, "ru", entries)
    assert check.problems("ru") == ["reply.skip: missing (English has it)"]


def test_a_key_english_lacks(locales: Path) -> None:
    entries = _from_english("ru")
    entries["reply.skipp"] = "Пропустить"
    _write(locales, "ru", entries)
    assert check.problems("ru") == ["reply.skipp: English has no such key"]


def test_a_placeholder_english_does_not_use(locales: Path) -> None:
    entries = _from_english("ru")
    entries["nudge.header"] = "{name}, ваши задачи на {day} ({plant}):"
    _write(locales, "ru", entries)
    assert check.problems("ru") == ["nudge.header: placeholder {plant} English does not use"]


def test_a_dropped_placeholder(locales: Path) -> None:
    entries = _from_english("ru")
    entries["nudge.header"] = "Ваши задачи на {day}:"
    _write(locales, "ru", entries)
    assert check.problems("ru") == ["nudge.header: drops placeholder {name}"]


def test_a_plural_form_that_drops_the_count(locales: Path) -> None:
    entries = _from_english("ru")
    table = entries["escalation.header"]
    assert isinstance(table, dict)
    entries["escalation.header"] = {**table, "one": "Одна задача требует внимания:"}
    _write(locales, "ru", entries)
    assert check.problems("ru") == ["escalation.header.one: drops placeholder {count}"]


def test_plural_forms_that_do_not_fit_the_languages_rules(locales: Path) -> None:
    entries = _from_english("ru")
    entries["escalation.header"] = {"one": "{count} задача:", "other": "{count} задач:"}
    _write(locales, "ru", entries)
    assert check.problems("ru") == [
        "escalation.header: plural forms one, other, the language's are one, few, many, other"
    ]
    entries = _from_english("de")
    entries["escalation.header"] = {"one": "{count}", "few": "{count}", "other": "{count}"}
    _write(locales, "de", entries)
    assert check.problems("de") == [
        "escalation.header: plural forms one, few, other, the language's are one, other"
    ]


def test_a_plain_text_where_english_counts(locales: Path) -> None:
    entries = _from_english("ru")
    entries["escalation.header"] = "Задачи, требующие внимания ({count}):"
    _write(locales, "ru", entries)
    assert check.problems("ru") == [
        "escalation.header: a plain text, English has a plural table (one, other)"
    ]
    # Chinese has only "other": a plain text is its whole plural table
    entries = _from_english("zh-Hans")
    entries["escalation.header"] = "{count} 项需要您处理："
    _write(locales, "zh-Hans", entries)
    assert check.problems("zh-Hans") == []


def test_a_button_label_too_long_for_a_phone(locales: Path) -> None:
    entries = _from_english("de")
    entries["nudge.button_blocked"] = "{number} ⛔ Blockiert!!!!!!!"  # 20 with 1, 21 with 99
    entries["escalation.ack"] = "{index} Ich übernehme das"  # 19 with 9: fits
    _write(locales, "de", entries)
    assert check.problems("de") == [
        "nudge.button_blocked: button label '99 ⛔ Blockiert!!!!!!!' has 21 characters (at most 20)"
    ]


def test_a_template_that_does_not_parse(locales: Path) -> None:
    entries = _from_english("ru")
    entries["nudge.item"] = "{number}. {title} (до {due)"
    _write(locales, "ru", entries)
    [problem] = check.problems("ru")
    assert problem.startswith("nudge.item: the template does not parse")


def test_a_file_that_does_not_parse(locales: Path) -> None:
    (locales / "ru.toml").write_text('[nudge]\nheader = "unclosed\n', encoding="utf-8")
    _clear()
    [problem] = check.problems("ru")
    assert problem.startswith("the file does not parse")


def test_a_language_babel_does_not_know(locales: Path) -> None:
    _write(locales, "qq", _from_english("en"))
    assert check.problems("qq") == [
        "Babel knows no language 'qq': its plurals and dates would be English"
    ]


def test_english_is_checked_too(locales: Path) -> None:
    """English's own plural tables and buttons follow the same rules."""
    entries = _from_english("en")
    entries["reply.later_es"] = "At the end of the shift"
    entries["escalation.header"] = {"other": "{count} items need your attention:"}
    _write(locales, "en", entries)
    assert sorted(check.problems("en")) == [
        "escalation.header: plural forms other, the language's are one, other",
        "reply.later_es: button label 'At the end of the shift' has 23 characters (at most 20)",
    ]


def test_doctor_gives_each_language_one_short_line(locales: Path) -> None:
    from bot.cli.doctor import _catalogue_lines

    entries = _from_english("ru")
    for key in ("reply.skip", "reply.later_1h", "reply.later_2h", "reply.later_es"):
        del entries[key]
    _write(locales, "ru", entries)
    assert _catalogue_lines() == [
        (True, "texts en: complete"),
        (
            False,
            "texts ru: 4 problems: reply.skip: missing (English has it); "
            "reply.later_1h: missing (English has it); reply.later_2h: missing (English has it)"
            "; … 1 more",
        ),
    ]
