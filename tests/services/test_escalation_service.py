"""The escalation service on SQLite and PostgreSQL: planning, nudging and escalation passes at
exact instants, leader actions and once-only reports, checked on the stored rows.

The org (imported from TOML, as a plant would): plant (Paula Manager, no deputy) > workshop
(Walter Head, deputy Doris Deputy) > team (Tina Lead) with Willy One, Wanda Two and Nina Never
(who never joined), and a vacant team (no leader, no deputy) with Victor Three. Ada Admin is
an admin. The day is Tuesday 2026-11-17; Berlin is then UTC+1.

One module over 400 lines: every test here runs on one org and one timeline (planned,
nudged, escalated at exact instants) on both databases; the fixtures that build them are
most of the file's weight, and a split would copy them or hide them in another module."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.delivery.outcomes import Outcome
from bot.services import actions, escalation, nudging, planning, replies, reports
from bot.services.absences import add_absence
from bot.services.org_import import import_org
from bot.store.engine import session_scope
from bot.store.org import mark_unreachable, person_by_key
from bot.store.outbox import record_sent
from bot.store.replies import pending_input
from models.calendar import AbsenceKind
from models.tables import (
    AuditEvent,
    Duty,
    Invite,
    Notice,
    Occurrence,
    Outbox,
    PendingInput,
    Person,
    Report,
)

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 17)
CHATS = {"pm": 101, "adm": 102, "wh": 103, "wd": 104, "tl": 105, "w1": 106, "w2": 107, "w3": 108}
TITLES = {
    "reading": "Read the meters",
    "pump": "Service the pump",
    "valves": "Check the valves",
    "tl-report": "Team report",
    "wh-report": "Workshop report",
    "v1": "Sweep the hall",
    "v2": "Empty the bins",
    "night": "Night check",
    "nj-duty": "Count the stock",
}
ORG = """
[[units]]
key = "plant"
name = "Plant"
kind = "plant"
leader = "pm"

[[units]]
key = "shop"
name = "Workshop"
kind = "workshop"
parent = "plant"
leader = "wh"
deputy = "wd"

[[units]]
key = "team"
name = "Team"
kind = "team"
parent = "shop"
leader = "tl"

[[units]]
key = "vacant"
name = "Vacant Team"
kind = "team"
parent = "shop"

[[people]]
key = "pm"
name = "Paula Manager"
unit = "plant"
post = "plant manager"

[[people]]
key = "adm"
name = "Ada Admin"
unit = "plant"
post = "clerk"

[[people]]
key = "wh"
name = "Walter Head"
unit = "shop"
post = "workshop head"

[[people]]
key = "wd"
name = "Doris Deputy"
unit = "shop"
post = "deputy head"

[[people]]
key = "tl"
name = "Tina Lead"
unit = "team"
post = "team leader"

[[people]]
key = "w1"
name = "Willy One"
unit = "team"
post = "operator"

[[people]]
key = "w2"
name = "Wanda Two"
unit = "team"
post = "operator"

[[people]]
key = "nj"
name = "Nina Never"
unit = "team"
post = "operator"

