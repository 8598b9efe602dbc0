"""The org tree and the time zone resolver, built from the stored units and people (the one
place each is built: ``bot.store.org.tree`` and ``bot.store.org.timezones``)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.store import org
from bot.store.engine import session_scope
from models.orgtree import ChainLink
from models.tables import Leadership, Person, Unit
from tests.conftest import NOW

PLANT_TZ = "Europe/Berlin"


def _store_org(engine: Engine) -> dict[str, int]:
    """plant (Berlin) > casting (no zone) > line (no zone); plant > tokyo (Tokyo).
    Leaders: plant "boss", casting "lead" with deputy "dep"; nobody leads line or tokyo."""
    ids: dict[str, int] = {}
    with session_scope(engine) as session:

        def unit(key: str, parent: str | None, tz: str | None) -> None:
            row = Unit(key=key, name=key, kind="unit", timezone=tz, created_at=NOW, updated_at=NOW,
                       parent_id=ids[parent] if parent else None)  # fmt: skip
            session.add(row)
            session.flush()
            ids[key] = row.id or 0

        def person(key: str, unit_key: str, tz: str | None = None, active: bool = True) -> None:
            row = Person(key=key, name=key, unit_id=ids[unit_key], post="operator", timezone=tz,
                         active=active, created_at=NOW, updated_at=NOW)  # fmt: skip
            session.add(row)
            session.flush()
            ids[key] = row.id or 0

        unit("plant", None, PLANT_TZ)
        unit("casting", "plant", None)
        unit("line", "casting", None)
        unit("tokyo", "plant", "Asia/Tokyo")
        person("boss", "plant")
        person("lead", "casting")
        person("dep", "casting")
        person("w1", "line")
        person("w2", "line", tz="America/New_York")
        person("w3", "tokyo")
        person("gone", "line", active=False)
        for unit_key, role, who in [("plant", "leader", "boss"), ("casting", "leader", "lead"),
                                    ("casting", "deputy", "dep")]:  # fmt: skip
            session.add(Leadership(unit_id=ids[unit_key], role=role, person_id=ids[who]))
    return ids


def test_tree_holds_the_stored_units_people_and_leaders(engine: Engine) -> None:
    ids = _store_org(engine)
    with session_scope(engine) as session:
        tree = org.tree(session)
    assert [u.key for u in tree.units()] == ["plant", "casting", "line", "tokyo"]  # as stored
    casting = tree.unit(ids["casting"])
    assert (casting.parent_id, casting.leader_id, casting.deputy_id) == (
        ids["plant"], ids["lead"], ids["dep"],
    )  # fmt: skip
    assert tree.person_id("w1") == ids["w1"] and not tree.person(ids["gone"]).active
    assert tree.chain(ids["w1"]).links == (
        ChainLink(1, ids["casting"], ids["lead"], "leader"),
        ChainLink(2, ids["plant"], ids["boss"], "leader"),
    )
    absent = frozenset({ids["lead"]})  # the deputy stands in for an absent leader
    assert tree.chain(ids["w1"], absent).links[0] == ChainLink(
        1, ids["casting"], ids["dep"], "deputy"
    )
    assert [v.unit_id for v in tree.chain(ids["w1"]).vacancies] == [ids["line"]]
    assert tree.units_led_by(ids["lead"]) == [ids["casting"]]
    assert tree.stands_above(ids["boss"], ids["w3"]) and not tree.stands_above(
        ids["lead"], ids["w3"]
    )


def test_timezones_own_then_nearest_unit_then_plant(engine: Engine) -> None:
    ids = _store_org(engine)
    with session_scope(engine) as session:
        tz = org.timezones(session, "UTC")  # the plant's zone as configured, not a unit's
    assert tz("America/New_York", ids["line"]) == "America/New_York"  # the person's own
    assert tz(None, ids["line"]) == PLANT_TZ  # line and casting have none: the plant unit's
    assert tz(None, ids["tokyo"]) == "Asia/Tokyo"
    assert tz(None, ids["plant"]) == PLANT_TZ
    with session_scope(engine) as session:
        plant = session.get(Unit, ids["plant"])
        assert plant is not None
        plant.timezone = None
    with session_scope(engine) as session:
        tz = org.timezones(session, "UTC")
    assert tz(None, ids["line"]) == "UTC"  # no unit up the tree has one: the configured zone
    assert tz(None, 10**6) == "UTC"  # an unknown unit too
