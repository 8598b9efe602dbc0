"""The plant's work calendar for some years: config ``[calendar]`` plus the public holidays
``bot.calendar_source`` looks up."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from bot.calendar_source import public_holidays
from bot.config import Settings
from models.calendar import WorkCalendar, calendar_from_config


def work_calendar(settings: Settings, years: Iterable[int]) -> WorkCalendar:
    """The plant's calendar with the public holidays of ``years``."""
    calendar = settings.calendar
    found: Mapping[date, str] = {}
    if calendar.country:
        found = public_holidays(
            calendar.country,
            calendar.subdivision,
            tuple(sorted(set(years))),
            settings.plant.language,
        )
    return calendar_from_config(calendar.table(), found)
