"""Who is whose superior: the org tree as indexes, and the escalation chain of a person.

The chain of a person (``OrgTree.chain``), nearest superior first:
- it starts at the person's own unit, or at its parent when the person is that unit's leader
  or the deputy standing in for them: a leader's own duties climb from their unit's parent;
- each unit up to the top contributes whoever stands for it today: its leader, or, when the
  leader is absent, inactive or missing, its deputy (if present and active);
- a unit with nobody to stand for it is skipped and reported as a ``Vacancy``; the next unit
  up takes its place;
- the person never appears in their own chain, and the same person never twice in a row (one
  person leading two nested units is notified once, for the nearer unit);
- the top unit (no parent) ends the chain; levels are numbered 1, 2, ... after skipping.

"Absent" is the set of person ids away today; people not given to the tree count as inactive.
Posts match ignoring case and extra spaces. Chains are memoised per unit and absent set,
so every person's chain for a day costs little more than one lookup.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Via = Literal["leader", "deputy"]


@dataclass(frozen=True, slots=True)
class TreeUnit:
    id: int
    key: str
    parent_id: int | None
    leader_id: int | None
    deputy_id: int | None


@dataclass(frozen=True, slots=True)
class TreePerson:
    id: int
    key: str
    unit_id: int
    post: str
    active: bool


@dataclass(frozen=True, slots=True)
class ChainLink:
    level: int  # 1 = nearest superior
    unit_id: int
    person_id: int
    via: Via


@dataclass(frozen=True, slots=True)
class Vacancy:
    unit_id: int
    reason: str  # "<leader state>, <deputy state>", e.g. "leader absent, no deputy"


@dataclass(frozen=True, slots=True)
class Chain:
    links: tuple[ChainLink, ...]
    vacancies: tuple[Vacancy, ...]


# One unit's contribution to a chain: (unit id, person id, via) or the vacancy.
_Entry = tuple[int, int, Via] | Vacancy


class OrgTree:
    """Indexes over units and people, built once; answers are computed from them."""

    def __init__(self, units: Iterable[TreeUnit], people: Iterable[TreePerson]) -> None:
        self._units = {unit.id: unit for unit in units}
        self._people = {person.id: person for person in people}
        self._by_key = {person.key: person.id for person in self._people.values()}
        self._children: dict[int, list[int]] = {unit_id: [] for unit_id in self._units}
        self._led: dict[int, list[int]] = {}
        for unit in sorted(self._units.values(), key=lambda u: u.key):
            for person_id in {unit.leader_id, unit.deputy_id}:
                if person_id is not None:
                    self._led.setdefault(person_id, []).append(unit.id)
            if unit.parent_id is None:
                continue
            if unit.parent_id not in self._units:
                raise ValueError(f"unit {unit.key!r}: parent id {unit.parent_id} is not a unit")
            self._children[unit.parent_id].append(unit.id)
        self._check_no_loops()
        self._holders: dict[tuple[int, str], list[int]] = {}
        for person in sorted(self._people.values(), key=lambda p: p.key):
            if person.unit_id not in self._units:
                raise ValueError(f"person {person.key!r}: unit id {person.unit_id} is not a unit")
            if person.active:
                self._holders.setdefault((person.unit_id, _post(person.post)), []).append(person.id)
        self._memo: dict[frozenset[int], _DayMemo] = {}

    # --- lookups -------------------------------------------------------------------------

    def units(self) -> list[TreeUnit]:
        """Every unit, in the order given to the tree."""
        return list(self._units.values())

    def unit(self, unit_id: int) -> TreeUnit:
        return self._units[unit_id]

    def person(self, person_id: int) -> TreePerson:
        return self._people[person_id]

    def person_id(self, key: str) -> int | None:
        """The id of the person with this key, or None if the tree has nobody by that key."""
        return self._by_key.get(key)

    def walk(self, unit_id: int) -> list[tuple[int, int]]:
        """(unit id, depth) for the unit and everything under it, depth-first, the unit first
        at depth 0; children in order of their keys."""
        out: list[tuple[int, int]] = []
        stack = [(unit_id, 0)]
        while stack:
            current, depth = stack.pop()
            out.append((current, depth))
            stack.extend((child, depth + 1) for child in reversed(self._children[current]))
        return out

    def subtree(self, unit_id: int) -> list[int]:
        """Unit ids of the unit and everything under it, depth-first, the unit first."""
        return [unit for unit, _ in self.walk(unit_id)]

    def units_led_by(self, person_id: int) -> list[int]:
        """Units where the person is the leader or the deputy, in order of unit key."""
        return list(self._led.get(person_id, []))

    def in_subtree(self, leader_person_id: int, person_id: int) -> bool:
        """Whether the person belongs to a unit under (or equal to) one the leader leads or
        deputises."""
        led = set(self._led.get(leader_person_id, []))
        unit_id: int | None = self._people[person_id].unit_id
        while unit_id is not None:
            if unit_id in led:
                return True
            unit_id = self._units[unit_id].parent_id
        return False

    def stands_above(self, actor_id: int, person_id: int) -> bool:
        """Whether the actor is above the person in the tree: the leader of a unit the person
        is in or under, or that unit's deputy when the person is not its leader (a deputy acts
        for the leader on the people below the leader, never on the leader's own items).
        Nobody stands above themselves."""
        if actor_id == person_id:
            return False
        unit_id: int | None = self._people[person_id].unit_id
        while unit_id is not None:
            unit = self._units[unit_id]
            if actor_id == unit.leader_id:
                return True
            if actor_id == unit.deputy_id and person_id != unit.leader_id:
                return True
            unit_id = unit.parent_id
        return False

    def holders(self, unit_id: int, post: str) -> list[int]:
        """Active holders of ``post`` in exactly this unit, in order of person key."""
        return list(self._holders.get((unit_id, _post(post)), []))

    def nearest_holder_up(
        self, person_id: int, post: str, absent: frozenset[int] = frozenset()
    ) -> int | None:
        """The first active, present holder of ``post`` other than the person, walking up from
        the person's unit to the top (first by key within a unit); None if there is none."""
        unit_id: int | None = self._people[person_id].unit_id
        while unit_id is not None:
            for holder in self.holders(unit_id, post):
                if holder != person_id and holder not in absent:
                    return holder
            unit_id = self._units[unit_id].parent_id
        return None

    # --- chains --------------------------------------------------------------------------

    def chain(self, person_id: int, absent: frozenset[int] = frozenset()) -> Chain:
        """The person's escalation chain today (rules in the module docstring)."""
        memo = self._memo.get(absent)
        if memo is None:
            if len(self._memo) >= 4:  # absent sets change daily; keep only a few days
                self._memo.clear()
            memo = self._memo[absent] = _DayMemo(self._units, self._people, absent)
        person = self._people[person_id]
        own = self._units[person.unit_id]
        start = own.parent_id if person_id in (own.leader_id, memo.stand_in(own)) else own.id
        if start is None:
            return Chain((), ())
        return memo.chain(start, person_id)

    def _check_no_loops(self) -> None:
        reached: set[int] = set()
        for unit_id in self._units:
            path: list[int] = []
            current: int | None = unit_id
            while current is not None and current not in reached:
                if current in path:
                    raise ValueError(f"unit {self._units[current].key!r}: its parents loop")
                path.append(current)
                current = self._units[current].parent_id
            reached.update(path)


