"""The daily digest (rules in ``models.digest``): each unit leader, at ``[reports]
digest_at`` in their time zone, gets the day's figures of the units one level below theirs
and of their own team's people, with a trend arrow against the previous four weeks, in their
language. Once per leader and local day: the day is recorded (``bot.store.digest``) in the
transaction that queues the message (whose outbox dedupe key is per leader and day too), so a
pass run again, after a restart or on another instance, sends nothing twice. ``/digest off``
(a stored setting per person) stops it."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.render import dates, texts
from bot.store import digest as store
from bot.store import org, outbox
from bot.store.engine import session_scope
from bot.store.figures import person_figures, unit_figures
from bot.store.settings import delete_setting, get_setting, put_setting, settings_under
from models import digest as rules
from models.figures import Figures
from models.orgtree import OrgTree, TreePerson
from models.shifts import ShiftConfig, parse_shifts, shift_window
from models.tables import Outbox, Person
from models.text_limits import TEXT_LIMIT

log = logging.getLogger(__name__)
OFF = "digest_off:"  # a stored setting per person key: their digest is off
OUTBOX_KIND = "digest"


def is_on(session: Session, person_key: str) -> bool:
    return get_setting(session, OFF + person_key) is None


def switch(engine: Engine, person_id: int, on: bool | None, now: datetime) -> bool:
    """Turn the person's digest on or off (None: leave it); whether it is on now."""
    with session_scope(engine) as session:
        person = org.person_by_id(session, person_id)
        if person is None:
            return False
        if on is True:
            delete_setting(session, OFF + person.key)
        elif on is False:
            put_setting(session, OFF + person.key, now.isoformat(), now)
        return on if on is not None else is_on(session, person.key)


class _Tree:
    """The org tree with what the digest asks of it: a unit's active children, a unit's
    people, the units above a unit."""

    def __init__(self, tree: OrgTree, people: list[TreePerson], active: set[int]) -> None:
        self.tree = tree
        self._children: dict[int, list[int]] = defaultdict(list)
        self._parent = {unit.id: unit.parent_id for unit in tree.units()}
        for unit in sorted(tree.units(), key=lambda u: u.key):
            if unit.parent_id is not None and unit.id in active:
                self._children[unit.parent_id].append(unit.id)
        self._people: dict[int, list[TreePerson]] = defaultdict(list)
        self.unit_of: dict[int, int] = {}
        for person in people:
            self._people[person.unit_id].append(person)
            self.unit_of[person.id] = person.unit_id

    def children(self, unit_id: int) -> list[int]:
        return list(self._children.get(unit_id, []))

    def people_in(self, unit_ids: list[int]) -> list[TreePerson]:
        return [p for u in unit_ids for p in sorted(self._people.get(u, []), key=lambda p: p.key)]

    def up(self, unit_id: int, among: dict[int, dict[int, int]]) -> list[int]:
        """The unit and those above it that are keys of ``among``."""
        found, seen = [], set()
        current: int | None = unit_id
        while current is not None and current not in seen:
            seen.add(current)
            if current in among:
                found.append(current)
            current = self._parent.get(current)
        return found


@dataclass(frozen=True, slots=True)
class _Leader:
    person: Person
    day: date
    units: list[int]  # the active units they lead


def send_due(engine: Engine, settings: Settings, now: datetime) -> int:
    """Queue every digest due by ``now`` and not sent yet; returns how many were queued."""
    with session_scope(engine) as session:
        due = _due(session, settings, now)
        if not due:
            return 0
        facts = org.tree_facts(session)
        active = {unit.id or 0 for unit in org.all_units(session) if unit.active}
        tree = _Tree(OrgTree(facts.units, facts.people), facts.people, active)
        by_day: dict[date, list[_Leader]] = defaultdict(list)
        for leader in due:
            by_day[leader.day].append(leader)
        queued = 0
        for day, leaders in sorted(by_day.items()):
            queued += _send_day(session, tree, day, leaders, now)
    return queued


def _due(session: Session, settings: Settings, now: datetime) -> list[_Leader]:
    """Leaders whose digest of their local day is due by now and not recorded yet."""
    active = {unit.id for unit in org.all_units(session) if unit.active}
    led: dict[int, list[int]] = defaultdict(list)
    for unit in org.unit_tree(session).units():
        if unit.id in active and unit.leader_id is not None:
            led[unit.leader_id].append(unit.id)
    if not led:
        return []
    off = settings_under(session, OFF)
    zone_of = org.timezones(session, settings.plant.timezone)
    at = settings.digest_time()
    shifts = _shifts(session)
    found: list[_Leader] = []
    for person_id, person in sorted(org.people_by_ids(session, sorted(led)).items()):
        if not person.active or person.telegram_user_id is None or OFF + person.key in off:
            continue
        try:
            tz = ZoneInfo(zone_of(person.timezone, person.unit_id))
        except Exception:  # a time zone the system no longer knows: the plant's
            tz = ZoneInfo(settings.plant.timezone)
        ends = _shift_end(shifts, person.crew, tz) if person.crew else None
        for day in rules.due_days(now.astimezone(tz), at, ends):
            found.append(_Leader(person, day, sorted(led[person_id])))
    wanted = [(store.subject(leader.person.id or 0), leader.day.isoformat()) for leader in found]
    recorded = store.done(session, wanted)
    return [leader for leader, key in zip(found, wanted, strict=True) if key not in recorded]


