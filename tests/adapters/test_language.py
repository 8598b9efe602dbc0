"""Which language a person reads (handlers/start.py, handlers/language.py): Telegram's
``language_code`` at /start for a person whose language the org file does not name, the org
file's over it, a stranger answered in theirs; /language switches with a tap, the confirmation
and every message after it (the next nudge) in the new language; the choice survives an import
that names no language and yields to one that does; forged or stale language buttons and
strangers' taps store nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from bot.render import texts
from bot.services import org_import
from bot.services.language import name_of
from bot.store import org
from models.tables import AuditEvent, Person
from tests.adapters.harness import Harness
from tests.adapters.org import NUDGE, ORG, W1, WALT
from tests.catalogues import catalogues as catalogues  # the fixture

PLANT = "Plant"
ANNA, BORIS, EVE = 5001, 5002, 6002
TINA_NAMED = ORG.replace(
    'key = "tl"\nname = "Tina Lead"\nunit = "team"\npost = "team leader"\n',
    'key = "tl"\nname = "Tina Lead"\nunit = "team"\npost = "team leader"\nlanguage = "en"\n',
)
WALT_NAMED = ORG.replace(
    'key = "walt"\nname = "Walt Worker"\nunit = "team"\npost = "operator"\n',
    'key = "walt"\nname = "Walt Worker"\nunit = "team"\npost = "operator"\nlanguage = "en"\n',
)


def language_of(h: Harness, key: str) -> tuple[str, str]:
    with h.session() as session:
        person = org.person_by_key(session, key)
        assert person is not None
        return person.language, person.language_source


def reimport(h: Harness, toml: str) -> None:
    """Import the org again (``h.import_org`` wants a change; this one may change nothing)."""
    path = h.root / "again.toml"
    path.write_text(toml)
    result = org_import.import_org(h.engine, [path], h.clock(), dry_run=False)
    assert not result.problems, result.report()


def audit_count(h: Harness) -> int:
    with h.session() as session:
        return session.exec(select(func.count()).select_from(AuditEvent)).one()


def labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for row in message.get("buttons") or [] for button in row]


async def test_start_takes_telegrams_language_unless_the_org_file_names_one(
    catalogues: Path, bare: Harness
) -> None:
    assert TINA_NAMED != ORG
    h = bare
    h.import_org(TINA_NAMED)
    assert language_of(h, "walt") == ("en", "default")
    assert language_of(h, "tl") == ("en", "org")
    await h.start_bot()
    await h.people.create_person("Walt", id=ANNA, language_code="ru-RU")
    await h.people.create_person("Tina", id=BORIS, language_code="ru")
    await h.people.create_person("Eve", id=EVE, language_code="ru")

    await h.people.send_command(ANNA, "start", h.invite_code("walt"))
    await h.people.send_command(BORIS, "start", h.invite_code("tl"))
    await h.people.send_command(EVE, "start")
    await h.settle()

    params = {"plant": PLANT}
    russian = texts.render("ru", "start.greeting", name="Walt Worker", **params)
    assert russian != texts.render("en", "start.greeting", name="Walt Worker", **params)
    assert await h.texts(ANNA) == [russian]
    assert language_of(h, "walt") == ("ru", "telegram")
    english = texts.render("en", "start.greeting", name="Tina Lead", **params)
    assert await h.texts(BORIS) == [english]
    assert language_of(h, "tl") == ("en", "org")
    assert await h.texts(EVE) == [texts.render("ru", "start.no_code", **params)]

    reimport(h, TINA_NAMED)  # no language for Walt: Telegram's stays
    assert language_of(h, "walt") == ("ru", "telegram")
    await h.people.send_command(ANNA, "start")  # again: still Russian
    await h.settle()
    assert (await h.texts(ANNA))[-1] == texts.render(
        "ru", "start.already_linked", name="Walt Worker"
    )


async def test_language_tap_switches_and_the_next_nudge_follows(
    catalogues: Path, h: Harness
) -> None:
    await h.start_bot()
    await h.people.send_command(WALT, "language")
    menu = await h.message(WALT, "")
    assert menu["text"] == texts.render("en", "language.current", language="English")
    assert labels(menu) == [
        f"✓ {name_of(lang)}" if lang == "en" else name_of(lang) for lang in texts.languages()
    ]
    assert "Русский" in labels(menu)
    events = audit_count(h)

    await h.people.tap(WALT, menu["message_id"], label="Русский")
    confirmation = texts.render("ru", "language.changed", language="Русский")
    assert confirmation != texts.render("en", "language.changed", language="Русский")
    assert await h.toast(WALT, "") == confirmation
    await h.settle()
    [edited] = [m for m in await h.messages(WALT) if m["message_id"] == menu["message_id"]]
    assert edited["text"] == confirmation and not labels(edited)  # the buttons are gone
    assert language_of(h, "walt") == ("ru", "chosen")
    assert audit_count(h) == events + 1

    await h.run_pass("plan", "nudges")  # 07:00: the day's nudges
    await h.message(W1, NUDGE)  # Willy's stays English
    nudge = await h.until(
        "Walt's nudge",
        lambda: _with_buttons(h, WALT, after=menu["message_id"]),
    )
    assert labels(nudge)[:3] == [
        texts.render("ru", f"nudge.button_{kind}", number=1)
        for kind in ("done", "blocked", "later")
    ]
    assert labels(nudge)[0] != texts.render("en", "nudge.button_done", number=1)
    assert NUDGE not in nudge["text"]

    await h.people.send_command(WALT, "language")  # the menu in Russian, Russian marked
    again = await h.message(WALT, "", after=nudge["message_id"])
    assert again["text"] == texts.render("ru", "language.current", language="Русский")
    assert "✓ Русский" in labels(again) and "English" in labels(again)

    reimport(h, ORG)  # names no language: the choice stays
    assert language_of(h, "walt") == ("ru", "chosen")
    reimport(h, WALT_NAMED)  # names one: it wins
    assert language_of(h, "walt") == ("en", "org")


async def _with_buttons(h: Harness, chat: int, after: int) -> dict[str, Any] | None:
    found = [m for m in await h.messages(chat) if m["message_id"] > after and labels(m)]
    return found[0] if found else None


async def test_forged_or_stale_language_buttons_store_nothing(catalogues: Path, h: Harness) -> None:
    await h.start_bot()
    await h.people.create_person("Eve", id=EVE, language_code="ru")
    await h.people.send_command(WALT, "language")
    menu = await h.message(WALT, "")
    before, events = language_of(h, "walt"), audit_count(h)
    invalid = texts.render("en", "language.button_invalid")

    for seen, data in enumerate(("l:fr", "l:zh-Hant", "l:../x", "l:", "l:ru:1", "l:RU-ru-xx-1")):
        await h.people.tap(WALT, menu["message_id"], data=data, forge=True)
        assert await h.toast(WALT, "", seen=seen) == invalid, data
    await h.people.send_command(EVE, "start")
    await h.settle()
    await h.people.tap(EVE, (await h.messages(EVE))[-1]["message_id"], data="l:ru", forge=True)
    assert await h.toast(EVE, "") == texts.render("ru", "access.unknown_user", plant=PLANT)
    await h.settle()

    assert language_of(h, "walt") == before
    assert audit_count(h) == events
    [unchanged] = [m for m in await h.messages(WALT) if m["message_id"] == menu["message_id"]]
    assert unchanged["text"] == menu["text"] and labels(unchanged) == labels(menu)
    with h.session() as session:
        assert session.exec(select(Person).where(Person.telegram_user_id == EVE)).first() is None
