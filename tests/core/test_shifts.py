import tomllib
from datetime import UTC, date, datetime, time, timedelta

import pytest

from models.shifts import (
    Crew,
    RotationPattern,
    ShiftConfig,
    ShiftKind,
    parse_shifts,
    shift_on,
    shift_window,
)

ANCHOR = date(2026, 1, 5)
DAY = ShiftKind("D", time(6), time(18))
NIGHT = ShiftKind("N", time(18), time(6))
KINDS = {"D": DAY, "N": NIGHT}
FOUR_CREW = RotationPattern("four-crew", ("D", "D", "N", "N", None, None, None, None), ANCHOR)
CREWS = [Crew(key, "four-crew", offset) for key, offset in zip("ABCD", (0, 2, 4, 6), strict=True)]

ORG_SHIFTS: dict[str, dict[str, object]] = {
    "kinds": {"D": {"start": "06:00", "end": "18:00"}, "N": {"start": "18:00", "end": "06:00"}},
    "patterns": {
        "four-crew": {"cycle": ["D", "D", "N", "N", "-", "-", "-", "-"], "anchor": "2026-01-05"}
    },
    "crews": {
        "A": {"pattern": "four-crew", "offset": 0},
        "B": {"pattern": "four-crew", "offset": 2},
        "C": {"pattern": "four-crew", "offset": 4},
        "D": {"pattern": "four-crew", "offset": 6},
    },
}


def utc(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def codes_on(day: date) -> dict[str, str]:
    return {
        crew.key: shift.code if (shift := shift_on(crew, FOUR_CREW, KINDS, day)) else "-"
        for crew in CREWS
    }


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (0, "DDNN----"),
        (2, "--DDNN--"),  # crew B starts its cycle two days after the anchor
        (4, "----DDNN"),
        (6, "NN----DD"),
    ],
)
def test_each_crew_over_one_cycle_from_the_anchor(offset, expected):
    crew = Crew("X", "four-crew", offset)
    got = ""
    for n in range(8):
        shift = shift_on(crew, FOUR_CREW, KINDS, ANCHOR + timedelta(days=n))
        got += shift.code if shift else "-"
    assert got == expected


@pytest.mark.parametrize("start", [ANCHOR, ANCHOR - timedelta(days=3), date(2025, 2, 11)])
def test_exactly_one_day_and_one_night_crew_every_day(start):
    for n in range(3 * 8):
        on = list(codes_on(start + timedelta(days=n)).values())
        assert sorted(on) == ["-", "-", "D", "N"]


def test_rotation_before_the_anchor_continues_the_cycle():
    assert codes_on(ANCHOR - timedelta(days=1)) == {"A": "-", "B": "-", "C": "N", "D": "D"}
    assert codes_on(ANCHOR - timedelta(days=8)) == codes_on(ANCHOR)
    assert codes_on(ANCHOR - timedelta(days=800)) == codes_on(ANCHOR)


def test_shift_on_rejects_the_wrong_pattern():
    other = RotationPattern("other", ("D",), ANCHOR)
    with pytest.raises(ValueError, match="crew 'A' follows 'four-crew', not 'other'"):
        shift_on(CREWS[0], other, KINDS, ANCHOR)


@pytest.mark.parametrize(
    ("kind", "day", "tz", "start", "end"),
    [
        (DAY, date(2026, 1, 5), "Europe/Berlin", utc(2026, 1, 5, 5), utc(2026, 1, 5, 17)),
        (NIGHT, date(2026, 1, 5), "Europe/Berlin", utc(2026, 1, 5, 17), utc(2026, 1, 6, 5)),
        # night shifts over the clock changes: 11 and 13 real hours
        (NIGHT, date(2026, 3, 28), "Europe/Berlin", utc(2026, 3, 28, 17), utc(2026, 3, 29, 4)),
        (NIGHT, date(2026, 10, 24), "Europe/Berlin", utc(2026, 10, 24, 16), utc(2026, 10, 25, 5)),
        (NIGHT, date(2026, 3, 7), "America/New_York", utc(2026, 3, 7, 23), utc(2026, 3, 8, 10)),
        (
            NIGHT,
            date(2026, 10, 31),
            "America/New_York",
            utc(2026, 10, 31, 22),
            utc(2026, 11, 1, 11),
        ),
        # a 24-hour shift (end == start)
        (
            ShiftKind("F", time(7), time(7)),
            date(2026, 1, 5),
            "UTC",
            utc(2026, 1, 5, 7),
            utc(2026, 1, 6, 7),
        ),
    ],
)
def test_shift_window(kind, day, tz, start, end):
    assert shift_window(kind, day, tz) == (start, end)


