"""models.figures: what one occurrence contributes to the supervision figures, with exact
instants. The day is Sunday 25 October 2026, when Berlin's clocks go back (03:00 CEST ->
02:00 CET, at 01:00 UTC): a duty due at 09:00 Berlin time is due at 08:00 UTC."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.figures import FIELDS, ZERO, Facts, Figures, block_side, classify, total

BERLIN = ZoneInfo("Europe/Berlin")
DUE = datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # 09:00 CET, after the change
SEC = timedelta(seconds=1)
PROMISE = datetime(2026, 10, 25, 10, 30, tzinfo=UTC)  # "later 11:30"
NOW = datetime(2026, 10, 25, 16, 0, tzinfo=UTC)


def facts(status: str, **values: object) -> Facts:
    values.setdefault("status_at", DUE - timedelta(hours=1))
    return Facts(status=status, due_at=DUE, **values)  # type: ignore[arg-type]


def one(**counts: int) -> Figures:
    return Figures(due=1, **counts)


def test_the_due_instant_is_nine_in_berlin_after_the_change() -> None:
    assert DUE.astimezone(BERLIN).hour == 9
    assert DUE.astimezone(BERLIN).utcoffset() == timedelta(hours=1)
    # an hour earlier in UTC the same wall clock would have been summer time
    assert datetime(2026, 10, 24, 7, 0, tzinfo=UTC).astimezone(BERLIN).hour == 9


CASES = [
    # done: by the due instant, exactly at it, a second after it
    ("done early", facts("done", status_at=DUE - SEC), one(on_time=1)),
    ("done at the due instant", facts("done", status_at=DUE), one(on_time=1)),
    ("done a second late", facts("done", status_at=DUE + SEC), one(late=1)),
    # a promise kept (at or before the promised instant) is on time; broken, late
    ("promise kept", facts("done", status_at=PROMISE, promised_at=PROMISE), one(on_time=1)),
    (
        "promise broken",
        facts("done", status_at=PROMISE + SEC, promised_at=PROMISE),
        one(late=1),
    ),
    # a "promise" before the due time never brings the deadline forward
    (
        "promise before due",
        facts("done", status_at=DUE, promised_at=DUE - timedelta(minutes=30)),
        one(on_time=1),
    ),
    # open: the escalation goes on (a step pending, even one past due) or has ended
    ("open, climbing", facts("open", next_step_at=NOW + SEC), one(open=1)),
    ("open, step overdue", facts("open", next_step_at=NOW - SEC), one(open=1)),
    ("open, ended", facts("open", escalation_ended=True), one(not_done=1)),
    # no policy (no step ever): ended once the deadline is before now
    ("no policy, before due", facts("open"), one(open=1)),  # at AT: a second before due
    ("no policy, at due", facts("open"), one(open=1)),  # at AT: the due instant
    ("no policy, after due", facts("open"), one(not_done=1)),
    ("late, promise held", facts("late", promised_at=NOW + SEC), one(open=1)),
    ("late, promise passed", facts("late", promised_at=NOW - SEC), one(not_done=1)),
    ("late, ended", facts("late", promised_at=NOW + SEC, escalation_ended=True), one(not_done=1)),
    # blocks by side, and unresolved once the escalation ended
    (
        "blocked waiting, climbing",
        facts("blocked", last_answer="blocked", block_category="waiting", next_step_at=NOW),
        one(open=1, blocked_process=1),
    ),
    (
        "blocked materials, ended",
        facts("blocked", last_answer="blocked", block_category="materials", escalation_ended=True),
        one(not_done=1, blocked_process=1, unresolved=1),
    ),
    (
        "blocked help, resolved in time",
        facts("resolved", status_at=DUE, last_answer="blocked", block_category="help"),
        one(on_time=1, blocked_skill=1),
    ),
    (
        "blocked other, resolved late",
        facts("resolved", status_at=DUE + SEC, last_answer="blocked", block_category="other"),
        one(late=1, blocked_other=1),
    ),
    (
        "block without a category",
        facts("blocked", last_answer="blocked", escalation_ended=True),
        one(not_done=1, blocked_other=1, unresolved=1),
    ),
    (
        "blocked then excused",
        facts("excused", last_answer="blocked", block_category="help", escalation_ended=True),
        one(excused=1, blocked_skill=1),
    ),
    (
        "blocked then done",
        facts("done", status_at=DUE + SEC, last_answer="done", block_category="waiting"),
        one(late=1),
    ),
    ("excused", facts("excused", escalation_ended=True), one(excused=1)),
    ("absent", facts("absent"), one(absent=1)),
    ("cancelled", facts("cancelled", last_answer="blocked", block_category="help"), ZERO),
    ("reassigned", facts("reassigned", escalation_ended=True), ZERO),
]


# each case is classified at NOW (long after DUE), these at their own instant
AT = {"no policy, before due": DUE - SEC, "no policy, at due": DUE}


@pytest.mark.parametrize(("case", "given", "expected"), CASES, ids=[c[0] for c in CASES])
def test_one_occurrence(case: str, given: Facts, expected: Figures) -> None:
    got = classify(given, AT.get(case, NOW))
    assert got == expected
    outcomes = got.on_time + got.late + got.not_done + got.open + got.excused + got.absent
    assert outcomes == got.due
    assert got.unresolved <= got.not_done
    assert got.false_execution == 0


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError):
        classify(facts("lost"), NOW)


def test_block_sides() -> None:
    assert [block_side(c) for c in ("waiting", "materials", "help", "other", None, "x")] == [
        "process", "process", "skill", "other", "other", "other"
    ]  # fmt: skip


def test_adding_and_the_rate() -> None:
    a = Figures(due=5, on_time=2, late=1, excused=1, absent=1)
    b = Figures(due=3, on_time=3, blocked_skill=2, unresolved=1, not_done=0)
    s = a + b
    assert s == Figures(due=8, on_time=5, late=1, excused=1, absent=1, blocked_skill=2,
                        unresolved=1)  # fmt: skip
    assert s.blocked == 2
    assert a.rate == 2 / 3  # 2 on time of 5 - 1 excused - 1 absent
    assert s.rate == 5 / 6
    assert Figures(due=2, excused=1, absent=1).rate is None
    assert ZERO.rate is None
    assert total([a, b, ZERO]) == s
    assert total([]) == ZERO
    assert FIELDS[0] == "due" and len(FIELDS) == 12
