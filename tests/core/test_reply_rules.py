"""Reply rules (``models.replies``): who may answer until when, what counts as the same
answer, the times a "later" promises, and typed replies. Exact instants in Europe/Berlin,
including both clock changes of 2026 (29 March 02:00 CET -> 03:00 CEST, 25 October 03:00
CEST -> 02:00 CET)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.render import texts
from models.replies import (
    Action,
    Category,
    LaterOption,
    OccurrenceFacts,
    Refusal,
    Typed,
    TypedProblem,
    check,
    deadline,
    full_reply,
    is_same,
    later_until,
    needs_evidence,
    parse_typed,
    typed_time,
)

TZ = "Europe/Berlin"
BERLIN = ZoneInfo(TZ)
GRACE = timedelta(hours=1)
SECOND = timedelta(seconds=1)


def berlin(y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0, fold: int = 0) -> datetime:
    """A Berlin wall-clock time as a UTC instant (``fold=1``: the second of a repeated hour)."""
    return datetime(y, mo, d, h, mi, s, tzinfo=BERLIN, fold=fold).astimezone(UTC)


def utc(y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def facts(
    due_at: datetime,
    *,
    person_id: int = 7,
    status: str = "open",
    promised_at: datetime | None = None,
    evidence: str = "none",
    category: str | None = None,
) -> OccurrenceFacts:
    day = due_at.astimezone(BERLIN).date()
    return OccurrenceFacts(1, person_id, day, status, due_at, promised_at, evidence, category)


# --- check --------------------------------------------------------------------------------------

DUE = berlin(2026, 11, 17, 9)  # 08:00 UTC


def test_the_berlin_helper_is_exact() -> None:
    assert utc(2026, 11, 17, 8) == DUE
    assert berlin(2026, 3, 29, 9) == utc(2026, 3, 29, 7)  # CEST from 03:00
    assert berlin(2026, 10, 25, 2, 30) == utc(2026, 10, 25, 0, 30)  # first 02:30, CEST
    assert berlin(2026, 10, 25, 2, 30, fold=1) == utc(2026, 10, 25, 1, 30)  # second, CET


@pytest.mark.parametrize(
    ("person_id", "status", "now", "expected"),
    [
        (8, "open", DUE - timedelta(hours=2), Refusal.NOT_YOURS),
        (8, "excused", DUE, Refusal.NOT_YOURS),  # someone else's: nothing more is said
        (7, "excused", DUE - timedelta(hours=2), Refusal.CLOSED),
        (7, "cancelled", DUE, Refusal.CLOSED),
        (7, "absent", DUE, Refusal.CLOSED),
        (7, "absent", DUE + 5 * GRACE, Refusal.CLOSED),  # closed wins over too late
        (7, "open", DUE - timedelta(hours=2), None),
        (7, "done", DUE, None),  # an answer may be changed
        (7, "blocked", DUE, None),
        (7, "late", DUE, None),
        (7, "open", DUE + GRACE, None),  # the deadline itself is still in time
        (7, "open", DUE + GRACE + timedelta(microseconds=1), Refusal.TOO_LATE),
        (7, "done", DUE + GRACE + SECOND, Refusal.TOO_LATE),
    ],
)
def test_check(person_id: int, status: str, now: datetime, expected: Refusal | None) -> None:
    assert check(facts(DUE, status=status), person_id, now, GRACE) is expected


@pytest.mark.parametrize(
    ("due_at", "promised_at", "last_accepted"),
    [
        (DUE, None, utc(2026, 11, 17, 9)),
        (DUE, berlin(2026, 11, 17, 15, 30), berlin(2026, 11, 17, 16, 30)),  # promise extends
        (DUE, berlin(2026, 11, 17, 8, 30), berlin(2026, 11, 17, 10)),  # never shortens
        (DUE, berlin(2026, 11, 18, 9), berlin(2026, 11, 18, 10)),  # "tomorrow"
        # Spring forward: due 01:30 CET, the grace hour ends at 03:30 CEST (02:30 never was).
        (berlin(2026, 3, 29, 1, 30), None, berlin(2026, 3, 29, 3, 30)),
        (berlin(2026, 3, 29, 9), None, utc(2026, 3, 29, 8)),
        # Fall back: due at the first 02:30 (CEST), the grace hour ends at the second (CET).
        (berlin(2026, 10, 25, 2, 30), None, berlin(2026, 10, 25, 2, 30, fold=1)),
        (berlin(2026, 10, 25, 9), None, utc(2026, 10, 25, 9)),
    ],
)
def test_deadline_is_due_or_promise_plus_grace(
    due_at: datetime, promised_at: datetime | None, last_accepted: datetime
) -> None:
    answer = facts(due_at, promised_at=promised_at, status="late" if promised_at else "open")
    assert deadline(answer, GRACE) == last_accepted
    assert check(answer, 7, last_accepted, GRACE) is None
    assert check(answer, 7, last_accepted + SECOND, GRACE) is Refusal.TOO_LATE


# --- is_same and evidence -----------------------------------------------------------------------

AT_1530 = berlin(2026, 11, 17, 15, 30)


@pytest.mark.parametrize(
    ("status", "current_category", "current_promise", "action", "category", "promised", "same"),
    [
        ("open", None, None, Action.DONE, None, None, False),
        ("done", None, None, Action.DONE, None, None, True),
        ("late", None, AT_1530, Action.DONE, None, None, False),
        ("blocked", "waiting", None, Action.BLOCKED, "waiting", None, True),
        ("blocked", "waiting", None, Action.BLOCKED, "materials", None, False),
        ("done", None, None, Action.BLOCKED, "waiting", None, False),
        ("late", None, AT_1530, Action.LATER, None, AT_1530, True),
        ("late", None, AT_1530, Action.LATER, None, AT_1530 + SECOND, False),
        ("open", None, None, Action.LATER, None, AT_1530, False),
        ("blocked", "other", None, Action.LATER, None, AT_1530, False),
    ],
)
def test_is_same(
    status: str,
    current_category: str | None,
    current_promise: datetime | None,
    action: Action,
    category: str | None,
    promised: datetime | None,
    same: bool,
) -> None:
    current = facts(DUE, status=status, category=current_category, promised_at=current_promise)
    assert is_same(current, action, category, promised) is same


@pytest.mark.parametrize(("evidence", "needed"), [("none", False), ("photo", True), ("text", True)])
def test_needs_evidence(evidence: str, needed: bool) -> None:
    assert needs_evidence(facts(DUE, evidence=evidence)) is needed


# --- later_until --------------------------------------------------------------------------------

SHIFT_END = berlin(2026, 3, 28, 17)


@pytest.mark.parametrize(
    ("option", "now", "due_at", "promised"),
    [
        # +1h and +2h are elapsed time, across the spring gap too.
        (LaterOption.HOUR, berlin(2026, 11, 17, 7, 40), DUE, berlin(2026, 11, 17, 8, 40)),
        (LaterOption.TWO_HOURS, berlin(2026, 11, 17, 7, 40), DUE, berlin(2026, 11, 17, 9, 40)),
        (LaterOption.HOUR, berlin(2026, 3, 29, 1, 30), DUE, berlin(2026, 3, 29, 3, 30)),
        (LaterOption.TWO_HOURS, berlin(2026, 10, 25, 1, 30), DUE, utc(2026, 10, 25, 1, 30)),
        # End of shift: whatever the caller computed.
        (LaterOption.END_OF_SHIFT, berlin(2026, 3, 28, 10), DUE, SHIFT_END),
        # Tomorrow keeps the local due time across the clock change, both ways.
        (
            LaterOption.TOMORROW,
            berlin(2026, 3, 28, 10),
            berlin(2026, 3, 28, 9),  # 08:00 UTC
            berlin(2026, 3, 29, 9),  # 07:00 UTC
        ),
        (
            LaterOption.TOMORROW,
            berlin(2026, 10, 24, 10),
            berlin(2026, 10, 24, 9),  # 07:00 UTC
            berlin(2026, 10, 25, 9),  # 08:00 UTC
        ),
        # A due time that does not exist tomorrow moves to the end of the gap (03:00 CEST).
        (
            LaterOption.TOMORROW,
            berlin(2026, 3, 28, 3),
            berlin(2026, 3, 28, 2, 30),
            utc(2026, 3, 29, 1),
        ),
        # "Tomorrow" is the person's tomorrow: 00:30 local on the 29th is still the 28th in UTC.
        (
            LaterOption.TOMORROW,
            berlin(2026, 3, 29, 0, 30),
            berlin(2026, 3, 28, 23, 45),
            berlin(2026, 3, 30, 23, 45),
        ),
    ],
)
def test_later_until(
    option: LaterOption, now: datetime, due_at: datetime, promised: datetime
) -> None:
    assert later_until(option, now, TZ, due_at, SHIFT_END) == promised


def test_tomorrow_is_exact_in_utc() -> None:
    spring = later_until(
        LaterOption.TOMORROW, utc(2026, 3, 28, 9), TZ, utc(2026, 3, 28, 8), SHIFT_END
    )
    autumn = later_until(
        LaterOption.TOMORROW, utc(2026, 10, 24, 8), TZ, utc(2026, 10, 24, 7), SHIFT_END
    )
    assert (spring, autumn) == (utc(2026, 3, 29, 7), utc(2026, 10, 25, 8))


# --- typed_time ---------------------------------------------------------------------------------

MORNING = berlin(2026, 11, 17, 7)


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("15:30", MORNING, utc(2026, 11, 17, 14, 30)),
        ("  15:30 ", MORNING, utc(2026, 11, 17, 14, 30)),
        ("15.30", MORNING, utc(2026, 11, 17, 14, 30)),
        ("7:05", MORNING, utc(2026, 11, 17, 6, 5)),
        ("07:00", MORNING, None),  # now is not ahead
        ("06:59", MORNING, None),  # passed: never tomorrow's
        ("15:30", berlin(2026, 11, 17, 16), None),
        ("23:59", berlin(2026, 11, 17, 23, 58), utc(2026, 11, 17, 22, 59)),
        ("+2h", MORNING, MORNING + timedelta(hours=2)),
        ("+1h30m", MORNING, MORNING + timedelta(hours=1, minutes=30)),
        ("+1d", MORNING, MORNING + timedelta(days=1)),
        # DST: "+2h" is elapsed time; a wall time in the spring gap is its end.
        ("+2h", berlin(2026, 3, 29, 1, 30), berlin(2026, 3, 29, 4, 30)),
        ("02:30", berlin(2026, 3, 29, 1), utc(2026, 3, 29, 1)),
        ("03:30", berlin(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)),
        ("02:30", berlin(2026, 10, 25, 1), utc(2026, 10, 25, 0, 30)),  # the first 02:30
        ("09:00", berlin(2026, 10, 25, 2, 30, fold=1), utc(2026, 10, 25, 8)),
    ],
)
def test_typed_time(text: str, now: datetime, expected: datetime | None) -> None:
    assert typed_time(text, now, TZ) == expected


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "soon",
        "24:00",
        "25:99",
        "15:60",
        "15:3",
        "1530",
        "15:30:00",
        "15 30",
        "-2h",
        "+",
        "+0h",
        "+2",
        "+2x",
        "+ 2 h",
        "+99999999999d",  # beyond timedelta
        "+9999999d",  # beyond the calendar
        "１５:３０",  # full-width digits
        "15:30pm",
    ],
)
def test_typed_time_junk(junk: str) -> None:
    assert typed_time(junk, MORNING, TZ) is None


# --- parse_typed --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("done 1 3", Typed(Action.DONE, (1, 3))),
        ("done 1,3", Typed(Action.DONE, (1, 3))),
        ("done 1, 3", Typed(Action.DONE, (1, 3))),
        ("done,1", Typed(Action.DONE, (1,))),
        ("Done 2", Typed(Action.DONE, (2,))),
        ("  DONE 2  ", Typed(Action.DONE, (2,))),
        ("done 3 1 3", Typed(Action.DONE, (3, 1))),  # each once, in the order written
        ("done 999", Typed(Action.DONE, (999,))),
        ("done 0", Typed(Action.DONE, (0,))),  # no such number: the service says so
        ("done 12 1234", Typed(Action.DONE, (12,))),
        (
            "blocked 2 waiting for the valve",
            Typed(Action.BLOCKED, (2,), "waiting for the valve", Category.WAITING),
        ),
        (
            "blocked 2 Materials: no gloves, size 9\nsee photo",
            Typed(
                Action.BLOCKED, (2,), "Materials: no gloves, size 9\nsee photo", Category.MATERIALS
            ),
        ),
        ("blocked 1,2 help", Typed(Action.BLOCKED, (1, 2), "help", Category.HELP)),
        ("blocked 2 the valve", Typed(Action.BLOCKED, (2,), "the valve", Category.OTHER)),
        ("blocked 2", Typed(Action.BLOCKED, (2,), "", Category.OTHER)),
        ("later 1 15:30", Typed(Action.LATER, (1,), "15:30")),
        ("later 1, 15:30", Typed(Action.LATER, (1,), "15:30")),
        ("later 1 3 +2h", Typed(Action.LATER, (1, 3), "+2h")),
        ("later 1 25:99", Typed(Action.LATER, (1,), "25:99")),  # the service says: not a time
        ("later 1", TypedProblem.NO_TIME),
        ("later 1 15:30 please", TypedProblem.NO_TIME),
        ("done", TypedProblem.NO_NUMBER),
        ("blocked", TypedProblem.NO_NUMBER),
        ("later", TypedProblem.NO_NUMBER),
        ("done all", TypedProblem.NO_NUMBER),
        ("done 1234", TypedProblem.NO_NUMBER),  # list numbers have at most three digits
        ("done -1", TypedProblem.NO_NUMBER),
        ("done 1.5", TypedProblem.NO_NUMBER),
        ("done ²", TypedProblem.NO_NUMBER),  # str.isdigit() says yes, int() says no
        ("done 1²", TypedProblem.NO_NUMBER),
        ("done ⑴", TypedProblem.NO_NUMBER),
        ("doner 1", None),
        ("done1", None),
        ("undone 1", None),
        ("I am done 1", None),
        ("15:30", None),
        ("", None),
    ],
)
def test_parse_typed(text: str, expected: Typed | TypedProblem | None) -> None:
    assert parse_typed(text) == expected


def test_parse_typed_keeps_a_long_note_whole() -> None:
    note = "waiting " + "x" * 1990
    parsed = parse_typed(f"blocked 1 {note}")
    assert parsed == Typed(Action.BLOCKED, (1,), note, Category.WAITING)


def test_day_of_facts_is_local() -> None:
    assert facts(berlin(2026, 3, 29, 0, 30)).day == date(2026, 3, 29)


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("ru", "готово 1 3", Typed(Action.DONE, (1, 3))),
        (
            "ru",
            "Проблема 2 жду клапан",
            Typed(Action.BLOCKED, (2,), "жду клапан", Category.WAITING),
        ),
        ("ru", "позже 1 15:30", Typed(Action.LATER, (1,), "15:30")),
        ("ru", "done 2", Typed(Action.DONE, (2,))),  # English words work in every language
        ("de", "Erledigt 1", Typed(Action.DONE, (1,))),
        (
            "de",
            "blockiert 1 Werkzeug fehlt",
            Typed(Action.BLOCKED, (1,), "Werkzeug fehlt", Category.MATERIALS),
        ),
        ("zh-Hans", "完成1 3", Typed(Action.DONE, (1, 3))),
        ("zh-Hans", "受阻 2 培训", Typed(Action.BLOCKED, (2,), "培训", Category.HELP)),
        ("en", "готово 1", None),  # another language's words are not English's
        ("ru", "готово", TypedProblem.NO_NUMBER),
        ("ru", "готово1", None),
    ],
)
def test_a_typed_reply_in_the_persons_language(
    lang: str, text: str, expected: Typed | TypedProblem | None
) -> None:
    assert parse_typed(text, texts.typed_words(lang)) == expected


def test_only_numbers_after_done_is_a_full_reply_in_any_language() -> None:
    ru = texts.typed_words("ru")
    now = berlin(2026, 11, 18, 9)
    assert full_reply("готово 1, 3", now, TZ, ru)
    assert not full_reply("готово 1 час назад", now, TZ, ru)
