"""Telegram handlers. Each turns an update into one service call and answers the person."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, TypeHandler

from handlers import agenda, board, fallback, help, replies, start
from handlers.common import private_only


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, private_only), group=-1)  # groups: a pointer at most
    start.register(app)
    help.register(app)
    agenda.register(app)
    board.register(app)
    replies.register(app)
    fallback.register(app)
