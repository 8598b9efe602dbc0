"""Whose clock: a person's timezone is their own, else their unit's or the nearest ancestor's,
else the plant's."""

from __future__ import annotations

from collections.abc import Callable

from models.org_spec import effective_timezone

TimezoneOf = Callable[[str | None, int], str]


def timezone_resolver(units: list[tuple[int, int | None, str | None]], plant_tz: str) -> TimezoneOf:
    """A person's timezone: their own, else their unit's or the nearest ancestor's, else the
    plant's. Each (own timezone, unit) is worked out once: a plant's people share a few."""
    parents = {unit_id: (parent, tz) for unit_id, parent, tz in units}
    known: dict[tuple[str | None, int | None], str] = {}

    def timezone_of(person_tz: str | None, unit_id: int | None) -> str:
        key = (person_tz, unit_id)
        if key not in known:
            known[key] = resolve(person_tz, unit_id)
        return known[key]

    def resolve(person_tz: str | None, unit_id: int | None) -> str:
        chain: list[str | None] = []
        while unit_id is not None and unit_id in parents and len(chain) <= len(parents):
            parent, tz = parents[unit_id]
            chain.append(tz)
            unit_id = parent
        return effective_timezone(person_tz, chain, plant_tz)

    return timezone_of
