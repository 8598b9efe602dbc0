"""``/report`` and ``/me``: the supervision figures (``models.figures``) in chat, as text.

``/report`` shows a leader this week (Monday to today, in the reader's time zone) over each
unit they lead: the unit's own line (its whole subtree), one line per unit one level down,
then the people of the unit itself who had something due. ``/report month`` is this calendar
month; ``/report <unit key>`` one unit inside the reader's subtree (an admin: any unit). The
figures are counted by the database (``bot.store.figures``); a long report is shortened as
``/team`` is (``models.board.fit_board``): deeper rows, then people, are left out and counted.

``/me`` is the person's own month: on time, late, not done, blocks by side, the rate and the
on-time streak (``models.figures.streak``, over the last ``STREAK_DAYS`` days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.numbers import format_percent
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.render import dates, texts
from bot.store import figures as store
from bot.store import org
from bot.store.engine import session_scope
from models.board import fit_board
from models.figures import Figures, streak
from models.tables import Person

STREAK_DAYS = 92  # how far back /me's streak looks
NO_RATE = "–"  # the rate of nothing due


@dataclass(frozen=True, slots=True)
class Request:
    """What ``/report``'s arguments ask for."""

    month: bool = False
    unit_key: str | None = None


def parse(args: list[str]) -> Request:
    """``month`` (or ``week``, the default) and at most one unit key, in any order."""
    month, key = False, None
    for arg in args:
        word = arg.strip()
        if word.lower() == "month":
            month = True
        elif word.lower() == "week":
            month = False
        elif word:
            key = word
    return Request(month, key)


def period(today: date, month: bool) -> tuple[date, date]:
    """This week (Monday to today) or this month (the 1st to today)."""
    start = today.replace(day=1) if month else today - timedelta(days=today.weekday())
    return start, today


def rate_label(lang: str, figures: Figures) -> str:
    """The execution rate as a percentage in the reader's language ("75%", "75 %")."""
    rate = figures.rate
    if rate is None:
        return NO_RATE
    return str(format_percent(rate, locale=texts.locale(lang)))


def line(lang: str, indent: str, name: str, f: Figures) -> str:
    return texts.render(
        lang, "report.row", indent=indent, name=name, rate=rate_label(lang, f),
        on_time=f.on_time, late=f.late, not_done=f.not_done, open=f.open,
        process=f.blocked_process, skill=f.blocked_skill, other=f.blocked_other,
        unresolved=f.unresolved, excused=f.excused, absent=f.absent,
    )  # fmt: skip


def _today(session: Session, settings: Settings, viewer: Person, now: datetime) -> date:
    """Today in the reader's time zone."""
    tz = org.timezone_of(session, settings.plant.timezone, viewer.timezone, viewer.unit_id)
    return now.astimezone(ZoneInfo(tz)).date()


def report(
    engine: Engine, settings: Settings, person_id: int, lang: str, now: datetime, args: list[str]
) -> str:
    request = parse(args)
    with session_scope(engine) as session:
        viewer = org.person_by_id(session, person_id)
        assert viewer is not None
        admin = viewer.key in settings.access.admins
        if admin:
            tree = org.unit_tree(session)
            tops = [unit for unit in tree.units() if unit.parent_id is None]
        else:
            led = org.leadership_units(session, person_id)
            if not led:
                return texts.render(lang, "report.not_leader")
            tree = org.units_under(session, led)
            tops = [unit for unit in tree.units() if unit.parent_id is None]
        if request.unit_key is not None:
            unit = org.unit_by_key(session, request.unit_key)
            if unit is None or unit.id is None:
                return texts.render(lang, "report.unknown_unit", key=request.unit_key)
            if not admin and unit.id not in {u.id for u in tree.units()}:
                return texts.render(lang, "report.outside", key=request.unit_key)
            if admin:
                tree = org.units_under(session, [unit.id])
            roots = [unit.id]
        else:
            roots = [unit.id for unit in sorted(tops, key=lambda unit: unit.key)]
        if not roots:
            return texts.render(lang, "report.not_leader")
        today = _today(session, settings, viewer, now)
        start, end = period(today, request.month)
        children = {root: [c for c, depth in tree.walk(root) if depth == 1] for root in roots}
        shown = [u for root in roots for u in (root, *children[root])]
        units = store.unit_figures(session, start, end, now, shown)
        names = org.unit_names(session, shown)
        people = org.active_people_in(session, roots, but=0)
        mine = store.person_figures(session, start, end, now, [p.id for p in people if p.id])
    rows = [
        (depth, line(lang, "  " * depth, names.get(unit, "?"), units.get(unit, Figures())))
        for root in roots
        for depth, unit in [(0, root), *((1, c) for c in children[root])]
    ]
    members = [
        line(lang, "  ", person.name, mine[person.id])
        for person in people
        if person.id is not None and mine[person.id].due
    ]
    key = "report.month" if request.month else "report.week"
    header = texts.render(lang, key, start=dates.day(lang, start), end=dates.day(lang, end))
    legend = texts.render(lang, "report.legend")

    def frame(kept: list[str], units_left: int, items: list[str], items_left: int) -> list[str]:
        out = [header, *kept]
        if units_left:
            out.append(texts.render(lang, "board.more_units", count=units_left))
        if items or items_left:
            out.append(texts.render(lang, "report.people"))
            out.extend(items)
        if items_left:
            out.append(texts.render(lang, "board.more_items", count=items_left))
        return [*out, legend]

    return fit_board(rows, members, 0, frame)


def me(engine: Engine, settings: Settings, person_id: int, lang: str, now: datetime) -> str:
    with session_scope(engine) as session:
        viewer = org.person_by_id(session, person_id)
        assert viewer is not None
        today = _today(session, settings, viewer, now)
        start, end = period(today, month=True)
        f = store.person_figures(session, start, end, now, [person_id])[person_id]
        facts = store.person_facts(session, person_id, today - timedelta(days=STREAK_DAYS), end)
    header = texts.render(lang, "me.header", start=dates.day(lang, start), end=dates.day(lang, end))
    if not f.due:
        return "\n".join([header, texts.render(lang, "me.nothing")])
    return "\n".join(
        [
            header,
            texts.render(lang, "me.on_time", count=f.on_time),
            texts.render(lang, "me.late", count=f.late),
            texts.render(lang, "me.not_done", count=f.not_done),
            texts.render(
                lang,
                "me.blocked",
                count=f.blocked,
                process=f.blocked_process,
                skill=f.blocked_skill,
                other=f.blocked_other,
            ),
            texts.render(lang, "me.rate", rate=rate_label(lang, f)),
            texts.render(lang, "me.streak", count=streak(facts, now)),
        ]
    )