[[people]]
key = "w3"
name = "Victor Three"
unit = "vacant"
post = "operator"
"""


# --- building the world ------------------------------------------------------------------------


def local(clock: str, day: date = DAY) -> datetime:
    """A Berlin wall-clock time on ``day`` as the UTC instant the services are given."""
    return datetime.combine(day, time.fromisoformat(clock), BERLIN).astimezone(UTC)


def duty(
    key: str,
    assignee: str,
    nudge: str = "07:00",
    due: str = "08:00",
    *,
    urgent: bool = False,
    schedule: str | None = None,
) -> str:
    lines = [
        "[[duties]]",
        f'key = "{key}"',
        f'title = "{TITLES[key]}"',
        f'assignee = "{assignee}"',
        f'nudge = "{nudge}"',
        f'due = "{due}"',
    ]
    if urgent:
        lines.append("urgent = true")
    if schedule:
        lines.append(f'schedule = "{schedule}"')
    return "\n".join(lines) + "\n"


def build(engine: Engine, tmp_path: Path, *duties: str, at: datetime | None = None) -> None:
    """Import the org with ``duties``; bind everyone but Nina to a Telegram chat."""
    path = tmp_path / "org.toml"
    path.write_text(ORG + "\n" + "\n".join(duties))
    result = import_org(
        engine, [path], at or local("05:00", DAY - timedelta(days=1)), dry_run=False
    )
    assert result.problems == [], result.report()
    with Session(engine) as session:
        for key, chat in CHATS.items():
            session.execute(
                update(Person).where(col(Person.key) == key).values(telegram_user_id=chat)
            )
        session.commit()


def settings(
    *,
    reminders: Iterable[str] = (),
    levels: Iterable[str] = ("10m", "30m", "60m"),
    ack: str = "20m",
    window: str = "0s",
    quiet: str = "",
) -> Settings:
    return Settings.model_validate(
        {
            "telegram": {"bot_username": "execbot_test"},
            "access": {"admins": ["adm"]},
            "escalation": {
                "group_window": window,
                "quiet_hours": quiet,
                "policies": {
                    "standard": {
                        "reminders": list(reminders),
                        "levels": [{"after": a, "notify": "next"} for a in levels],
                        "ack_timeout": ack,
                    }
                },
            },
        }
    )


def start_day(engine: Engine, s: Settings, plan_at: datetime, nudge_at: datetime) -> None:
    planning.plan(engine, s, plan_at)
    nudging.queue_due(engine, s, nudge_at)


# --- reading the rows --------------------------------------------------------------------------


def ids(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {p.key: p.id or 0 for p in session.exec(select(Person)).all()}


def occurrence(engine: Engine, duty_key: str, person: str | None = None, day: date = DAY) -> Any:
    """The one occurrence of ``duty_key`` on ``day`` (of ``person``, if given)."""
    with Session(engine) as session:
        query = (
            select(Occurrence)
            .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
            .join(Person, col(Person.id) == col(Occurrence.person_id))
            .where(Occurrence.day == day, Duty.key == duty_key)
        )
        if person is not None:
            query = query.where(Person.key == person)
        found = session.exec(query).all()
        assert len(found) == 1, (duty_key, person, found)
        return found[0]


def notices(engine: Engine) -> list[tuple[str, str, str]]:
    """(step, kind, recipient key) of every notice, in order; the step without the instant it
    came due (``l0@<unix time>`` -> ``l0``)."""
    keys = {v: k for k, v in ids(engine).items()}
    with Session(engine) as session:
        rows = session.exec(select(Notice).order_by(col(Notice.id))).all()
        return [(n.step.split("@")[0], n.kind, keys[n.recipient_id]) for n in rows]


def notice_rows(engine: Engine) -> list[Notice]:
    with Session(engine) as session:
        return list(session.exec(select(Notice).order_by(col(Notice.id))).all())


def outbox(engine: Engine, who: str, kind: str | None = "escalation") -> list[Outbox]:
    with Session(engine) as session:
        query = select(Outbox).where(Outbox.chat_id == CHATS[who]).order_by(col(Outbox.id))
        if kind is not None:
            query = query.where(Outbox.kind == kind)
        return list(session.exec(query).all())


def texts_to(engine: Engine, who: str, kind: str | None = "escalation") -> list[str]:
    return [str(row.payload["text"]) for row in outbox(engine, who, kind)]


def audit(engine: Engine, kind: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.kind == kind)).all())


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in (Notice, Outbox, AuditEvent, Report, Invite, Occurrence)
        }


def climb(engine: Engine, duty_key: str, person: str | None = None) -> tuple[Any, ...]:
    occ = occurrence(engine, duty_key, person)
    return (
        occ.status,
        occ.reminders_sent,
        occ.levels_done,
        occ.escalation_ended,
        occ.acked_by,
        occ.next_step_at,
    )


def act(engine: Engine, s: Settings, who: str, data: str, now: datetime) -> Outcome:
    with session_scope(engine) as session:
        actor = person_by_key(session, who)
        assert actor is not None
        return actions.act(session, s, actor, data, now)


def item(name: str, duty_key: str, situation: str, index: int = 1, number: int = 1) -> str:
    return f"{index}) {name} — {number}. {TITLES[duty_key]}: {situation}"


# --- reminders and levels ----------------------------------------------------------------------


def test_reminders_then_levels_in_order_and_a_rerun_changes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    build(engine, tmp_path, duty("reading", "w1"))
    s = settings(reminders=("-10m", "0m"))
    start_day(engine, s, local("06:00"), local("07:00"))
    person = ids(engine)
    assert occurrence(engine, "reading").next_step_at == local("07:50")
    assert escalation.advance(engine, s, local("07:49:59")).steps == 0

    first = escalation.advance(engine, s, local("07:50"))
    assert (first.steps, first.messages) == (1, 1)
    assert climb(engine, "reading") == ("open", 1, 0, False, None, local("08:00"))
    assert texts_to(engine, "w1") == ["Reminder: 1. Read the meters is due at 08:00."]
    before = counts(engine), climb(engine, "reading")
    again = escalation.advance(engine, s, local("07:50"))
    assert (again.steps, again.messages) == (0, 0)
    assert (counts(engine), climb(engine, "reading")) == before

    for clock in ("08:00", "08:10", "08:30"):
        assert escalation.advance(engine, s, local(clock)).steps == 1
        assert escalation.advance(engine, s, local(clock)).steps == 0  # twice: nothing more
    last = escalation.advance(engine, s, local("09:00"))
    assert last.steps == 2  # the third level, then the end of the climb at once
    assert climb(engine, "reading") == ("open", 2, 3, True, None, None)
    assert notices(engine) == [
        ("r0", "remind", "w1"),
        ("r1", "remind", "w1"),
        ("l0", "escalate", "tl"),
        ("l1", "escalate", "wh"),
        ("l2", "escalate", "pm"),
    ]
    assert [n.deliver_at for n in notice_rows(engine)] == [
        local(c) for c in ("07:50", "08:00", "08:10", "08:30", "09:00")
    ]
    steps = [e.data for e in audit(engine, "escalation.step")]
    assert steps == [
        {"kind": "remind", "index": 0, "reason": "silence"},
        {"kind": "remind", "index": 1, "reason": "silence"},
        {"kind": "escalate", "index": 0, "reason": "silence", "to": [person["tl"]]},
        {"kind": "escalate", "index": 1, "reason": "silence", "to": [person["wh"]]},
        {"kind": "escalate", "index": 2, "reason": "silence", "to": [person["pm"]]},
    ]
    assert len(audit(engine, "escalation.ended")) == 1
    header = "1 item needs your attention:\n"
    silence = item("Willy One", "reading", "no answer (due 08:00)")
    for leader in ("tl", "wh", "pm"):
        assert texts_to(engine, leader) == [header + silence]
    occ_id = occurrence(engine, "reading").id
    [message] = outbox(engine, "tl")
    buttons = [b["callback_data"] for row in message.payload["reply_markup"]["inline_keyboard"]
               for b in row]  # fmt: skip
    assert buttons == [f"e:{code}:{occ_id}" for code in "axnr"]
    assert escalation.advance(engine, s, local("12:00")) == escalation.PassResult()


def test_after_a_long_gap_each_overdue_level_runs_once(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path, duty("reading", "w1"))
    s = settings(reminders=("-10m", "0m"))
    start_day(engine, s, local("06:00"), local("07:00"))

    # Down from 07:45 to 08:40: the reminders are moot, both overdue levels run, in order.
    gap = escalation.advance(engine, s, local("08:40"))
    assert (gap.steps, gap.messages) == (2, 2)
    assert notices(engine) == [("l0", "escalate", "tl"), ("l1", "escalate", "wh")]
    assert escalation.advance(engine, s, local("08:40")).steps == 0
    assert climb(engine, "reading") == ("open", 0, 2, False, None, local("09:00"))

    # Down again until noon: the last level once, then the end; never a level twice.
    assert escalation.advance(engine, s, local("12:00")).steps == 2
    assert escalation.advance(engine, s, local("13:00")).steps == 0
    assert notices(engine) == [
        ("l0", "escalate", "tl"),
        ("l1", "escalate", "wh"),
        ("l2", "escalate", "pm"),
    ]
    assert [len(outbox(engine, k)) for k in ("w1", "tl", "wh", "pm")] == [0, 1, 1, 1]
    assert len(audit(engine, "escalation.step")) == 3
    assert len(audit(engine, "escalation.ended")) == 1


# --- grouping ------------------------------------------------------------------------------------


def test_two_items_for_one_leader_go_out_as_one_message(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path, duty("reading", "w1"), duty("pump", "w2", due="08:03"))
    s = settings(levels=("10m",), window="5m")
    start_day(engine, s, local("06:00"), local("07:00"))

    assert escalation.advance(engine, s, local("08:10")).messages == 0
    assert escalation.advance(engine, s, local("08:13")).messages == 0
    assert escalation.advance(engine, s, local("08:14:59")).messages == 0
    assert outbox(engine, "tl") == []
    sent = escalation.advance(engine, s, local("08:15"))
    assert (sent.steps, sent.messages) == (0, 1)

    [message] = outbox(engine, "tl")
    assert message.payload["text"] == "\n".join(
        [
            "2 items need your attention:",
            item("Willy One", "reading", "no answer (due 08:00)"),
            item("Wanda Two", "pump", "no answer (due 08:03)", index=2),
        ]
    )
    assert len(message.payload["reply_markup"]["inline_keyboard"]) == 4
    assert {n.outbox_id for n in notice_rows(engine)} == {message.id}
    assert {n.state for n in notice_rows(engine)} == {"queued"}
    assert escalation.advance(engine, s, local("08:30")).messages == 0


def test_an_urgent_item_sends_the_group_at_once(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path, duty("reading", "w1"), duty("pump", "w2", due="08:02", urgent=True))
    s = settings(levels=("10m",), window="5m")
    start_day(engine, s, local("06:00"), local("07:00"))

    assert escalation.advance(engine, s, local("08:10")).messages == 0
    urgent = escalation.advance(engine, s, local("08:12"))  # not 08:15, nor 08:17
    assert (urgent.steps, urgent.messages) == (2, 1)  # the only level, then the end
    [message] = outbox(engine, "tl")
    assert message.created_at == local("08:12")
    assert message.payload["text"].splitlines()[1:] == [
        item("Willy One", "reading", "no answer (due 08:00)"),
        item("Wanda Two", "pump", "no answer (due 08:02)", index=2),
    ]
    assert [n.urgent for n in notice_rows(engine)] == [False, True]


# --- quiet hours ---------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["config", "person"])
def test_quiet_hours_hold_a_step_until_six_and_urgent_goes_at_once(
    engine: Engine, tmp_path: Path, source: str
) -> None:
    build(
        engine,
        tmp_path,
        duty("reading", "w1", nudge="21:00", due="22:00"),
        duty("pump", "w2", nudge="21:00", due="22:00", urgent=True),
    )
    s = settings(levels=("1h", "10h"), quiet="22:00-06:00" if source == "config" else "")
    if source == "person":
        with Session(engine) as session:
            session.execute(
                update(Person).where(col(Person.key) == "tl").values(quiet_hours="22:00-06:00")
            )
            session.commit()
    start_day(engine, s, local("20:00"), local("21:00"))
    next_day = DAY + timedelta(days=1)

    at_eleven = escalation.advance(engine, s, local("23:00"))  # 22:00 UTC
    assert (at_eleven.steps, at_eleven.messages) == (2, 1)
    held, urgent = notice_rows(engine)
    assert held.deliver_at == local("06:00", next_day) == datetime(2026, 11, 18, 5, 0, tzinfo=UTC)
    assert (held.state, urgent.deliver_at, urgent.state) == ("pending", local("23:00"), "queued")
    assert texts_to(engine, "tl") == [
        "1 item needs your attention:\n"
        + item("Wanda Two", "pump", "no answer (due 22:00)")
    ]  # fmt: skip
    for clock in ("01:00", "05:00", "05:59:59"):
        assert escalation.advance(engine, s, local(clock, next_day)).messages == 0
    assert len(outbox(engine, "tl")) == 1
    assert escalation.advance(engine, s, local("06:00", next_day)).messages == 1
    assert len(outbox(engine, "tl")) == 2
    assert outbox(engine, "tl")[1].created_at == local("06:00", next_day)
    assert "Willy One — 1. Read the meters: no answer" in texts_to(engine, "tl")[1]


def test_quiet_hours_end_at_six_local_on_the_dst_night(engine: Engine, tmp_path: Path) -> None:
    saturday = date(2026, 10, 24)  # the clocks go back at 03:00 on Sunday morning
    build(
        engine,
        tmp_path,
        duty("reading", "w1", nudge="21:00", due="22:00", schedule="daily"),
        at=local("12:00", saturday),
    )
    s = settings(levels=("1h", "10h"), quiet="22:00-06:00")
    start_day(engine, s, local("18:00", saturday), local("21:00", saturday))
    sunday = saturday + timedelta(days=1)

    step_at = datetime(2026, 10, 24, 21, 0, tzinfo=UTC)  # 23:00 CEST
    assert local("23:00", saturday) == step_at
    assert escalation.advance(engine, s, step_at).steps == 1
    [held] = notice_rows(engine)
    morning = datetime(2026, 10, 25, 5, 0, tzinfo=UTC)  # 06:00 CET, eight hours later
    assert held.deliver_at == morning == local("06:00", sunday)
    # 04:00 UTC is 06:00 at the evening's offset (CEST): still quiet, the clocks went back.
    for instant in (morning - timedelta(hours=1), morning - timedelta(seconds=1)):
        assert escalation.advance(engine, s, instant).messages == 0
    assert outbox(engine, "tl") == []
    assert escalation.advance(engine, s, morning).messages == 1
    assert len(outbox(engine, "tl")) == 1


# --- the chain: deputies, vacancies, leaders' own duties ------------------------------------------


def test_the_deputy_stands_in_for_an_absent_leader(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path, duty("reading", "w1"))
    add_absence(engine, "wh", DAY, DAY, AbsenceKind.LEAVE, "", local("06:00"))
    s = settings()
    start_day(engine, s, local("06:00"), local("07:00"))
    person = ids(engine)

    escalation.advance(engine, s, local("08:10"))
    escalation.advance(engine, s, local("08:30"))
    assert notices(engine) == [("l0", "escalate", "tl"), ("l1", "escalate", "wd")]
    assert audit(engine, "escalation.step")[1].data["to"] == [person["wd"]]
    assert outbox(engine, "wh") == []
    assert len(outbox(engine, "wd")) == 1


def test_a_vacant_unit_is_skipped_and_reported_once_a_day(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path, duty("v1", "w3"), duty("v2", "w3", due="08:05"))
    s = settings()
    start_day(engine, s, local("06:00"), local("07:00"))

    first = escalation.advance(engine, s, local("08:10"))
    assert first.vacancies == ["vacant"]
    second = escalation.advance(engine, s, local("08:15"))
    assert second.vacancies == []
    escalation.advance(engine, s, local("08:35"))  # both climb on to the plant manager
    assert notices(engine) == [
        ("l0", "escalate", "wh"),
        ("l0", "escalate", "wh"),
        ("l1", "escalate", "pm"),
        ("l1", "escalate", "pm"),
    ]
    assert texts_to(engine, "adm", "notice") == [
        "Vacant post: unit vacant has nobody to escalate to today (no leader and no deputy)."
        " Escalations skip to the next level."
    ]
    assert len(audit(engine, "vacancy.reported")) == 1
    with Session(engine) as session:
        [report] = session.exec(select(Report)).all()
        assert (report.kind, report.subject, report.period) == ("vacancy", "vacant", "2026-11-17")


def test_a_vacancy_is_reported_again_on_the_next_plant_day(engine: Engine, tmp_path: Path) -> None:
    """The next plant day may start before the next UTC day does (Berlin is ahead of UTC)."""
    build(engine, tmp_path, duty("v1", "w3"), duty("night", "w3", nudge="23:00", due="+1h"))
    s = settings(levels=("30m",))
    start_day(engine, s, local("06:00"), local("07:00"))
    nudging.queue_due(engine, s, local("23:00"))

    assert escalation.advance(engine, s, local("11:00")).vacancies == ["vacant"]
    after_midnight = local("00:30", DAY + timedelta(days=1))  # still 2026-11-17 in UTC
    assert after_midnight.date() == DAY
    assert escalation.advance(engine, s, after_midnight).vacancies == ["vacant"]
    assert len(texts_to(engine, "adm", "notice")) == 2
    with Session(engine) as session:
        periods = sorted(r.period for r in session.exec(select(Report)).all())
    assert periods == ["2026-11-17", "2026-11-18"]


def test_a_leaders_own_duty_climbs_from_the_parent_unit(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path, duty("tl-report", "tl"), duty("wh-report", "wh"))
    s = settings(levels=("10m",))
    start_day(engine, s, local("06:00"), local("07:00"))

    escalation.advance(engine, s, local("08:10"))
    assert sorted(notices(engine)) == [("l0", "escalate", "pm"), ("l0", "escalate", "wh")]
    assert texts_to(engine, "wh") == [
        "1 item needs your attention:\n" + item("Tina Lead", "tl-report", "no answer (due 08:00)")
    ]


# --- reports -------------------------------------------------------------------------------------


def test_unreachable_people_are_reported_once(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path, duty("nj-duty", "nj"), duty("pump", "w2"))
    s = settings()
    start_day(engine, s, local("06:00"), local("07:00"))
    assert occurrence(engine, "nj-duty").nudge_state == "no_chat"

    assert reports.unreachable(engine, s, local("07:05")) == 1
    [text] = texts_to(engine, "tl", "notice")
    assert text.startswith(
        "Nina Never cannot be reached by execbot (never joined), so their duties cannot be"
        " nudged. Please ask them to open this invite link: https://t.me/execbot_test?start="
    )
    with Session(engine) as session:
        [invite] = session.exec(select(Invite)).all()
        assert invite.person_id == ids(engine)["nj"]
        assert invite.expires_at == local("07:05") + timedelta(days=7)
    before = counts(engine)
    assert reports.unreachable(engine, s, local("08:05")) == 0
    assert counts(engine) == before

    with session_scope(engine) as session:
        assert mark_unreachable(session, ids(engine)["w2"], "blocked the bot", local("08:06"))
    assert reports.unreachable(engine, s, local("08:10")) == 1
    assert texts_to(engine, "tl", "notice")[1] == (
        "Wanda Two cannot be reached by execbot (blocked the bot), so their duties cannot be"
        " nudged. Ask the plant admin for a new invite link for them."
    )
    assert reports.unreachable(engine, s, local("09:10")) == 0
    assert len(texts_to(engine, "tl", "notice")) == 2
    assert len(audit(engine, "unreachable.reported")) == 2


# --- leader actions ----------------------------------------------------------------------------


def escalated_to_tina(engine: Engine, tmp_path: Path, s: Settings) -> int:
    """Willy's reading (due 08:00) reached Tina at 08:10; returns the occurrence id."""
    build(engine, tmp_path, duty("reading", "w1"), duty("pump", "w2", due="14:00"))
    start_day(engine, s, local("06:00"), local("07:00"))
    escalation.advance(engine, s, local("08:10"))
    assert notices(engine)[0] == ("l0", "escalate", "tl")
    return int(occurrence(engine, "reading").id)