def _shifts(session: Session) -> ShiftConfig | None:
    try:
        data = store.shifts(session)
        return parse_shifts(data) if data else None
    except ValueError:
        log.warning("the stored [shifts] cannot be read; shift leaders get the digest at digest_at")
        return None


def _shift_end(
    shifts: ShiftConfig | None, crew: str, tz: ZoneInfo
) -> Callable[[date], datetime | None] | None:
    """When the crew's shift that starts on a day ends (None on a day off); None (no shifts)
    for a crew the stored shifts do not know."""
    if shifts is None or crew not in shifts.crews:
        return None

    def end(day: date) -> datetime | None:
        kind = shifts.shift_for(crew, day)
        return None if kind is None else shift_window(kind, day, tz)[1]

    return end


def _send_day(
    session: Session, tree: _Tree, day: date, leaders: list[_Leader], now: datetime
) -> int:
    """The digests of one local day: the figures of every unit and person they show, read
    by a few grouped queries for all these leaders at once."""
    children = {
        leader.person.id: [c for u in leader.units for c in tree.children(u)] for leader in leaders
    }
    team = {
        leader.person.id: [
            p.id for p in tree.people_in(leader.units) if p.active and p.id != leader.person.id
        ]
        for leader in leaders
    }
    unit_ids = sorted({u for ids in children.values() for u in ids})
    person_ids = sorted({p for ids in team.values() for p in ids})
    start, end = rules.trend_period(day)
    units_today = unit_figures(session, day, day, now, unit_ids)
    units_before = unit_figures(session, start, end, now, unit_ids)
    people_today = person_figures(session, day, day, now)  # everyone's: open items' holders
    people_before = person_figures(session, start, end, now, person_ids)
    unit_names = org.unit_names(session, unit_ids)
    held: dict[int, dict[int, int]] = {unit_id: {} for unit_id in unit_ids}
    for pid, figures in people_today.items():
        if (count := rules.undone(figures)) and (unit := tree.unit_of.get(pid)) is not None:
            for above in tree.up(unit, held):  # each shown unit this person is under
                held[above][pid] = count
    holders = {unit_id: rules.top_holders(held[unit_id]) for unit_id in unit_ids}
    named = {pid for found in holders.values() for pid, _ in found}
    names = org.person_names(session, sorted(set(person_ids) | named))
    messages: list[Outbox] = []
    for leader in leaders:
        person, pid = leader.person, leader.person.id or 0
        lang = person.language
        unit_rows = [
            _row(
                lang,
                unit_names.get(u, "?"),
                units_today.get(u, Figures()),
                units_before.get(u, Figures()),
                [(names.get(h, "?"), n) for h, n in holders[u]],
            )
            for u in children[person.id]
        ]
        people_rows = [
            _row(
                lang,
                names.get(p, "?"),
                people_today.get(p, Figures()),
                people_before.get(p, Figures()),
                [],
            )
            for p in team[person.id]
        ]
        today = [units_today.get(u, Figures()) for u in children[person.id]]
        today += [people_today.get(p, Figures()) for p in team[person.id]]
        if not any(f.due for f in today):
            continue  # nothing was due: no digest today
        text = compose(lang, day, unit_rows, people_rows)
        messages.append(
            Outbox(
                created_at=now,
                chat_id=person.telegram_user_id or 0,
                person_id=pid,
                kind=OUTBOX_KIND,
                dedupe_key=f"digest:{pid}:{day.isoformat()}",
                payload={"method": "sendMessage", "text": text},
                next_attempt_at=now,
            )
        )
    store.record(session, [store.subject(leader.person.id or 0) for leader in leaders], day, now)
    return len(outbox.add_new(session, messages))


def _row(
    lang: str, name: str, today: Figures, before: Figures, holders: list[tuple[str, int]]
) -> str:
    arrow = rules.trend(today.rate, before.rate)
    row = texts.render(
        lang,
        "digest.row",
        name=name,
        rate=texts.render(lang, "digest.on_time", rate=rules.percent(today.rate)),
        trend=f" {arrow}" if arrow else "",
        late=texts.render(lang, "digest.late", count=today.late),
        not_done=texts.render(lang, "digest.not_done", count=today.not_done),
        open=texts.render(lang, "digest.open", count=today.open),
        process=today.blocked_process,
        skill=today.blocked_skill,
        other=today.blocked_other,
    )
    if not holders:
        return row
    shown = ", ".join(
        texts.render(lang, "digest.holder", name=name, count=count) for name, count in holders
    )
    return texts.render(lang, "digest.held", row=row, holders=shown)


def compose(lang: str, day: date, unit_rows: list[str], people_rows: list[str]) -> str:
    """The digest: a header, the units, the team, the legend; lines that would not fit in one
    message are counted in a last line."""
    lines = [texts.render(lang, "digest.header", day=dates.day(lang, day))]
    sections = [("digest.units", unit_rows), ("digest.people", people_rows)]
    legend = texts.render(lang, "digest.legend")
    room = TEXT_LIMIT - len(lines[0]) - len(legend) - 200
    for title, rows in sections:
        if not rows:
            continue
        lines += ["", texts.render(lang, title)]
        for index, row in enumerate(rows):
            if len(row) + 1 > room:
                more = len(rows) - index
                lines.append(texts.render(lang, "board.more_items", count=more))
                break
            lines.append(f"• {row}")
            room -= len(row) + 3
    lines += ["", legend]
    return "\n".join(lines)
