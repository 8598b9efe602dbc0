"""Which language a person reads, and switching it.

``person.language`` is the language every message to that person is rendered in (nudges,
escalations, boards, answers: each reads it when it renders, nothing keeps a copy), and
``person.language_source`` where it came from:

- "org": the org file or HR CSV named it; each import that names it sets it again, over the
  person's own choice (``models.org_sync.person_language``);
- "chosen": the person tapped a language under ``/language``; kept by imports that name none;
- "telegram": Telegram's ``language_code`` at ``/start``; kept by imports that name none;
- "default": the plant's ``[plant] language``.

At ``/start`` (linking, or again later) a language from "default" or "telegram" follows
Telegram's ``language_code`` when execbot speaks it; "org" and "chosen" stay.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import callbacks
from bot.render import texts
from bot.store import audit, org
from bot.store.engine import session_scope
from models.language import match
from models.tables import Person

FOLLOWS_TELEGRAM = ("default", "telegram")  # sources that /start replaces with Telegram's
CHOSEN = "chosen"
CURRENT_MARK = "✓"


def name_of(lang: str) -> str:
    """A language's own name for itself ("Deutsch"), from its catalogue; the tag if none."""
    name = texts.catalogue(lang).get("meta.language_name")
    return name if isinstance(name, str) and name else lang


def telegram_language(
    source: str, current: str, language_code: str | None, available: Collection[str]
) -> str | None:
    """The language a person gets from Telegram's ``language_code`` at /start, or None if
    theirs stays (the org file named it, they chose it, or execbot does not speak Telegram's)."""
    if source not in FOLLOWS_TELEGRAM:
        return None
    found = match(language_code, available)
    return found if found is not None and (found != current or source != "telegram") else None


def follow_telegram(
    session: Session, person: Person, language_code: str | None, now: datetime
) -> None:
    """In the caller's transaction: the person's language from Telegram's, if it applies."""
    found = telegram_language(
        person.language_source, person.language, language_code, texts.languages()
    )
    if found is not None:
        _set(session, person, found, "telegram", now, person.telegram_user_id)


def _set(
    session: Session,
    person: Person,
    language: str,
    source: str,
    now: datetime,
    telegram_user_id: int | None,
) -> None:
    """Store the person's new language and where it came from, with its audit event."""
    before = person.language
    person.language, person.language_source, person.updated_at = language, source, now
    session.add(person)
    audit.record(
        session,
        "person.language",
        now,
        subject=f"person:{person.key}",
        actor=person,
        actor_telegram_id=telegram_user_id,
        data={"language": language, "before": before, "source": source},
    )


def on_start(engine: Engine, person_id: int, language_code: str | None, now: datetime) -> str:
    """``/start`` from a linked person: their language after Telegram's is taken into
    account (see ``follow_telegram``)."""
    with session_scope(engine) as session:
        person = org.person_by_id(session, person_id)
        if person is None:
            return texts.FALLBACK
        follow_telegram(session, person, language_code, now)
        return person.language


@dataclass(frozen=True, slots=True)
class Menu:
    text: str
    reply_markup: dict[str, Any]


def menu(current: str) -> Menu:
    """The /language message: the language now, and a button per catalogue language (in its
    own name; the current one marked)."""
    rows = [
        [
            callbacks.button(
                f"{CURRENT_MARK} {name_of(lang)}" if lang == current else name_of(lang),
                callbacks.ChooseLanguage(lang),
            )
        ]
        for lang in texts.languages()
    ]
    text = texts.render(current, "language.current", language=name_of(current))
    return Menu(text, {"inline_keyboard": rows})


@dataclass(slots=True)
class Chosen:
    """What a tap on a /language button leads to: the tap's answer, and the text that replaces
    the menu (None: the menu stays as it is)."""

    answer: str
    confirmation: str | None = None
    recorded: bool = False
    language: str = texts.FALLBACK


def choose(
    engine: Engine,
    plant: str,
    telegram_user_id: int,
    data: str,
    now: datetime,
    language_code: str | None = None,
) -> Chosen:
    """A tap on a /language button. The callback data is never trusted: a language execbot
    does not speak (forged, or a catalogue since removed) is refused and nothing is stored.
    A stranger is told so in Telegram's language for them (``language_code``)."""
    action = callbacks.decode(data)
    with session_scope(engine) as session:
        person = org.person_by_telegram(session, telegram_user_id)
        if person is None or not person.active:
            stranger = match(language_code, texts.languages())
            return Chosen(texts.render(stranger, "access.unknown_user", plant=plant))
        if not isinstance(action, callbacks.ChooseLanguage) or (
            action.language not in texts.languages()
        ):
            return Chosen(texts.render(person.language, "language.button_invalid"))
        chosen = action.language
        if (person.language, person.language_source) != (chosen, CHOSEN):
            _set(session, person, chosen, CHOSEN, now, telegram_user_id)
        text = texts.render(chosen, "language.changed", language=name_of(chosen))
        return Chosen(text, text, recorded=True, language=chosen)