def test_ack_holds_the_climb_until_the_ack_timeout(engine: Engine, tmp_path: Path) -> None:
    s = settings()
    occ_id = escalated_to_tina(engine, tmp_path, s)
    [message] = outbox(engine, "tl")
    with session_scope(engine) as session:
        record_sent(session, [(message.id or 0, 555, local("08:10"))])
    person = ids(engine)

    outcome = act(engine, s, "tl", f"e:a:{occ_id}", local("08:12"))
    assert outcome.recorded
    assert outcome.answer == (
        "You took 1. Read the meters of Willy One. If it is not resolved within 20 minutes,"
        " it climbs again."
    )
    [edit] = outcome.edits  # Tina's own message now says who took it, without buttons
    assert (edit.chat_id, edit.message_id, edit.reply_markup) == (CHATS["tl"], 555, None)
    assert edit.text.endswith("Read the meters: taken by Tina Lead")
    assert climb(engine, "reading")[4:] == (person["tl"], local("08:32"))  # not 08:30
    [acked] = audit(engine, "escalation.acked")
    assert acked.actor_person_id == person["tl"]

    assert escalation.advance(engine, s, local("08:30")).steps == 0
    assert escalation.advance(engine, s, local("08:31:59")).steps == 0
    assert escalation.advance(engine, s, local("08:32")).steps == 1
    assert notices(engine)[-1] == ("l1", "escalate", "wh")
    assert audit(engine, "escalation.step")[-1].data == {
        "kind": "escalate", "index": 1, "reason": "ack_timeout", "to": [person["wh"]],
    }  # fmt: skip
    assert climb(engine, "reading")[4:] == (None, local("09:00"))  # the ack is spent


