"""The typed context every handler and job receives: python-telegram-bot's ``ContextTypes``
with one application-data class instead of string keys in ``bot_data``.

``Context`` is the type of the ``context`` argument of every handler and job callback; ``App``
is the application the composition root (``bot.app``) builds; ``context.bot_data`` is an
``AppData``, so ``context.bot_data.runtime`` is typed and needs no lookup or ``isinstance``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.delivery.sender import Sender
from bot.runtime import Runtime
from models.throttle import Throttle

if TYPE_CHECKING:
    from bot.delivery.inbox import Workers


@dataclass
class WokenPass:
    """A pass brought forward between its ticks (``scheduler.jobs.wake_escalation``): the run
    in flight, whether one more is wanted after it (at most one, however many wakes came),
    how many runs were woken, and the lock the pass holds while it runs, so that a woken run
    and the ticking job never overlap."""

    task: asyncio.Task[None] | None = None
    again: bool = False
    runs: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class AppData:
    """The running bot's shared objects, set once by ``bot.app.build_application``.
    python-telegram-bot creates it with no arguments, so the fields start unset and reading
    one before the composition root has set it is a programming error, said plainly."""

    def __init__(self) -> None:
        self._runtime: Runtime | None = None
        self._sender: Sender | None = None
        self.sender_task: asyncio.Task[None] | None = None
        self.escalation = WokenPass()
        self.workers: Workers | None = None  # the inbox workers, while the bot runs
        # Refusals to strangers, at most one a minute each (kept in memory: a stranger who
        # writes to two instances may hear two; nothing is stored for people we do not know).
        self.refusals = Throttle(interval=60.0, capacity=10_000)

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("the application has no runtime: build it with bot.app")
        return self._runtime

    @property
    def sender(self) -> Sender:
        if self._sender is None:
            raise RuntimeError("the application has no sender: build it with bot.app")
        return self._sender

    def wire(self, runtime: Runtime, sender: Sender) -> None:
        self._runtime, self._sender = runtime, sender


Bot: TypeAlias = ExtBot[str]  # str: the rate limiter's argument type (bot.delivery.sender)
Data: TypeAlias = dict[Any, Any]  # user_data and chat_data: unused, state lives in the database
Context: TypeAlias = CallbackContext[Bot, Data, Data, AppData]
App: TypeAlias = Application[Bot, Context, Data, Data, AppData, JobQueue[Context]]
CONTEXT_TYPES = ContextTypes(bot_data=AppData)


def job_queue() -> JobQueue[Context]:
    """The application's job queue, typed for ``Context`` (the builder's default is not)."""
    return JobQueue()
