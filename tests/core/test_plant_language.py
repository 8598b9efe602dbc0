"""``[plant] language`` is one of the catalogues' languages, stored as the catalogue spells it;
another stops start-up with a message naming the key, the value and the languages there are."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import config
from bot.render import texts
from tests.catalogues import catalogues as catalogues  # the fixture


def plant_language(value: str) -> str:
    return config.parse({"plant": {"language": value}}, source="plant.toml").plant.language


def test_the_plant_language_is_matched_to_the_catalogues(catalogues: Path) -> None:
    assert config.Settings().plant.language == "en"
    assert plant_language("ru-RU") == "ru"
    assert plant_language("zh-cn") == "zh-Hans"
    assert plant_language("EN") == "en"


@pytest.mark.parametrize("value", ["fr", "", "x" * 300, "../en"])
def test_another_language_stops_start_up(catalogues: Path, value: str) -> None:
    spoken = ", ".join(texts.languages())
    with pytest.raises(config.ConfigError) as caught:
        plant_language(value)
    message = str(caught.value)
    assert message.startswith("plant.toml: [plant] language: '")
    assert message.endswith(f"' is not a language execbot speaks ({spoken})")
    assert len(message) < 200
