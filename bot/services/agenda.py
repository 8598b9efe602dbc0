"""A person's own agenda: ``/today`` (stored occurrences and their status) and ``/week``
(the plan for the next seven days, from the same planner that creates occurrences)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.services.calendar import work_calendar
from bot.services.planning import absence_index, load_org, plan_duty
from bot.store import org, planning
from bot.store.engine import session_scope
from models.planning import plan_range


@dataclass(frozen=True, slots=True)
class Agenda:
    timezone: str
    today: date
    rows: list[planning.AgendaRow]


@dataclass(frozen=True, slots=True)
class WeekItem:
    day: date
    nudge_at: datetime
    title: str
    absent: bool


def today(engine: Engine, settings: Settings, person_id: int, now: datetime) -> Agenda:
    with session_scope(engine) as session:
        person = org.person_by_id(session, person_id)
        assert person is not None
        tz = org.timezones(session, settings.plant.timezone)(person.timezone, person.unit_id)
        day = now.astimezone(ZoneInfo(tz)).date()
        return Agenda(tz, day, planning.occurrences_of(session, person_id, [day]))


def week(
    engine: Engine, settings: Settings, person_id: int, now: datetime
) -> tuple[str, list[WeekItem]]:
    with session_scope(engine) as session:
        person = org.person_by_id(session, person_id)
        assert person is not None and person.id is not None
        loaded = load_org(session, settings)
        me = next((p for p in loaded.people if p.id == person.id), None)
        if me is None:
            return settings.plant.timezone, []
        first = now.astimezone(ZoneInfo(me.tz)).date()
        days = [first + timedelta(days=i) for i in range(7)]
        planned_ids = {d.id for d in loaded.duties}  # duties whose spec plans cleanly
        concerning = [d for d in planning.duties_concerning(session, person) if d.id in planned_ids]
        mine = [plan_duty(d, loaded.shifts) for d in concerning]
        titles = {d.id: d.title for d in concerning}
        calendar = work_calendar(settings, sorted({d.year for d in days}))
        planned = plan_range(
            days, [me], mine, calendar, loaded.shifts, absence_index(session, days)
        )
    items = [
        WeekItem(p.day, p.nudge_at, titles[p.duty_id], p.absent)
        for p in sorted(planned, key=lambda p: (p.nudge_at, p.duty_id))
        if p.due_at > now
    ]
    return me.tz, items