class _DayMemo:
    """Chains for one absent set, memoised per starting unit."""

    def __init__(
        self, units: dict[int, TreeUnit], people: dict[int, TreePerson], absent: frozenset[int]
    ) -> None:
        self._units = units
        self._people = people
        self._absent = absent
        self._entries: dict[int, tuple[_Entry, ...]] = {}
        self._chains: dict[int, tuple[Chain, frozenset[int]]] = {}

    def stand_in(self, unit: TreeUnit) -> int | None:
        """Who stands for the unit today, if anybody."""
        entry = self._upward(unit.id)[0]
        return None if isinstance(entry, Vacancy) else entry[1]

    def chain(self, start: int, person_id: int) -> Chain:
        known = self._chains.get(start)
        if known is None:
            entries = self._upward(start)
            known = self._chains[start] = (
                _assemble(entries, None),
                frozenset(e[1] for e in entries if not isinstance(e, Vacancy)),
            )
        chain, members = known
        return _assemble(self._upward(start), person_id) if person_id in members else chain

    def _upward(self, unit_id: int) -> tuple[_Entry, ...]:
        """The entries from the unit up to the top, memoised per unit. A loop, not recursion:
        however deep the tree, it never meets Python's recursion limit."""
        known = self._entries.get(unit_id)
        if known is not None:
            return known
        path: list[int] = []
        node: int | None = unit_id
        while node is not None and node not in self._entries:
            path.append(node)
            node = self._units[node].parent_id
        above: tuple[_Entry, ...] = () if node is None else self._entries[node]
        for current in reversed(path):
            above = self._entries[current] = (self._entry(self._units[current]), *above)
        return above

    def _entry(self, unit: TreeUnit) -> _Entry:
        """Who stands for the unit today: the leader, else the deputy, else a vacancy."""
        roles: tuple[tuple[int | None, Via], ...] = (
            (unit.leader_id, "leader"),
            (unit.deputy_id, "deputy"),
        )
        reasons: list[str] = []
        for person_id, via in roles:
            person = None if person_id is None else self._people.get(person_id)
            if person_id is None:
                reasons.append(f"no {via}")
            elif person is None or not person.active:
                reasons.append(f"{via} inactive")
            elif person_id in self._absent:
                reasons.append(f"{via} absent")
            else:
                return (unit.id, person_id, via)
        return Vacancy(unit.id, ", ".join(reasons))


def _assemble(entries: tuple[_Entry, ...], excluded: int | None) -> Chain:
    links: list[ChainLink] = []
    vacancies: list[Vacancy] = []
    for entry in entries:
        if isinstance(entry, Vacancy):
            vacancies.append(entry)
            continue
        unit_id, person_id, via = entry
        if person_id == excluded or (links and links[-1].person_id == person_id):
            continue
        links.append(ChainLink(len(links) + 1, unit_id, person_id, via))
    return Chain(tuple(links), tuple(vacancies))


def _post(post: str) -> str:
    return " ".join(post.split()).casefold()
