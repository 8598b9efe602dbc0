"""The text catalogue: every id renders, missing languages fall back to English, and a new
language is a file, not code."""

from __future__ import annotations

from pathlib import Path
from string import Formatter

import pytest

from bot.render import texts


def test_every_english_text_renders_with_its_placeholders() -> None:
    catalogue = texts.catalogue("en")
    assert len(catalogue) > 10
    for message_id, entry in catalogue.items():
        forms = entry.values() if isinstance(entry, dict) else [entry]
        for template in forms:
            fields = {name for _, name, _, _ in Formatter().parse(template) if name}
            assert all(name.isidentifier() for name in fields), message_id
            params: dict[str, object] = {name: f"<{name}>" for name in fields}
            if isinstance(entry, dict):
                params["count"] = 1 if template == entry.get("one") else 7
            rendered = texts.render("en", message_id, **params)
            assert rendered == template.format(**params), message_id


def test_a_count_takes_the_plural_form_of_its_language() -> None:
    assert texts.render("en", "escalation.header", count=1) == "1 item needs your attention:"
    assert texts.render("en", "escalation.header", count=3) == "3 items need your attention:"
    assert [texts.plural_category("ru", n) for n in (1, 3, 5, 21)] == ["one", "few", "many", "one"]
    assert texts.plural_category("zh-Hans", 1) == "other"


def test_unknown_language_falls_back_to_english() -> None:
    assert texts.render("xx", "start.code_used") == texts.render("en", "start.code_used")
    assert texts.render(None, "start.code_used") == texts.render("en", "start.code_used")


def test_unknown_id_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        texts.render("en", "no.such.text")


def test_a_new_language_needs_only_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in texts.LOCALES.glob("*.toml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "de.toml").write_text('[start]\ncode_used = "Dieser Link wurde schon benutzt."\n')
    monkeypatch.setattr(texts, "LOCALES", tmp_path)
    texts.catalogue.cache_clear()
    texts.languages.cache_clear()
    try:
        assert "de" in texts.languages()
        assert texts.render("de", "start.code_used") == "Dieser Link wurde schon benutzt."
        assert texts.render("de", "start.code_expired") == texts.render("en", "start.code_expired")
    finally:
        texts.catalogue.cache_clear()
        texts.languages.cache_clear()


def test_a_missing_or_broken_translation_falls_back_to_english_and_logs_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A catalogue that lacks a key, or whose text names a placeholder the code does not pass,
    gives English's text (never an exception in a handler), with one warning per key."""
    (tmp_path / "en.toml").write_text((texts.LOCALES / "en.toml").read_text(encoding="utf-8"))
    (tmp_path / "xx.toml").write_text('[nudge]\nheader = "{nmae}, Aufgaben für {day}:"\n')
    monkeypatch.setattr(texts, "LOCALES", tmp_path)
    monkeypatch.setattr(texts, "_missing", set())
    texts.catalogue.cache_clear()
    try:
        english = texts.render("en", "nudge.header", name="Ann", day="Tue")
        for _ in range(3):
            assert texts.render("xx", "nudge.header", name="Ann", day="Tue") == english
            assert texts.render("xx", "start.code_used") == texts.render("en", "start.code_used")
        warnings = [r.getMessage() for r in caplog.records if r.name == "bot.render.texts"]
        assert len(warnings) == 2, warnings
        assert "nudge.header" in warnings[0] and "start.code_used" in warnings[1]
    finally:
        texts.catalogue.cache_clear()


def test_a_reason_from_the_core_reads_in_the_readers_language() -> None:
    from bot.render.reasons import reason_text

    assert reason_text("en", "leader absent, no deputy") == "leader absent and no deputy"
    assert reason_text("ru", "leader absent, no deputy") == (
        "руководитель отсутствует и нет заместителя"
    )
    assert reason_text("de", "blocked the bot") == "Bot blockiert"
    assert reason_text("zh-Hans", "no leader, no deputy") == "没有主管和没有副主管"
    assert reason_text("ru", "something new") == "something new"  # unknown: as it is
