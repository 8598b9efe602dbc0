"""Catalogues for the language tests: the real ones, plus a small Russian one where the tree has
no ``ru.toml`` yet, in a folder that stands in for ``bot/render/locales`` (``texts.LOCALES``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.render import texts

# Only what the language tests read; the real ru.toml, when there is one, is used instead.
SMALL_RU = """
[meta]
language_name = "Русский"

[start]
greeting = "Здравствуйте, {name}! Ваш аккаунт Telegram привязан к execbot на {plant}."
already_linked = "С возвращением, {name}. Ваш аккаунт уже привязан."
no_code = "Здравствуйте! Я execbot, помощник {plant}. Откройте вашу личную ссылку-приглашение."

[language]
current = "Я пишу вам на языке: {language}. Выберите язык:"
changed = "Готово: теперь я пишу вам на языке: {language}."
button_invalid = "Эта кнопка больше не действует. Отправьте /language, чтобы выбрать снова."

[nudge]
header = "{name}, ваши задачи на {day}:"
item = "{number}. {title} (срок {due})"
button_done = "{number} ✅ Готово"
button_blocked = "{number} ⛔ Не могу"
button_later = "{number} 🕒 Позже"
"""


def clear_caches() -> None:
    texts.catalogue.cache_clear()
    texts.languages.cache_clear()
    texts.locale.cache_clear()


@pytest.fixture
def catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every real catalogue, plus a small ``ru.toml`` if the tree has none (and a bare
    ``zh-Hans.toml``, only so that Chinese tags have a language to mean)."""
    folder = tmp_path / "locales"
    folder.mkdir()
    for path in texts.LOCALES.glob("*.toml"):
        shutil.copy(path, folder)
    if not (folder / "ru.toml").exists():
        (folder / "ru.toml").write_text(SMALL_RU, encoding="utf-8")
    if not (folder / "zh-Hans.toml").exists():
        (folder / "zh-Hans.toml").write_text('[meta]\nlanguage_name = "简体中文"\n', "utf-8")
    monkeypatch.setattr(texts, "LOCALES", folder)
    clear_caches()
    yield folder
    clear_caches()  # the real catalogues are read again once the folder is put back
