"""Language tags from the org file, the HR CSV and Telegram mean one of execbot's languages."""

import pytest

from models.language import match

SPOKEN = ["de", "en", "ru", "zh-Hans"]


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("ru-RU", "ru"),
        ("ru_ru", "ru"),
        ("de-AT", "de"),
        ("zh", "zh-Hans"),
        ("zh-hans", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("zh_Hans_CN", "zh-Hans"),
        ("zh-TW", "zh-Hans"),
        ("fr", None),
        ("", None),
        (None, None),
        ("-", None),
    ],
)
def test_a_tag_means_one_of_the_languages_or_none(tag: str | None, expected: str | None) -> None:
    assert match(tag, SPOKEN) == expected


def test_traditional_chinese_wins_where_it_exists() -> None:
    assert match("zh-HK", [*SPOKEN, "zh-Hant"]) == "zh-Hant"
    assert match("zh-CN", [*SPOKEN, "zh-Hant"]) == "zh-Hans"
