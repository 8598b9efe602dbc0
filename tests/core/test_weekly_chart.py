"""The weekly chart (bot/render/charts.py) and its schedule (models/weekly.py): a PNG of the
phone size in every language, every glyph found (Chinese and Russian included), and the
report due from ``weekly_at`` for 12 hours, in the leader's local time."""

from __future__ import annotations

import io
import struct
import warnings
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from matplotlib import font_manager
from PIL import Image

from bot.render import texts
from bot.render.charts import HEIGHT_PX, WIDTH_PX, Level, WeeklyChart, render_weekly
from models.weekly import covered, parse_weekly_at, send_day

CHART = WeeklyChart(
    title="Механический цех 机加车间: week 47",
    levels=[
        Level("Plant", 0.9, [("Plant", 0.9)]),
        Level("Level 2", 0.8, [("Механический", 0.85), ("装配车间", 0.7)]),
        Level("Level 3", 0.6, [("Бригада 1", 0.4), ("Team 2", None), ("班组 3", 0.75)]),
    ],
    people=[0.0, 0.5, 1.0, 0.8],
    weeks=[str(w) for w in range(36, 48)],
    trend=[("Механический", [0.5] * 11 + [None]), ("装配车间", [None] * 12)],
    blocks=[("Механический", 3, 1, 0), ("装配车间", 0, 2, 1)],
)


def _size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.parametrize("lang", texts.languages())
def test_the_chart_is_a_phone_sized_png_in_every_language(lang: str) -> None:
    png = render_weekly(lang, CHART)
    assert _size(png) == (WIDTH_PX, HEIGHT_PX) == (1080, 1920)
    with Image.open(io.BytesIO(png)) as image:
        image.load()  # decodes every row
        assert image.format == "PNG"


@pytest.mark.parametrize("lang", ["zh-Hans", "ru"])
def test_chinese_and_cyrillic_find_their_glyphs(lang: str) -> None:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    if not installed & {"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC"}:
        pytest.skip("no CJK font installed")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_weekly(lang, CHART)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert missing == []


def test_an_empty_subtree_still_draws() -> None:
    png = render_weekly("en", WeeklyChart(title="Nobody", levels=[Level("Unit", None)]))
    assert _size(png) == (1080, 1920)


def test_weekly_at_is_a_weekday_and_a_time() -> None:
    assert parse_weekly_at("mon 07:00") == (0, time(7, 0))
    assert parse_weekly_at(" Friday 16:30 ") == (4, time(16, 30))
    for bad in ("07:00", "someday 07:00", "mon 25:00", "mon seven"):
        with pytest.raises(ValueError, match="weekday and a time"):
            parse_weekly_at(bad)


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("local", "due"),
    [
        ("2026-11-23T06:59:59", None),  # Monday, a second early
        ("2026-11-23T07:00:00", date(2026, 11, 23)),
        ("2026-11-23T18:59:59", date(2026, 11, 23)),  # under 12 hours late
        ("2026-11-23T19:00:00", date(2026, 11, 23)),  # 12 hours late: still
        ("2026-11-23T19:00:01", None),  # then left for next week
        ("2026-11-22T12:00:00", None),  # Sunday
        ("2026-11-17T06:59:50", None),  # Tuesday morning, as the other tests start
        ("2026-03-30T07:30:00", date(2026, 3, 30)),  # the Monday after the DST change
    ],
)
def test_the_report_is_due_from_weekly_at_for_12_hours(local: str, due: date | None) -> None:
    at = datetime.fromisoformat(local).replace(tzinfo=BERLIN)
    assert send_day(at, 0, time(7, 0)) == due


def test_a_report_covers_the_seven_days_before() -> None:
    assert covered(date(2026, 11, 23)) == (date(2026, 11, 16), date(2026, 11, 22))


def test_chinese_unit_names_find_their_glyphs_in_an_english_chart() -> None:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    if not installed & {"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC"}:
        pytest.skip("no CJK font installed")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_weekly("en", CHART)  # English texts, unit names in Chinese
        render_weekly("de", WeeklyChart(title="Werk", levels=[Level("Werk", 0.5)]))
    assert [str(w.message) for w in caught if "missing from" in str(w.message)] == []
