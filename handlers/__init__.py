"""Telegram handlers. Each turns an update into one service call and answers the person."""

from __future__ import annotations

from telegram.ext import Application

from handlers import agenda, board, dead, fallback, help, replies, start


def register(app: Application) -> None:  # type: ignore[type-arg]
    start.register(app)
    help.register(app)
    agenda.register(app)
    board.register(app)
    dead.register(app)
    replies.register(app)
    fallback.register(app)
