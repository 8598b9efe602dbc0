"""Command menus per language and per role (bot/services/menus.py), read back from the sandbox
with getMyCommands as Telegram would show them: the default list in the plant's language, a
worker's list for each catalogue language, a leader's and an admin's longer list in their own
chat and language, a worker's own list when their language is not the plant's. A restart
sets only the default again; a change of language changes that chat's list and nothing else.

The texts are compared with the catalogues, so the test holds with English alone and checks
every translation as catalogues are added (a Russian leader's menu is in Russian once ru.toml
exists, English until then)."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select
from telegram import BotCommandScope, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.render import texts
from bot.services import menus
from models.tables import Person
from tests.adapters.harness import Harness
from tests.adapters.org import TL, W1, W2, W3, WALT, WH

WORKER = ["today", "week", "me", "help", "start"]
LEADER = ["today", "week", "me", "team", "overdue", "report", "help", "start"]
ADMIN = ["today", "week", "me", "team", "overdue", "report", "dead", "help", "start"]


def _expected(names: list[str], lang: str) -> list[tuple[str, str]]:
    if "commands.language" in texts.catalogue("en"):  # /language, once it exists
        names = [*names[:-2], "language", *names[-2:]]
    return [(name, texts.render(lang, f"commands.{name}")) for name in names]


async def _menu(
    h: Harness, scope: BotCommandScope | None = None, code: str | None = None
) -> list[tuple[str, str]]:
    found = await h.bot.app.bot.get_my_commands(scope=scope, language_code=code)
    return [(c.command, c.description) for c in found]


def _set_language(h: Harness, key: str, lang: str) -> None:
    with h.session() as session:
        person = session.exec(select(Person).where(Person.key == key)).one()
        person.language, person.language_source = lang, "chosen"
        session.add(person)
        session.commit()


async def _set_calls(h: Harness) -> int:
    return len(await h.people.calls("setMyCommands"))


async def test_menus_per_language_and_role_set_once(h: Harness) -> None:
    leader_lang = "ru" if "ru" in texts.languages() else "de"
    _set_language(h, "tl", leader_lang)  # Tina Lead reads Russian
    _set_language(h, "w1", "de")  # Willy One, a worker, reads German
    await h.start_bot()
    bot = h.bot.app.bot
    await menus.settle(bot)

    assert await _menu(h) == _expected(WORKER, "en")  # the plant's language
    for lang in texts.languages():
        scope = BotCommandScopeAllPrivateChats()
        assert await _menu(h, scope, menus.telegram_code(lang)) == _expected(WORKER, lang)
    assert await _menu(h, BotCommandScopeChat(TL)) == _expected(LEADER, leader_lang)
    assert await _menu(h, BotCommandScopeChat(WH)) == _expected(ADMIN, "en")
    assert await _menu(h, BotCommandScopeChat(W1)) == _expected(WORKER, "de")
    assert await _menu(h, BotCommandScopeChat(W2)) == []  # the private chats' list serves
    if leader_lang == "ru":
        assert dict(await _menu(h, BotCommandScopeChat(TL)))["team"] != texts.render(
            "en", "commands.team"
        )

    # A restart sets the default again (the end of its start-up) and nothing else.
    sets = await _set_calls(h)
    await h.bot.stop()
    await h.start_bot()
    bot = h.bot.app.bot
    await menus.settle(bot)
    assert await menus.refresh_menus(h.runtime, bot) == menus.Refreshed()
    assert await _set_calls(h) == sets + 1

    # /language: Wanda switches to German, Willy back to the plant's English, Tina too (a
    # call for her only if her menu reads differently in English).
    _set_language(h, "w2", "de")
    _set_language(h, "w1", "en")
    _set_language(h, "tl", "en")
    tina = int(_expected(LEADER, leader_lang) != _expected(LEADER, "en"))
    done = await menus.refresh_menus(h.runtime, bot)
    assert done == menus.Refreshed(applied=1 + tina, deleted=1)
    assert await _set_calls(h) == sets + 2 + tina
    assert await _menu(h, BotCommandScopeChat(W2)) == _expected(WORKER, "de")
    assert await _menu(h, BotCommandScopeChat(W1)) == []
    assert await _menu(h, BotCommandScopeChat(TL)) == _expected(LEADER, "en")


async def test_a_refused_chat_does_not_stop_the_others(h: Harness) -> None:
    """A menu Telegram fails to take (here: a 500 on the first per-chat call) is tried again by
    the next refresh; the rest are set meanwhile."""
    await h.start_bot()
    bot = h.bot.app.bot
    await menus.settle(bot)
    _set_language(h, "w2", "de")
    _set_language(h, "w3", "de")
    await h.people.add_fault("error", method="setMyCommands", status=500, count=1)
    assert await menus.refresh_menus(h.runtime, bot) == menus.Refreshed(applied=1, failed=1)
    assert await menus.refresh_menus(h.runtime, bot) == menus.Refreshed(applied=1)
    assert await _menu(h, BotCommandScopeChat(W2)) == _expected(WORKER, "de")
    assert await _menu(h, BotCommandScopeChat(W3)) == _expected(WORKER, "de")


async def test_a_slow_menu_refresh_delays_no_answer(h: Harness) -> None:
    """The per-chat menus are set in the background: while Telegram takes 4 s over one of
    them, a worker's /help is answered at once."""
    _set_language(h, "w2", "de")  # one more per-chat menu
    await h.people.add_fault("delay", method="setMyCommands", seconds=0.01, count=1)  # default
    await h.people.add_fault("delay", method="setMyCommands", seconds=4.0, count=1)
    started = time.monotonic()
    await h.start_bot()
    await h.people.send_command(WALT, "help")
    await h.message(WALT, r"^What you can do:")
    answered = time.monotonic() - started
    assert answered < 3.0, f"start-up and /help took {answered:.1f} s behind a slow menu call"
    await menus.settle(h.bot.app.bot)
    assert time.monotonic() - started > 3.5, "the slow menu call must have been in flight"
    assert await _menu(h, BotCommandScopeChat(W2)) == _expected(WORKER, "de")


async def test_a_language_tap_moves_that_chats_menu(h: Harness) -> None:
    """/language: Walt taps another language, and his own menu follows (set in the
    background by the tap's handler)."""
    other = next((lang for lang in ("ru", "de", "zh-Hans") if lang in texts.languages()), None)
    if other is None or "commands.language" not in texts.catalogue("en"):
        pytest.skip("needs /language and a second catalogue")
    await h.start_bot()
    bot = h.bot.app.bot
    await menus.settle(bot)
    assert await _menu(h, BotCommandScopeChat(WALT)) == []  # English, the plant's
    await h.people.send_command(WALT, "language")
    menu = await h.message(WALT, ".")
    await h.people.tap(WALT, menu["message_id"], label=texts.render(other, "meta.language_name"))
    await h.settle()  # the tap handled: its refresh started
    await menus.settle(bot)
    assert await _menu(h, BotCommandScopeChat(WALT)) == _expected(WORKER, other)
