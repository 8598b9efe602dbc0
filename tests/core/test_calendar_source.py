"""The plant's work calendar: [calendar] settings plus public holidays from the holidays
package (no network: the package carries its rules)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import holidays
import pytest

from bot import calendar_source, config
from bot.services.calendar import work_calendar
from models.calendar import DayKind, DayStatus

BAVARIA: dict[str, object] = {
    "country": "DE",
    "subdivision": "BY",
    "days_off": {"2026-12-24": "Christmas shutdown"},
    "extra_working_days": ["2026-12-26", "2026-05-02"],  # a holiday (Sat) and a Saturday
}


def settings(calendar: Mapping[str, object], language: str = "en") -> config.Settings:
    """Settings with this calendar; ``language`` is set past the config's check (which takes
    only the catalogues' languages) to see what the holiday lookup does with any tag."""
    parsed = config.parse({"calendar": calendar}, source="test")
    plant = parsed.plant.model_copy(update={"language": language})
    return parsed.model_copy(update={"plant": plant})


def test_german_holidays_days_off_and_extra_working_days() -> None:
    calendar = work_calendar(settings(BAVARIA), [2026])
    assert calendar.day_kind(date(2026, 12, 25)) == DayStatus(DayKind.HOLIDAY, "Christmas Day")
    assert not calendar.is_working_day(date(2026, 12, 25))
    assert calendar.day_kind(date(2026, 1, 6)).kind is DayKind.HOLIDAY  # Epiphany: Bavaria only
    assert calendar.day_kind(date(2026, 12, 24)) == DayStatus(
        DayKind.PLANT_DAY_OFF, "Christmas shutdown"
    )
    assert calendar.is_working_day(date(2026, 12, 26))  # St Stephen's Day, worked anyway
    assert calendar.is_working_day(date(2026, 5, 2))  # a Saturday, worked
    assert calendar.is_working_day(date(2026, 12, 23))
    assert calendar.day_kind(date(2026, 12, 27)).kind is DayKind.WEEKEND


def test_subdivision_and_years_decide_which_holidays_count() -> None:
    berlin = work_calendar(settings({"country": "DE", "subdivision": "BE"}), [2026])
    assert berlin.is_working_day(date(2026, 1, 6))  # no Epiphany in Berlin
    assert berlin.day_kind(date(2026, 3, 8)).kind is DayKind.HOLIDAY  # Women's Day, Berlin only
    only_2026 = work_calendar(settings({"country": "DE"}), [2026])
    assert only_2026.is_working_day(date(2027, 1, 1))  # New Year 2027 was not looked up
    both = work_calendar(settings({"country": "DE"}), [2026, 2027])
    assert both.day_kind(date(2027, 1, 1)).kind is DayKind.HOLIDAY


def test_holiday_names_follow_the_plant_language_else_the_country() -> None:
    german = work_calendar(settings(BAVARIA, language="de"), [2026])
    assert german.day_kind(date(2026, 12, 25)).name == "Erster Weihnachtstag"
    unknown = work_calendar(settings(BAVARIA, language="xx"), [2026])
    assert unknown.day_kind(date(2026, 12, 25)).name == "Erster Weihnachtstag"


def test_no_country_means_no_public_holidays() -> None:
    calendar = work_calendar(settings({"weekend": []}), [2026])
    assert calendar.is_working_day(date(2026, 12, 25))
    assert calendar.is_working_day(date(2026, 12, 27))  # a Sunday, but no weekend here


def test_lookups_are_cached_per_country_subdivision_and_years(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calendar_source.public_holidays.cache_clear()
    calls: list[tuple[str, object]] = []
    real = holidays.country_holidays

    def counting(country: str, **options: Any) -> Any:
        calls.append((country, options.get("years")))
        return real(country, **options)

    monkeypatch.setattr(holidays, "country_holidays", counting)
    plant = settings(BAVARIA)
    work_calendar(plant, [2026])
    looked_up = len(calls)
    work_calendar(plant, {2026})
    assert len(calls) == looked_up
    work_calendar(plant, [2026, 2027])
    assert len(calls) > looked_up
