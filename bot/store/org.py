"""People and units: look-ups, reachability, invites, and the org tree and time zones built
from the stored rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.store.chunks import chunked, select_in
from models.orgtree import OrgTree, TreePerson, TreeUnit
from models.tables import Invite, Leadership, Occurrence, Person, Unit
from models.timezones import TimezoneOf, timezone_resolver


def unit_by_key(session: Session, key: str) -> Unit | None:
    return session.exec(select(Unit).where(Unit.key == key)).first()


def person_by_key(session: Session, key: str) -> Person | None:
    return session.exec(select(Person).where(Person.key == key)).first()


def person_by_id(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


def person_by_telegram(session: Session, telegram_user_id: int) -> Person | None:
    return session.exec(select(Person).where(Person.telegram_user_id == telegram_user_id)).first()


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
    roles: dict[tuple[int, str], int] = {
        (row.unit_id, row.role): row.person_id for row in session.exec(select(Leadership)).all()
    }
    units = [
        TreeUnit(
            u.id or 0,
            u.key,
            u.parent_id,
            roles.get((u.id or 0, "leader")),
            roles.get((u.id or 0, "deputy")),
        )
        for u in session.exec(select(Unit)).all()
    ]
    query = sa_select(
        col(Person.id), col(Person.key), col(Person.unit_id), col(Person.post), col(Person.active)
    )
    people = [
        TreePerson(int(a), b, int(c), d, bool(e)) for a, b, c, d, e in session.execute(query).all()
    ]
    return TreeFacts(units, people)


def tree(session: Session) -> OrgTree:
    """The org tree of the stored units and people (who is whose superior): the one place it
    is built from the database."""
    facts = tree_facts(session)
    return OrgTree(facts.units, facts.people)


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
