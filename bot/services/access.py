"""Who is talking to the bot: the person bound to a Telegram account, and their role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.store import org
from bot.store.engine import session_scope
from models.roles import Role, role_of


@dataclass(frozen=True, slots=True)
class Actor:
    person_id: int
    key: str
    name: str
    language: str
    role: Role


def identify(engine: Engine, telegram_user_id: int, admin_keys: frozenset[str]) -> Actor | None:
    """The active person bound to this account, or None for a stranger (nothing is stored)."""
    with session_scope(engine) as session:
        person = org.person_by_telegram(session, telegram_user_id)
        if person is None or not person.active or person.id is None:
            return None
        leads = bool(org.units_led_by(session, person.id))
        return Actor(
            person.id,
            person.key,
            person.name,
            person.language,
            role_of(person.key, leads, admin_keys),
        )