def test_excuse_closes_the_item_and_tells_the_person(engine: Engine, tmp_path: Path) -> None:
    s = settings()
    occ_id = escalated_to_tina(engine, tmp_path, s)

    asked = act(engine, s, "tl", f"e:x:{occ_id}", local("08:12"))
    assert not asked.recorded and asked.prompt is not None and asked.prompt.force_reply
    assert asked.prompt.text == (
        "Why is 1. Read the meters of Willy One excused? Reply with a short reason."
    )
    assert climb(engine, "reading")[0] == "open"
    with session_scope(engine) as session:
        tina = person_by_key(session, "tl")
        assert tina is not None
        question = pending_input(session, tina.id or 0, local("08:13"))
        assert question is not None and question.kind == "excuse"
        done = actions.excuse(session, s, tina, question, "the meter is broken", local("08:13"))
    assert done.recorded and done.answer == "Excused: 1. Read the meters of Willy One."
    assert climb(engine, "reading") == ("excused", 0, 1, True, ids(engine)["tl"], None)
    assert texts_to(engine, "w1", "notice") == [
        "Tina Lead excused 1. Read the meters: the meter is broken"
    ]
    [event] = audit(engine, "occurrence.excused")
    assert event.data == {"reason": "the meter is broken"}
    with Session(engine) as session:
        assert session.exec(select(PendingInput)).all() == []
    assert escalation.advance(engine, s, local("10:00")).steps == 0
    again = act(engine, s, "tl", f"e:a:{occ_id}", local("08:14"))
    assert again.answer == "Nothing to do: that item is already excused."


