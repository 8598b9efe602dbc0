"""People and units: look-ups, reachability, invites, and the org tree and time zones built
from the stored rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from sqlalchemy import Select, bindparam, literal, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.store.chunks import chunked, select_in
from models.org_spec import effective_timezone
from models.orgtree import OrgTree, TreePerson, TreeUnit
from models.tables import Invite, Leadership, Occurrence, Person, Unit
from models.timezones import TimezoneOf, timezone_resolver


def unit_by_key(session: Session, key: str) -> Unit | None:
    return session.exec(select(Unit).where(Unit.key == key)).first()


def person_by_key(session: Session, key: str) -> Person | None:
    return session.exec(select(Person).where(Person.key == key)).first()


def person_by_id(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


ZONE_LEVELS = 4  # unit levels whose time zones are read with a person (deeper: on their own)
_ZONES_KEY = "unit time zones"  # in ``Session.info``: what this session read of them


def _person_with_zones() -> Select[
    Person, str | None, str | None, str | None, str | None, int | None
]:
    """A person by Telegram id, with the time zones of their unit and its next ancestors,
    and the parent id past the last of those (None: the chain ended there). Built once,
    here: every tap runs it, and building a statement costs more than running it."""
    units = [aliased(Unit) for _ in range(ZONE_LEVELS)]
    query = sa_select(Person, *(col(unit.timezone) for unit in units), col(units[-1].parent_id))
    query = query.outerjoin(units[0], col(units[0].id) == col(Person.unit_id))
    for child, parent in pairwise(units):
        query = query.outerjoin(parent, col(parent.id) == col(child.parent_id))
    return query.where(col(Person.telegram_user_id) == bindparam("user_id"))  # type: ignore[return-value]


_PERSON_WITH_ZONES = _person_with_zones()


def person_by_telegram(session: Session, telegram_user_id: int) -> Person | None:
    """The person on this Telegram account. Their unit's time zones come with them (one
    query), kept for ``timezone_of`` in this session."""
    row = session.execute(_PERSON_WITH_ZONES, {"user_id": telegram_user_id}).first()
    if row is None:
        return None
    person: Person = row[0]
    zones, beyond = list(row[1:-1]), row[-1]
    if beyond is None or any(zones):  # the chain is read up to its first time zone
        session.info.setdefault(_ZONES_KEY, {})[person.unit_id] = zones
    return person


def pending_people(session: Session) -> Sequence[Person]:
    """Active people who have not linked a Telegram account yet."""
    query = select(Person).where(Person.active, col(Person.telegram_user_id).is_(None))
    return session.exec(query.order_by(col(Person.key))).all()


def units_led_by(session: Session, person_id: int) -> Sequence[Unit]:
    query = (
        select(Unit)
        .join(Leadership, col(Leadership.unit_id) == col(Unit.id))
        .where(Leadership.person_id == person_id, Unit.active)
    )
    return session.exec(query).all()


def leader_of(session: Session, person: Person) -> Person | None:
    """The nearest leader above the person (their unit's, else further up), not themselves."""
    unit_id: int | None = person.unit_id
    seen: set[int] = set()
    while unit_id is not None and unit_id not in seen:
        seen.add(unit_id)
        lead = session.exec(
            select(Person)
            .join(Leadership, col(Leadership.person_id) == col(Person.id))
            .where(Leadership.unit_id == unit_id, Leadership.role == "leader")
        ).first()
        if lead is not None and lead.id != person.id and lead.active:
            return lead
        unit = session.get(Unit, unit_id)
        unit_id = unit.parent_id if unit else None
    return None


def people_by_ids(session: Session, ids: Sequence[int]) -> dict[int, Person]:
    rows = select_in(session, ids, lambda chunk: select(Person).where(col(Person.id).in_(chunk)))
    return {p.id or 0: p for p in rows}


def people_by_keys(session: Session, keys: Sequence[str]) -> list[Person]:
    return select_in(session, keys, lambda chunk: select(Person).where(col(Person.key).in_(chunk)))


def person_keys(session: Session, person_ids: Sequence[int]) -> dict[int, str]:
    def query(chunk: Sequence[int]) -> Select[int | None, str]:
        return sa_select(col(Person.id), col(Person.key)).where(col(Person.id).in_(chunk))

    return {int(pid or 0): key for pid, key in select_in(session, person_ids, query)}


def all_units(session: Session) -> Sequence[Unit]:
    return session.exec(select(Unit)).all()


def active_people_in(session: Session, unit_ids: Sequence[int], *, but: int) -> list[Person]:
    """Active people of these units, by name (then key), leaving out one person (for
    reassigning)."""
    people = select_in(
        session,
        unit_ids,
        lambda chunk: select(Person).where(
            col(Person.active), col(Person.unit_id).in_(chunk), col(Person.id) != but
        ),
    )
    return sorted(people, key=lambda p: (p.name, p.key))


def unreachable_people(session: Session) -> list[Person]:
    """Active people who cannot be messaged: never joined (with duties due) or marked."""
    never_joined = (
        select(Person)
        .join(Occurrence, col(Occurrence.person_id) == col(Person.id))
        .where(col(Person.active), col(Occurrence.nudge_state) == "no_chat")
        .distinct()
    )
    marked = select(Person).where(col(Person.active), col(Person.unreachable_reason).is_not(None))
    found = {p.id: p for p in session.exec(never_joined).all()}
    found |= {p.id: p for p in session.exec(marked).all()}
    return list(found.values())


def mark_unreachable(session: Session, person_id: int, reason: str, now: datetime) -> bool:
    """Record that a person cannot be messaged; True if this is news (not already known)."""
    result = session.execute(
        update(Person)
        .where(col(Person.id) == person_id, col(Person.unreachable_reason).is_(None))
        .values(unreachable_reason=reason, unreachable_since=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_reachable(session: Session, person_ids: Sequence[int]) -> None:
    for chunk in chunked(person_ids):
        session.execute(
            update(Person)
            .where(col(Person.id).in_(chunk), col(Person.unreachable_reason).is_not(None))
            .values(unreachable_reason=None, unreachable_since=None)
        )


@dataclass(frozen=True, slots=True)
class TreeFacts:
    """Every unit (with its leader and deputy) and every person, in the order stored."""

    units: list[TreeUnit]
    people: list[TreePerson]


def tree_facts(session: Session) -> TreeFacts:
    query = sa_select(
        col(Person.id), col(Person.key), col(Person.unit_id), col(Person.post), col(Person.active)
    )
    people = [
        TreePerson(int(a), b, int(c), d, bool(e)) for a, b, c, d, e in session.execute(query).all()
    ]
    return TreeFacts(_tree_units(session), people)


def _tree_units(session: Session) -> list[TreeUnit]:
    roles: dict[tuple[int, str], int] = {
        (int(unit_id), role): int(person_id)
        for unit_id, role, person_id in session.execute(
            sa_select(col(Leadership.unit_id), col(Leadership.role), col(Leadership.person_id))
        ).all()
    }
    query = sa_select(col(Unit.id), col(Unit.key), col(Unit.parent_id))
    return [
        TreeUnit(int(uid), key, parent, roles.get((uid, "leader")), roles.get((uid, "deputy")))
        for uid, key, parent in session.execute(query).all()
    ]


def tree(session: Session) -> OrgTree:
    """The org tree of the stored units and people (who is whose superior): the one place the
    whole tree is built from the database."""
    facts = tree_facts(session)
    return OrgTree(facts.units, facts.people)


def unit_tree(session: Session) -> OrgTree:
    """The org tree of the stored units and their leaders and deputies, without the people:
    enough to walk a subtree or find the units somebody leads, for the price of the units."""
    return OrgTree(_tree_units(session), [])


def units_under(session: Session, unit_ids: Sequence[int]) -> OrgTree:
    """The units given and everything under them (found by the database, a recursive query
    down ``unit.parent_id``), as a tree of their own: a unit whose parent is not among them
    is a top here. No people and no leaders: for walking the subtrees, for the price of
    what they hold rather than of the whole plant."""
    columns = (col(Unit.id), col(Unit.key), col(Unit.parent_id))
    below = sa_select(*columns).where(col(Unit.id).in_(list(unit_ids))).cte(recursive=True)
    below = below.union(sa_select(*columns).join(below, col(Unit.parent_id) == below.c.id))
    rows = [(int(uid), key, parent) for uid, key, parent in session.execute(sa_select(below))]
    found = {uid for uid, _, _ in rows}
    units = [TreeUnit(uid, key, parent if parent in found else None, None, None)
             for uid, key, parent in rows]  # fmt: skip
    return OrgTree(units, [])


def leadership_units(session: Session, person_id: int) -> list[int]:
    """Units where the person is the leader or the deputy (active units or not)."""
    query = sa_select(col(Leadership.unit_id)).where(col(Leadership.person_id) == person_id)
    return [int(uid) for uid in session.execute(query).scalars().all()]


def unit_names(session: Session, unit_ids: Sequence[int]) -> dict[int, str]:
    def query(chunk: Sequence[int]) -> Select[int | None, str]:
        return sa_select(col(Unit.id), col(Unit.name)).where(col(Unit.id).in_(chunk))

    return {int(uid or 0): name for uid, name in select_in(session, unit_ids, query)}


def person_names(session: Session, person_ids: Sequence[int]) -> dict[int, str]:
    def query(chunk: Sequence[int]) -> Select[int | None, str]:
        return sa_select(col(Person.id), col(Person.name)).where(col(Person.id).in_(chunk))

    return {int(pid or 0): name for pid, name in select_in(session, person_ids, query)}


def unit_timezones(session: Session) -> list[tuple[int, int | None, str | None]]:
    """Every unit as (id, parent id, timezone), for resolving people's timezones."""
    query = sa_select(col(Unit.id), col(Unit.parent_id), col(Unit.timezone))
    return [(int(uid), parent, tz) for uid, parent, tz in session.execute(query).all()]


def unit_keys(session: Session) -> list[tuple[int, int | None, str]]:
    """Every unit as (id, parent id, key)."""
    query = sa_select(col(Unit.id), col(Unit.parent_id), col(Unit.key))
    return [(int(uid), parent, key) for uid, parent, key in session.execute(query).all()]


def timezones(session: Session, plant_tz: str) -> TimezoneOf:
    """People's time zones from the stored units (a person's own, else their unit's or the
    nearest ancestor's, else ``plant_tz``): the one place the resolver is built."""
    return timezone_resolver(unit_timezones(session), plant_tz)


def _unit_chain() -> Select[str | None]:
    """The time zones of a unit and its ancestors, the unit's first (a recursive query; a
    cycle, which the org import refuses, stops after 100 levels)."""
    first = (
        sa_select(col(Unit.parent_id), col(Unit.timezone), literal(0).label("depth"))
        .where(col(Unit.id) == bindparam("unit_id"))
        .cte("chain", recursive=True)
    )
    parent = aliased(Unit)
    chain = first.union_all(
        sa_select(col(parent.parent_id), col(parent.timezone), first.c.depth + 1).where(
            col(parent.id) == first.c.parent_id, first.c.depth < 100
        )
    )
    return sa_select(chain.c.timezone).order_by(chain.c.depth)


_UNIT_CHAIN = _unit_chain()


def timezone_of(session: Session, plant_tz: str, person_tz: str | None, unit_id: int) -> str:
    """One person's time zone, as ``timezones`` resolves it, reading only what it needs: no
    query when they have their own, else their unit's and its ancestors' in one query. For one
    answer, where loading every unit would cost more than the answer itself."""
    if person_tz:
        return person_tz
    chain = session.info.get(_ZONES_KEY, {}).get(unit_id)  # read with the person
    if chain is None:
        chain = session.execute(_UNIT_CHAIN, {"unit_id": unit_id}).scalars().all()
    return effective_timezone(person_tz, chain, plant_tz)


def add_invite(session: Session, invite: Invite) -> Invite:
    session.add(invite)
    session.flush()
    return invite


def invite_by_code(session: Session, code: str) -> Invite | None:
    return session.exec(select(Invite).where(Invite.code == code)).first()


def claim_invite(session: Session, invite_id: int, telegram_user_id: int, now: datetime) -> bool:
    """Mark the invite used by this account; False if it was used meanwhile (a race)."""
    claimed = session.execute(
        update(Invite)
        .where(col(Invite.id) == invite_id, col(Invite.used_at).is_(None))
        .values(used_at=now, used_by_telegram_id=telegram_user_id)
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def link_account(session: Session, person: Person, telegram_user_id: int, now: datetime) -> None:
    """The person now answers on this Telegram account (and is reachable again)."""
    person.telegram_user_id = telegram_user_id
    person.joined_at = now
    person.unreachable_reason = None
    person.unreachable_since = None
    person.updated_at = now
    session.add(person)


def linked_people(session: Session) -> Sequence[Person]:
    """Active people bound to a Telegram account (their private chat is their user id)."""
    query = select(Person).where(Person.active, col(Person.telegram_user_id).is_not(None))
    return session.exec(query.order_by(col(Person.id))).all()


def leading_person_ids(session: Session) -> set[int]:
    """Everyone who leads or deputises for an active unit."""
    query = (
        select(Leadership.person_id)
        .join(Unit, col(Unit.id) == col(Leadership.unit_id))
        .where(Unit.active)
    )
    return set(session.exec(query).all())


def follow_plant_language(session: Session, language: str, now: datetime) -> int:
    """People whose language is the plant's default (source "default") get ``language``, the
    configured one: a changed ``[plant] language`` reaches them at the next start, not only at
    the next import. Returns how many changed."""
    result = session.execute(
        update(Person)
        .where(col(Person.language_source) == "default", col(Person.language) != language)
        .values(language=language, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
