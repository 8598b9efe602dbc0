"""The daily digest's rules (models/digest.py): the trend arrow, when the digest is due,
the four weeks a trend compares with, and who holds the open items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from models import digest
from models.figures import Figures


@pytest.mark.parametrize(
    ("today", "before", "arrow"),
    [
        (0.80, 0.75, "↑"),  # exactly five points up
        (0.79, 0.75, "→"),  # four points: steady
        (0.71, 0.75, "→"),
        (0.70, 0.75, "↓"),  # exactly five points down
        (1.0, 0.0, "↑"),
        (0.0, 1.0, "↓"),
        (0.5, 0.5, "→"),
        (None, 0.5, ""),  # nothing counted today
        (0.5, None, ""),  # nothing counted in the four weeks before
        (None, None, ""),
    ],
)
def test_the_trend_arrow(today: float | None, before: float | None, arrow: str) -> None:
    assert digest.trend(today, before) == arrow


def test_the_four_weeks_before_are_the_28_days_before_the_day() -> None:
    assert digest.trend_period(date(2026, 12, 1)) == (date(2026, 11, 3), date(2026, 11, 30))


def test_due_from_the_digest_time_to_the_end_of_the_local_day() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    at = time(17, 0)
    assert not digest.due(datetime(2026, 12, 1, 16, 59, 59, tzinfo=tz), at)
    assert digest.due(datetime(2026, 12, 1, 17, 0, tzinfo=tz), at)
    assert digest.due(datetime(2026, 12, 1, 23, 59, tzinfo=tz), at)
    assert not digest.due(datetime(2026, 12, 2, 0, 1, tzinfo=tz), at)


def test_undone_items_and_their_top_holders() -> None:
    assert digest.undone(Figures(due=5, open=2, not_done=1, on_time=2)) == 3
    counts = {7: 1, 3: 4, 5: 0, 9: 4, 2: 2}
    assert digest.top_holders(counts) == [(3, 4), (9, 4), (2, 2)]
    assert digest.top_holders({1: 0}) == []


def test_percent() -> None:
    assert digest.percent(None) == "—"
    assert digest.percent(2 / 3) == "67%"
    assert digest.percent(1.0) == "100%"


BERLIN = ZoneInfo("Europe/Berlin")


def _shifts(worked: dict[date, tuple[int, int]]) -> Callable[[date], datetime | None]:
    """A leader's shifts: day -> (start hour, end hour), the end the next day when earlier."""

    def end(day: date) -> datetime | None:
        if day not in worked:
            return None
        start, stop = worked[day]
        ends = datetime(day.year, day.month, day.day, stop, tzinfo=BERLIN)
        return ends + timedelta(days=1) if stop <= start else ends

    return end


def test_due_days_with_shifts() -> None:
    at = time(17, 0)
    mon, tue, wed = date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)
    night = _shifts({mon: (18, 6)})  # Monday's night shift ends Tuesday 06:00
    assert digest.due_days(datetime(2026, 11, 16, 23, 0, tzinfo=BERLIN), at, night) == []
    assert digest.due_days(datetime(2026, 11, 17, 5, 59, tzinfo=BERLIN), at, night) == []
    assert digest.due_days(datetime(2026, 11, 17, 6, 0, tzinfo=BERLIN), at, night) == [mon]
    # Tuesday is a day off: Monday's still (until Tuesday ends), and Tuesday's from 17:00
    assert digest.due_days(datetime(2026, 11, 17, 17, 0, tzinfo=BERLIN), at, night) == [mon, tue]
    assert digest.due_days(datetime(2026, 11, 18, 6, 0, tzinfo=BERLIN), at, night) == []
    day = _shifts({wed: (6, 14)})
    assert digest.due_days(datetime(2026, 11, 18, 13, 59, tzinfo=BERLIN), at, day) == []
    assert digest.due_days(datetime(2026, 11, 18, 14, 0, tzinfo=BERLIN), at, day) == [wed]
    # without shifts: from digest_at to the end of the day
    assert digest.due_days(datetime(2026, 11, 18, 16, 0, tzinfo=BERLIN), at) == []
    assert digest.due_days(datetime(2026, 11, 18, 17, 0, tzinfo=BERLIN), at) == [wed]
