"""The weekly report: to every leader, at ``[reports] weekly_at`` in their time zone, one
photo (``bot.render.charts``: execution layer by layer, the 12-week trend one level down,
blocks by side) with a short caption (the week's rate of their subtree, the weakest unit one
level down, the count of not done and of unresolved blocks).

Once per leader and week, also after a restart or on a second instance: the outbox's dedupe
key ``weekly:<person id>:<send day>`` is checked before anything is computed, and the outbox
refuses a second row with it. The PNG (a 128-colour palette, about 90 KiB) travels base64
in the outbox row: the only store every instance shares is the database, and whichever
instance holds the sender sends it. The charts are drawn outside any transaction, at most
``CHARTS_PER_PASS`` a pass.

The figures come from ``bot.store.figures`` (SQL aggregation): per pass, each period's
figures of every unit and person are read once and shared by every leader due.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.numbers import format_percent
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.render import dates, texts
from bot.render.charts import Level, WeeklyChart, render_weekly
from bot.store import figures, org, outbox
from bot.store.engine import session_scope
from models.figures import Figures, total
from models.orgtree import OrgTree, TreePerson
from models.tables import Outbox, Person
from models.weekly import WEEK, covered, send_day

log = logging.getLogger(__name__)
WEEKS = 12  # weeks in the trend
KIND = "weekly"
# Charts drawn per pass (about 0.25 s of CPU each): the leaders due beyond them get theirs at
# the next pass, a minute later (600 leaders in one time zone: all within 20 minutes).
CHARTS_PER_PASS = 30


@dataclass(slots=True)
class _Periods:
    """Figures of every unit (and, for the report weeks, every person) per week, read once
    per pass and period."""

    session: Session
    now: datetime
    units: dict[date, dict[int, Figures]] = field(default_factory=dict)
    people: dict[date, dict[int, Figures]] = field(default_factory=dict)

    def unit(self, start: date) -> dict[int, Figures]:
        if start not in self.units:
            end = start + WEEK - timedelta(days=1)
            self.units[start] = figures.unit_figures(self.session, start, end, self.now)
        return self.units[start]

    def person(self, start: date) -> dict[int, Figures]:
        if start not in self.people:
            end = start + WEEK - timedelta(days=1)
            self.people[start] = figures.person_figures(self.session, start, end, self.now)
        return self.people[start]


def dedupe_key(person_id: int, day: date) -> str:
    return f"{KIND}:{person_id}:{day.isoformat()}"


def queue_due(engine: Engine, settings: Settings, now: datetime) -> int:
    """Queue the weekly report of every leader whose report is due at ``now`` and not queued
    yet; returns how many were queued."""
    weekday, at = settings.reports.weekly
    with session_scope(engine) as session:
        leaders = [
            p
            for p in org.people_by_ids(session, sorted(org.leading_person_ids(session))).values()
            if p.active and p.telegram_user_id is not None
        ]
        if not leaders:
            return 0
        zone_of = org.timezones(session, settings.plant.timezone)
        due: list[tuple[Person, date]] = []
        for person in leaders:
            local = now.astimezone(ZoneInfo(zone_of(person.timezone, person.unit_id)))
            day = send_day(local, weekday, at)
            if day is not None:
                due.append((person, day))
        stored = outbox.stored_dedupe_keys(session, [dedupe_key(p.id or 0, d) for p, d in due])
        due = [(p, d) for p, d in due if dedupe_key(p.id or 0, d) not in stored]
        if not due:
            return 0
        facts = org.tree_facts(session)
        tree = OrgTree(facts.units, facts.people)
        names = org.unit_names(session, [u.id for u in tree.units()])
        periods = _Periods(session, now)
        reports = []
        for person, day in sorted(due, key=lambda item: item[0].id or 0)[:CHARTS_PER_PASS]:
            report = _report(tree, facts.people, names, periods, person, day)
            if report is not None:
                reports.append((person, day, report))
    # Drawn outside the transaction, each stored in its own: no write waits for the charts.
    queued = 0
    for person, day, report in reports:
        message = _message(person, day, report, now)
        with session_scope(engine) as session:
            if outbox.enqueue(session, message) is not None:
                queued += 1
    if queued:
        log.info("queued %d weekly reports", queued)
    return queued


@dataclass(frozen=True, slots=True)
class Report:
    """One leader's weekly report, as plain data: the chart and the caption's facts."""

    chart: WeeklyChart
    unit: str
    week: int
    start: date
    end: date
    total: Figures
    weakest: tuple[str, float] | None


def build(
    tree: OrgTree,
    members: list[TreePerson],
    names: dict[int, str],
    unit_week: list[dict[int, Figures]],
    people_week: dict[int, Figures],
    person_id: int,
    lang: str,
    day: date,
) -> Report | None:
    """The report of the leader ``person_id`` sent on ``day``, from the figures of every unit
    over the ``WEEKS`` weeks before (oldest first, the report's week last) and of every person
    that week (``members``: the people of the tree); None when they lead no unit."""
    led = tree.units_led_by(person_id)
    tops = [u for u in led if not any(a in led for a in _above(tree, u))]
    if not tops:
        return None
    start, end = covered(day)
    week = unit_week[-1]
    depths: dict[int, list[int]] = {}
    for top in tops:
        for unit_id, depth in tree.walk(top):
            depths.setdefault(depth, []).append(unit_id)
    levels = []
    for depth in sorted(depths):
        units = depths[depth]
        name = (
            names.get(units[0], "?")
            if depth == 0 and len(units) == 1
            else texts.render(lang, "weekly.level", depth=depth + 1)
        )
        levels.append(
            Level(
                name,
                total([week.get(u, Figures()) for u in units]).rate,
                [(names.get(u, "?"), week.get(u, Figures()).rate) for u in units],
            )
        )
    subtree = {u for units in depths.values() for u in units}
    people = [
        rate
        for p in members
        if p.active and p.unit_id in subtree
        for rate in [people_week.get(p.id, Figures()).rate]
        if rate is not None
    ]
    below = depths.get(1) or depths[0]
    trend = [
        (names.get(u, "?"), [weekly.get(u, Figures()).rate for weekly in unit_week]) for u in below
    ]
    blocks = [
        (names.get(u, "?"), f.blocked_process, f.blocked_skill, f.blocked_other)
        for u in below
        for f in [week.get(u, Figures())]
    ]
    weeks = [
        str((day - WEEK * (len(unit_week) - i)).isocalendar().week) for i in range(len(unit_week))
    ]
    unit = names.get(tops[0], "?") if len(tops) == 1 else ", ".join(names.get(u, "?") for u in tops)
    number = start.isocalendar().week
    rated = [
        (names.get(u, "?"), r) for u in below if (r := week.get(u, Figures()).rate) is not None
    ]
    chart = WeeklyChart(
        title=texts.render(lang, "weekly.title", unit=unit, week=number),
        levels=levels,
        people=people,
        weeks=weeks,
        trend=trend,
        blocks=blocks,
    )
    return Report(
        chart=chart,
        unit=unit,
        week=number,
        start=start,
        end=end,
        total=total([week.get(u, Figures()) for u in tops]),
        weakest=min(rated, key=lambda item: item[1]) if len(rated) > 1 else None,
    )


def caption(lang: str, report: Report) -> str:
    """The photo's caption: the week's rate, the weakest unit, not done, unresolved."""

    def percent(rate: float | None) -> str:
        return "–" if rate is None else str(format_percent(rate, locale=texts.locale(lang)))

    period = f"{dates.short_day(lang, report.start)} – {dates.short_day(lang, report.end)}"
    params = {
        "unit": report.unit,
        "week": report.week,
        "period": period,
        "rate": percent(report.total.rate),
        "not_done": report.total.not_done,
        "unresolved": report.total.unresolved,
    }
    if report.weakest is None:
        return texts.render(lang, "weekly.caption_no_weakest", **params)
    name, rate = report.weakest
    return texts.render(lang, "weekly.caption", weakest=name, weakest_rate=percent(rate), **params)


def _above(tree: OrgTree, unit_id: int) -> list[int]:
    out, parent = [], tree.unit(unit_id).parent_id
    while parent is not None and parent not in out:
        out.append(parent)
        parent = tree.unit(parent).parent_id
    return out


def _report(
    tree: OrgTree,
    members: list[TreePerson],
    names: dict[int, str],
    periods: _Periods,
    person: Person,
    day: date,
) -> Report | None:
    start, _ = covered(day)
    starts = [start - WEEK * (WEEKS - 1 - i) for i in range(WEEKS)]
    return build(
        tree,
        members,
        names,
        [periods.unit(s) for s in starts],
        periods.person(start),
        person.id or 0,
        person.language,
        day,
    )


def _message(person: Person, day: date, report: Report, now: datetime) -> Outbox:
    png = render_weekly(person.language, report.chart)
    return Outbox(
        created_at=now,
        chat_id=person.telegram_user_id or 0,
        person_id=person.id,
        kind=KIND,
        dedupe_key=dedupe_key(person.id or 0, day),
        payload={
            "method": "sendPhoto",
            "photo": base64.b64encode(png).decode("ascii"),
            "filename": f"week-{report.week}.png",
            "caption": caption(person.language, report),
        },
        next_attempt_at=now,
    )