def test_nudge_again_sends_the_duty_to_the_person(engine: Engine, tmp_path: Path) -> None:
    s = settings()
    occ_id = escalated_to_tina(engine, tmp_path, s)

    outcome = act(engine, s, "tl", f"e:n:{occ_id}", local("08:15"))
    assert outcome.recorded and outcome.answer == "Sent Willy One the duty again."
    [renudge] = outbox(engine, "w1", "renudge")
    assert renudge.payload["text"] == "Tina Lead asks again about 1. Read the meters (due 08:00)."
    data = [b["callback_data"] for row in renudge.payload["reply_markup"]["inline_keyboard"]
            for b in row]  # fmt: skip
    assert f"r:d:{occ_id}" in data
    assert len(audit(engine, "escalation.renudged")) == 1
    assert climb(engine, "reading")[:3] == ("open", 0, 1)  # the climb goes on
    escalation.advance(engine, s, local("08:30"))
    assert notices(engine)[-1] == ("l1", "escalate", "wh")


def test_reassign_gives_the_duty_to_another_worker(engine: Engine, tmp_path: Path) -> None:
    s = settings()
    occ_id = escalated_to_tina(engine, tmp_path, s)
    person = ids(engine)

    asked = act(engine, s, "tl", f"e:r:{occ_id}", local("08:14"))
    assert asked.prompt is not None and asked.prompt.reply_markup is not None
    keyboard: Any = asked.prompt.reply_markup["inline_keyboard"]
    choices = [row[0] for row in keyboard]
    assert [c["text"] for c in choices] == ["Nina Never", "Tina Lead", "Wanda Two"]
    refused = act(engine, s, "tl", f"e:p{person['w3']}:{occ_id}", local("08:15"))
    assert refused.answer == "That person is not in your units."

    outcome = act(engine, s, "tl", f"e:p{person['w2']}:{occ_id}", local("08:15"))
    assert outcome.recorded
    # Due at now + the duty's own window (07:00 -> 08:00: one hour), not at the old 08:00.
    assert outcome.answer == (
        "Reassigned 1. Read the meters to Wanda Two; they get it now, due 09:15."
    )
    assert climb(engine, "reading", "w1")[0] == "reassigned"
    assert occurrence(engine, "reading", "w1").next_step_at is None
    assert occurrence(engine, "reading", "w1").reassigned_to == person["w2"]
    new = occurrence(engine, "reading", "w2")
    assert (new.status, new.nudge_state, new.number) == ("open", "pending", 2)
    assert new.nudge_at == local("08:15") and new.policy == occurrence(engine, "pump").policy
    assert new.due_at == local("09:15") and new.next_step_at == local("09:25")
    [event] = audit(engine, "occurrence.reassigned")
    assert event.data == {"to": "w2", "due": local("09:15").isoformat()}

    assert nudging.queue_due(engine, s, local("08:15:10")).messages == 1
    nudge = outbox(engine, "w2", "nudge")[-1]
    assert "2. Read the meters (due 09:15)" in nudge.payload["text"]
    assert occurrence(engine, "reading", "w2").nudge_state == "queued"
    assert escalation.advance(engine, s, local("09:24")).steps == 0  # not before due + 10m
    escalation.advance(engine, s, local("09:25"))  # Wanda's silence climbs on its own
    assert notices(engine)[-1] == ("l0", "escalate", "tl")
    assert notice_rows(engine)[-1].occurrence_id == new.id


