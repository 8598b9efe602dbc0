"""Telegram handlers. Each turns an update into one service call and answers the person.

Every handler is registered here, in one list (``handlers()``), in the order python-telegram-bot
tries them. Within a group only the first handler whose filter matches an update runs; groups
run in ascending order, and ``ApplicationHandlerStop`` stops the groups after it.

1. Group -1, the private-only guard: runs first for every update and, outside a private chat,
   answers with a pointer to the private chat and stops everything else (a group never sees a
   board, a duty or a question).
2. Commands (group 0, like all that follows): ``/start`` and the rest, each its own handler.
3. Taps: a leader's button (callback data starting with ``callbacks.LEADER_PREFIX``) and a
   ``/language`` button (``callbacks.LANGUAGE_PREFIX``) before the
   catch-all tap handler, which takes the person's own buttons and every forged or unknown tap
   (each tap must be answered, if only with "this button is not valid").
4. Typed text that is not a command (answers to a question, typed replies), then photos and
   documents (evidence).
5. The fallback last: a command nobody registered, and anything the bot does not read (stickers,
   voice, ...); text, photos, documents and commands are excluded so it never shadows the above.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import callbacks
from bot.context import App
from handlers import agenda, board, dead, fallback, help, language, replies, report, start
from handlers.common import private_only

GUARD = -1  # the group of the private-only guard: before every other handler
PRIVATE = filters.ChatType.PRIVATE
READ_ELSEWHERE = filters.COMMAND | filters.TEXT | filters.PHOTO | filters.Document.ALL


def handlers() -> list[tuple[int, BaseHandler[Any, Any, Any]]]:
    """Every handler with its group, in the order they are tried (fresh for each app)."""
    return [
        (GUARD, TypeHandler(Update, private_only)),
        (0, CommandHandler("start", start.start)),
        (0, CommandHandler("help", help.help_command)),
        (0, CommandHandler("today", agenda.today)),
        (0, CommandHandler("week", agenda.week)),
        (0, CommandHandler("team", board.team)),
        (0, CommandHandler("overdue", board.overdue)),
        (0, CommandHandler("report", report.report)),
        (0, CommandHandler("me", report.me)),
        (0, CommandHandler("dead", dead.dead, filters=PRIVATE)),
        (0, CommandHandler("language", language.language_command)),
        (0, CallbackQueryHandler(language.on_tap, pattern=callbacks.LANGUAGE_PATTERN)),
        (0, CallbackQueryHandler(replies.on_leader_tap, pattern=callbacks.LEADER_PATTERN)),
        (0, CallbackQueryHandler(replies.on_tap)),
        (0, MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, replies.on_text)),
        (0, MessageHandler(PRIVATE & (filters.PHOTO | filters.Document.ALL), replies.on_file)),
        (0, MessageHandler(PRIVATE & filters.COMMAND, fallback.unknown_command)),
        (0, MessageHandler(PRIVATE & ~READ_ELSEWHERE, fallback.anything_else)),
    ]


def register(app: App) -> None:
    for group, handler in handlers():
        app.add_handler(handler, group=group)