def test_crosses_midnight():
    assert NIGHT.crosses_midnight
    assert not DAY.crosses_midnight


def test_parse_shifts_from_org_data():
    config = parse_shifts(ORG_SHIFTS)
    assert config.kinds == KINDS
    assert config.patterns == {"four-crew": FOUR_CREW}
    assert config.crews["C"] == Crew("C", "four-crew", 4)
    assert config.shift_for("B", ANCHOR + timedelta(days=2)) == DAY
    assert config.shift_for("B", ANCHOR) is None


def test_parse_shifts_from_toml_text():
    text = """
    [shifts.kinds]
    D = { start = "06:00", end = "18:00" }
    N = { start = "18:00", end = "06:00" }
    [shifts.patterns.four-crew]
    cycle = ["D", "D", "N", "N", "-", "-", "-", "-"]
    anchor = 2026-01-05
    [shifts.crews]
    A = { pattern = "four-crew", offset = 0 }
    B = { pattern = "four-crew", offset = 2 }
    """
    config = parse_shifts(tomllib.loads(text)["shifts"])
    assert config.patterns == {"four-crew": FOUR_CREW}
    assert [config.shift_for(crew, ANCHOR + timedelta(days=2)) for crew in "AB"] == [NIGHT, DAY]


def test_parse_shifts_accepts_toml_values_and_default_offset():
    config = parse_shifts(
        {
            "kinds": {"D": {"start": time(6), "end": time(14)}},
            "patterns": {"p": {"cycle": ["D"], "anchor": date(2026, 1, 1)}},
            "crews": {"A": {"pattern": "p"}},
        }
    )
    assert config.crews["A"].offset_days == 0


def test_no_shifts():
    assert parse_shifts({}) == ShiftConfig()


def test_unknown_crew():
    with pytest.raises(ValueError, match="shifts: unknown crew 'Z'"):
        parse_shifts(ORG_SHIFTS).shift_for("Z", ANCHOR)


def _with(section: str, name: str, entry: object) -> dict[str, object]:
    data: dict[str, object] = dict(ORG_SHIFTS)
    data[section] = {**ORG_SHIFTS[section], name: entry}
    return data


def _kind(**entry: object) -> dict[str, object]:
    return _with("kinds", "E", {"start": "06:00", "end": "14:00", **entry})


def _pattern(*cycle: object, anchor: str = "2026-01-05") -> dict[str, object]:
    return _with("patterns", "p", {"cycle": list(cycle), "anchor": anchor})


def _crew(**entry: object) -> dict[str, object]:
    return _with("crews", "E", entry)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": {}}, "shifts: unknown key 'kind' \\(expected kinds, patterns, crews\\)"),
        ({"kinds": []}, "shifts.kinds: expected a table"),
        (_with("kinds", "E", "06:00"), "shifts.kinds.E: expected a table like"),
        (_with("kinds", "E", {"start": "06:00"}), "shifts.kinds.E: missing 'end'"),
        (_kind(start="6am"), "shifts.kinds.E.start: expected a time of day like '07:30'"),
        (_kind(length=8), "shifts.kinds.E: unknown key 'length' \\(expected start, end\\)"),
        (_with("kinds", "-", {"start": "6:00", "end": "7:00"}), "'-' cannot be a shift code"),
        (_with("kinds", "any", {"start": "6:00", "end": "7:00"}), "'any' cannot be a shift code"),
        (_pattern(), "shifts.patterns.p.cycle: expected a list of shift codes and '-'"),
        (_pattern("D", 1), "shifts.patterns.p.cycle: expected a name as text, got 1"),
        (_pattern("D", "X"), "pattern 'p' uses unknown shift 'X' \\(expected one of D, N, '-'\\)"),
        (_pattern("D", anchor="05.01.2026"), "shifts.patterns.p.anchor: expected a date like"),
        (
            _crew(pattern="five"),
            "crew 'E' follows unknown pattern 'five' \\(expected one of four-crew",
        ),
        (_crew(pattern="four-crew", offset="2"), "shifts.crews.E.offset: expected a whole number"),
        (_crew(pattern="four-crew", offset=True), "shifts.crews.E.offset: expected a whole number"),
        (_crew(offset=1), "shifts.crews.E: missing 'pattern'"),
    ],
)
def test_parse_shifts_errors(data, message):
    with pytest.raises(ValueError, match=message):
        parse_shifts(data)