def test_resolving_a_block_tells_the_person_and_everyone_notified(
    engine: Engine, tmp_path: Path
) -> None:
    build(engine, tmp_path, duty("pump", "w2"))
    s = settings()
    start_day(engine, s, local("06:00"), local("07:00"))
    pump = occurrence(engine, "pump")
    blocked = replies.tap(
        engine, s, replies.Incoming(CHATS["w2"], 1, None, local("07:05")), f"c:m:{pump.id}"
    )
    assert blocked.recorded
    assert occurrence(engine, "pump").next_step_at == local("07:05")  # a block climbs at once

    escalation.advance(engine, s, local("07:05"))
    escalation.advance(engine, s, local("07:35"))
    assert notices(engine) == [("l0", "block", "tl"), ("l1", "block", "wh")]
    with Session(engine) as session:
        labels = [n.step for n in session.exec(select(Notice).order_by(col(Notice.id))).all()]
    assert labels == [  # each labelled with the instant its step came due
        f"l0@{int(local('07:05').timestamp())}",
        f"l1@{int(local('07:35').timestamp())}",
    ]
    [to_tina] = texts_to(engine, "tl")
    assert to_tina.endswith("Wanda Two — 1. Service the pump: ⛔ blocked (Materials or tools)")
    with Session(engine) as session:
        message = session.exec(select(Outbox).where(Outbox.chat_id == CHATS["tl"])).one()
    keys = [b["callback_data"] for row in message.payload["reply_markup"]["inline_keyboard"]
            for b in row]  # fmt: skip
    assert f"e:s:{pump.id}" in keys

    outcome = act(engine, s, "tl", f"e:s:{pump.id}", local("07:40"))
    assert outcome.answer == "Resolved: the block on 1. Service the pump of Wanda Two."
    assert climb(engine, "pump")[0] == "resolved"
    told = "Tina Lead resolved the block on 1. Service the pump (Wanda Two)."
    assert texts_to(engine, "w2", "notice") == [told]
    assert texts_to(engine, "wh", "notice") == [told]
    assert texts_to(engine, "tl", "notice") == []
    assert len(audit(engine, "block.resolved")) == 1
    assert escalation.advance(engine, s, local("10:00")).steps == 0


