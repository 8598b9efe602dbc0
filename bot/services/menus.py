"""The command menus Telegram shows under the message box, per language and per role.

Telegram picks the most specific list it has for a chat (``setMyCommands``' scopes): the
chat's own (``BotCommandScopeChat``), else the private chats' list for the user's client
language, else the private chats' default. So execbot sets:

- for each catalogue language, the worker's commands in that language, for private chats whose
  Telegram client speaks it (``language_code``, Telegram's two-letter code: ``zh-Hans`` is
  ``zh``);
- the default list (no language) in the plant's language;
- for each leader and admin, their longer list in their stored language, in their own chat;
  and the same for a worker whose stored language is not the plant's (their client may be in
  another language than the one they chose).

What was last set is kept as settings rows (``menu:<scope>``, a digest of the list and the
bot), so a restart calls Telegram only for what changed, and a second instance for nothing.
``refresh_menus`` runs in the background at start-up and after each plan pass (an org import
may have made a new leader), and the ``/language`` handler calls it after a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.render import texts
from bot.runtime import Runtime
from bot.store import org
from bot.store.engine import session_scope
from bot.store.settings import delete_setting, put_setting, settings_under
from models.roles import Role, role_of

log = logging.getLogger(__name__)

PREFIX = "menu:"
DEFAULT_KEY = "menu:default"
PRIVATE_PREFIX = "menu:private:"  # + Telegram's language code
CHAT_PREFIX = "menu:chat:"  # + chat id
# Every command in the order the menu lists it, with the least role that may use it. A command
# whose description is not in the English catalogue is left out (its handler is not there).
COMMANDS: tuple[tuple[str, Role], ...] = (
    ("today", Role.WORKER),
    ("week", Role.WORKER),
    ("me", Role.WORKER),
    ("team", Role.LEADER),
    ("overdue", Role.LEADER),
    ("report", Role.LEADER),
    ("dead", Role.ADMIN),
    ("language", Role.WORKER),
    ("help", Role.WORKER),
    ("start", Role.WORKER),
)
PAUSE = 0.05  # seconds between two menu calls: a start-up never floods Telegram


@dataclass(frozen=True, slots=True)
class Reader:
    """A person with a private chat, as far as menus care."""

    chat_id: int
    language: str
    role: Role


@dataclass(frozen=True, slots=True)
class Menu:
    key: str  # the settings row that remembers it
    scope: BotCommandScope
    language_code: str  # "" for every language
    commands: tuple[tuple[str, str], ...]

    def digest(self, bot_id: int) -> str:
        body = json.dumps([bot_id, self.language_code, self.commands], ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Refreshed:
    applied: int = 0
    deleted: int = 0
    failed: int = 0


def commands(role: Role, lang: str) -> tuple[tuple[str, str], ...]:
    """The (command, description) list of ``role`` in ``lang``."""
    english = texts.catalogue(texts.FALLBACK)
    return tuple(
        (name, texts.render(lang, f"commands.{name}"))
        for name, least in COMMANDS
        if role >= least and f"commands.{name}" in english
    )


def telegram_code(lang: str) -> str:
    """Telegram's language code for a catalogue's tag: its two-letter language."""
    return lang.split("-")[0].lower()


def wanted(plant_language: str, languages: Sequence[str], readers: Sequence[Reader]) -> list[Menu]:
    """Every menu execbot should have set (pure)."""
    menus = [Menu(DEFAULT_KEY, BotCommandScopeDefault(), "", commands(Role.WORKER, plant_language))]
    lists: dict[tuple[Role, str], tuple[tuple[str, str], ...]] = {}
    codes: set[str] = set()
    for lang in languages:
        code = telegram_code(lang)
        if code in codes:  # zh-Hant after zh-Hans: one list per Telegram language
            continue
        codes.add(code)
        scope = BotCommandScopeAllPrivateChats()
        menus.append(Menu(PRIVATE_PREFIX + code, scope, code, commands(Role.WORKER, lang)))
    for reader in readers:
        if reader.role > Role.WORKER or reader.language != plant_language:
            which = (reader.role, reader.language)
            if which not in lists:
                lists[which] = commands(*which)
            chat = BotCommandScopeChat(reader.chat_id)
            menus.append(Menu(f"{CHAT_PREFIX}{reader.chat_id}", chat, "", lists[which]))
    return menus


def unwanted_scope(key: str) -> tuple[BotCommandScope, str] | None:
    """The scope and language of a stored menu key (to delete a menu no longer wanted)."""
    if key.startswith(CHAT_PREFIX) and key[len(CHAT_PREFIX) :].lstrip("-").isdigit():
        return BotCommandScopeChat(int(key[len(CHAT_PREFIX) :])), ""
    if key.startswith(PRIVATE_PREFIX):
        return BotCommandScopeAllPrivateChats(), key[len(PRIVATE_PREFIX) :]
    return None


def planned(
    engine: Engine, plant_language: str, admin_keys: frozenset[str]
) -> tuple[list[Menu], dict[str, str]]:
    """The menus wanted now, and the digests of those stored as set (run in a worker thread:
    a plant of thousands takes a few hundred milliseconds)."""
    people, stored = readers(engine, admin_keys)
    return wanted(plant_language, texts.languages(), people), stored


def readers(engine: Engine, admin_keys: frozenset[str]) -> tuple[list[Reader], dict[str, str]]:
    """Everyone with a chat, their language and role; and the menus stored as set."""
    with session_scope(engine) as session:
        leading = org.leading_person_ids(session)
        people = [
            Reader(
                person.telegram_user_id or 0,
                person.language or texts.FALLBACK,
                role_of(person.key, person.id in leading, admin_keys),
            )
            for person in org.linked_people(session)
        ]
        return people, settings_under(session, PREFIX)


def remember(engine: Engine, key: str, digest: str | None, now: datetime) -> None:
    with session_scope(engine) as session:
        if digest is None:
            delete_setting(session, key)
        else:
            put_setting(session, key, digest, now)


@dataclass
class _Refreshing:
    """One bot's refreshes in one event loop: one at a time, and those running."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tasks: set[asyncio.Task[Refreshed]] = field(default_factory=set)