def test_only_the_chain_above_and_admins_may_act(engine: Engine, tmp_path: Path) -> None:
    s = settings()
    occ_id = escalated_to_tina(engine, tmp_path, s)
    before = counts(engine), climb(engine, "reading")
    refusal = "Only the leaders above Willy One, and admins, can act on this item."
    for worker in ("w2", "w1", "w3"):
        for code in "axnrs":
            outcome = act(engine, s, worker, f"e:{code}:{occ_id}", local("08:12"))
            assert (outcome.answer, outcome.recorded) == (refusal, False)
    assert (counts(engine), climb(engine, "reading")) == before

    only = act(engine, s, "tl", f"e:s:{occ_id}", local("08:12"))
    assert only.answer == "Only a blocked item can be resolved."
    outcome = act(engine, s, "adm", f"e:a:{occ_id}", local("08:12"))
    assert outcome.recorded
    assert climb(engine, "reading")[4] == ids(engine)["adm"]
    manager = act(engine, s, "pm", f"e:n:{occ_id}", local("08:13"))  # above, not yet notified
    assert manager.recorded


def test_reassigning_back_starts_a_fresh_climb(engine: Engine, tmp_path: Path) -> None:
    """Willy -> Wanda -> Willy again: his old row is reopened, and climbs (and notifies) anew."""
    s = settings()
    occ_id = escalated_to_tina(engine, tmp_path, s)
    person = ids(engine)
    act(engine, s, "tl", f"e:p{person['w2']}:{occ_id}", local("08:15"))
    wanda = occurrence(engine, "reading", "w2")
    nudging.queue_due(engine, s, local("08:15"))
    escalation.advance(engine, s, local("09:25"))  # Wanda: due 09:15 (one hour's window)
    assert notices(engine)[-1] == ("l0", "escalate", "tl")

    back = act(engine, s, "tl", f"e:p{person['w1']}:{wanda.id}", local("09:30"))
    assert back.recorded
    willy = occurrence(engine, "reading", "w1")
    assert willy.id == occ_id
    assert (willy.status, willy.acked_by, willy.acked_at, willy.escalation_ended) == (
        "open", None, None, False,
    )  # fmt: skip
    assert willy.due_at == local("10:30") and willy.next_step_at == local("10:40")
    assert nudging.queue_due(engine, s, local("09:30")).messages == 1

    assert escalation.advance(engine, s, local("10:40")).steps == 1
    assert [n for n in notice_rows(engine) if n.occurrence_id == occ_id][-1].recipient_id == (
        person["tl"]
    )
    assert len(outbox(engine, "tl")) == 3  # Willy's first climb, Wanda's, Willy's second
    assert texts_to(engine, "tl")[-1].endswith("2. Read the meters: no answer (due 10:30)")
    assert notices(engine)[-1] == ("l0", "escalate", "tl")  # level 0 again, a notice of its own
    with Session(engine) as session:
        last = session.exec(select(Notice).order_by(col(Notice.id).desc())).first()
    assert last is not None and last.step == f"l0@{int(local('10:40').timestamp())}"
    escalation.advance(engine, s, local("11:00"))
    assert len(outbox(engine, "wh")) == 1


def test_a_held_notice_about_a_finished_item_is_not_sent(engine: Engine, tmp_path: Path) -> None:
    build(
        engine,
        tmp_path,
        duty("reading", "w1", nudge="21:00", due="22:00"),
        duty("pump", "w2", nudge="21:00", due="22:00"),
    )
    s = settings(reminders=("0m",), levels=("1h", "10h"), quiet="22:00-06:00")
    start_day(engine, s, local("20:00"), local("21:00"))
    next_day = DAY + timedelta(days=1)
    reading, pump = occurrence(engine, "reading"), occurrence(engine, "pump")

    escalation.advance(engine, s, local("22:00"))  # both reminders wait for 06:00
    done = replies.tap(
        engine, s, replies.Incoming(CHATS["w1"], 7, None, local("22:30")), f"r:d:{reading.id}"
    )
    assert done.recorded  # Willy did it: his reminder is moot
    escalation.advance(engine, s, local("23:00"))  # Wanda's item for Tina waits for 06:00 too
    assert notices(engine) == [
        ("r0", "remind", "w1"),
        ("r0", "remind", "w2"),
        ("l0", "escalate", "tl"),
    ]
    assert {n.deliver_at for n in notice_rows(engine)} == {local("06:00", next_day)}
    act(engine, s, "adm", f"e:x:{pump.id}", local("05:30", next_day))
    with session_scope(engine) as session:
        admin = person_by_key(session, "adm")
        assert admin is not None
        question = pending_input(session, admin.id or 0, local("05:31", next_day))
        assert question is not None
        actions.excuse(session, s, admin, question, "pump replaced", local("05:31", next_day))

    assert escalation.advance(engine, s, local("06:00", next_day)).messages == 0
    assert outbox(engine, "w1") == [] and outbox(engine, "w2") == [] and outbox(engine, "tl") == []
    assert [n.state for n in notice_rows(engine)] == ["moot", "moot", "moot"]


def test_a_promise_after_a_block_climbs_on_with_notices_of_its_own(
    engine: Engine, tmp_path: Path
) -> None:
    """Silence reaches level 3, a block restarts the climb, a promise continues it: its next
    level is level 3 again, and that notice goes out (it is not taken for the silence one)."""
    build(engine, tmp_path, duty("pump", "w2"))
    s = settings(levels=("10m", "20m", "30m"))
    start_day(engine, s, local("06:00"), local("07:00"))
    for at in ("08:10", "08:20", "08:30"):
        escalation.advance(engine, s, local(at))
    pump = occurrence(engine, "pump")
    blocked = replies.tap(
        engine, s, replies.Incoming(CHATS["w2"], 1, None, local("08:35")), f"c:w:{pump.id}"
    )
    assert blocked.recorded
    escalation.advance(engine, s, local("08:35"))
    escalation.advance(engine, s, local("08:55"))
    promised = replies.typed(
        engine, s, replies.Incoming(CHATS["w2"], 2, None, local("08:56")), "later 1 08:58"
    )
    assert promised is not None and promised.recorded
    escalation.advance(engine, s, local("09:05"))
    assert notices(engine) == [
        ("l0", "escalate", "tl"),
        ("l1", "escalate", "wh"),
        ("l2", "escalate", "pm"),
        ("l0", "block", "tl"),
        ("l1", "block", "wh"),
        ("l2", "escalate", "pm"),  # the missed promise climbs on to the plant manager
    ]