# Per event loop (a test runs each in its own; a closed loop's state goes with it), per bot.
_refreshing: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _Refreshing]] = (
    weakref.WeakKeyDictionary()
)


def _state(bot: Bot) -> _Refreshing:
    bots = _refreshing.setdefault(asyncio.get_running_loop(), {})
    return bots.setdefault(id(bot), _Refreshing())


async def refresh_menus(rt: Runtime, bot: Bot) -> Refreshed:
    """Set every menu that changed since it was last set, delete those no longer wanted.
    One refresh at a time per bot; a failure leaves that menu for the next refresh."""
    async with _state(bot).lock:
        plant = rt.settings.plant.language
        menus, stored = await rt.call(planned, rt.engine, plant, rt.admin_keys)
        bot_id = bot.id
        done = Refreshed()
        for menu in menus:
            digest = menu.digest(bot_id)
            if stored.get(menu.key) == digest:
                continue
            ok = await _call(bot.set_my_commands, menu.key, menu.scope, menu.language_code, menu)
            if ok:
                await rt.call(remember, rt.engine, menu.key, digest, rt.clock())
            done = _count(done, ok, deleted=False)
        keys = {menu.key for menu in menus}
        for key in sorted(set(stored) - keys):
            found = unwanted_scope(key)
            if found is None:
                ok = True  # the default is always wanted: a stray row is only forgotten
            else:
                ok = await _call(bot.delete_my_commands, key, found[0], found[1], None)
            if ok:
                await rt.call(remember, rt.engine, key, None, rt.clock())
            done = _count(done, ok, deleted=True)
        if done.applied or done.deleted or done.failed:
            log.info(
                "command menus: %d set, %d deleted, %d failed",
                done.applied,
                done.deleted,
                done.failed,
            )
        return done


def _count(done: Refreshed, ok: bool, *, deleted: bool) -> Refreshed:
    if not ok:
        return Refreshed(done.applied, done.deleted, done.failed + 1)
    if deleted:
        return Refreshed(done.applied, done.deleted + 1, done.failed)
    return Refreshed(done.applied + 1, done.deleted, done.failed)


async def _call(
    method: Callable[..., Awaitable[bool]],
    key: str,
    scope: BotCommandScope,
    language_code: str,
    menu: Menu | None,
) -> bool:
    """One setMyCommands (``menu`` given) or deleteMyCommands; True if Telegram took it. A
    flood wait is waited once; a refused chat (blocked, gone) is logged and skipped."""
    kwargs: dict[str, object] = {"scope": scope, "language_code": language_code or None}
    if menu is not None:
        kwargs["commands"] = [BotCommand(name, text) for name, text in menu.commands]
    for attempt in range(2):
        await asyncio.sleep(PAUSE)
        try:
            await method(**kwargs)
            return True
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            if attempt:
                break
            await asyncio.sleep(seconds)
        except (BadRequest, Forbidden) as exc:
            log.warning("command menu %s refused: %s", key, exc.message)
            return False
        except TelegramError as exc:  # the network: the next refresh tries again
            log.warning("command menu %s not set: %s", key, exc)
            return False
    return False


def start_refresh(rt: Runtime, bot: Bot) -> asyncio.Task[Refreshed]:
    """Refresh in the background (never delaying polling or planning); errors are logged."""
    task = asyncio.create_task(_logged(rt, bot), name="menus")
    tasks = _state(bot).tasks
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task


async def _logged(rt: Runtime, bot: Bot) -> Refreshed:
    try:
        return await refresh_menus(rt, bot)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("command menus: refresh failed (tried again after the next plan pass)")
        return Refreshed()


async def stop_refreshes(bot: Bot) -> None:
    """Cancel this bot's background refreshes (at shutdown)."""
    mine = list(_state(bot).tasks)
    for task in mine:
        task.cancel()
    for task in mine:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    _refreshing.get(asyncio.get_running_loop(), {}).pop(id(bot), None)


async def settle(bot: Bot) -> None:
    """Until this bot's background refreshes are over (tests, and a clean hand-over)."""
    while mine := set(_state(bot).tasks):
        await asyncio.wait(mine)
