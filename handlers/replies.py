"""Answers to duties: button taps, typed lines (``done 1 3``), and photos or files as
evidence. Each handler makes one service call; the service has committed before anyone is
told anything, and only then are the tap answered, the nudge edited and a question asked."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from telegram import CallbackQuery, Update
from telegram.error import BadRequest

from bot.context import Context
from bot.delivery.inbox import answer_soon, tap_answered
from bot.delivery.outcomes import Outcome
from bot.render import texts
from bot.services import actions, evidence, outgoing, replies
from bot.services.evidence import EvidenceFile
from bot.services.recording import Incoming
from handlers.common import MESSAGE_LIMIT, actor_or_refuse, answer, send
from scheduler.jobs import wake_escalation

log = logging.getLogger(__name__)
TOAST_LIMIT = 200  # characters Telegram shows in a callback answer
TEXT_LIMIT = 2000  # longer typed input is refused, not cut


async def on_tap(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    rt = context.bot_data.runtime
    message = query.message
    incoming = Incoming(
        update.effective_user.id,
        update.update_id,
        message.message_id if message else None,
        rt.clock(),
    )
    chat = update.effective_chat.id if update.effective_chat is not None else None
    # the edits and the question are stored with the reply, in its transaction
    call = rt.call(replies.tap_and_queue, rt.engine, rt.settings, incoming, query.data or "", chat)
    await _carry_out(update, context, call, queued=True)


async def on_leader_tap(update: Update, context: Context) -> None:
    """A button on an escalation message ("I'll handle it", Excuse, ...)."""
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    rt = context.bot_data.runtime
    user_id, data = update.effective_user.id, query.data or ""
    message_id = query.message.message_id if query.message else None
    call = rt.call(actions.tap, rt.engine, rt.settings, user_id, data, rt.clock(), message_id)
    await _carry_out(update, context, call)


async def _carry_out(
    update: Update, context: Context, call: Awaitable[Outcome], *, queued: bool = False
) -> None:
    """Answer a tap with what the service decided (or "try again" if it failed) as soon as it
    has committed, then queue the edits and the question in the outbox (``queued``: the
    service stored them with its commit; the sender is only woken), and bring the
    escalation pass forward if something was recorded."""
    query = update.callback_query
    assert query is not None
    try:
        outcome = await call
    except Exception:
        await _answer_query(query, texts.render(None, "access.try_again"))
        raise
    await answer_soon(_answer_query(query, outcome.answer))  # before the follow-ups are queued
    if queued:
        context.bot_data.sender.wake()
    else:
        await send(context, follow_ups(update, outcome))
    if outcome.wake_escalation:
        wake_escalation(context)


async def on_text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    actor = await actor_or_refuse(update, context)
    if actor is None:
        return
    if len(message.text) > TEXT_LIMIT:
        text = texts.render(
            actor.language, "reply.too_long", length=len(message.text), limit=TEXT_LIMIT
        )
        await answer(update, context, text)
        return
    rt = context.bot_data.runtime
    incoming = Incoming(actor_id(update), update.update_id, message.message_id, rt.clock())
    outcome = await rt.call(replies.typed, rt.engine, rt.settings, incoming, message.text)
    if outcome is None:
        await answer(update, context, texts.render(actor.language, "access.not_understood"))
        return
    await send(context, [*_reply(update, outcome.answer), *follow_ups(update, outcome)])
    if outcome.wake_escalation:
        wake_escalation(context)


async def on_file(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    actor = await actor_or_refuse(update, context)
    if actor is None:
        return
    rt = context.bot_data.runtime
    if message.photo:
        largest = message.photo[-1]
        file_id, unique_id, kind = largest.file_id, largest.file_unique_id, "photo"
    elif message.document is not None:
        document = message.document
        file_id, unique_id, kind = document.file_id, document.file_unique_id, "document"
    else:
        return
    incoming = Incoming(actor_id(update), update.update_id, message.message_id, rt.clock())
    content = None
    expected = await rt.call(evidence.expected, rt.engine, incoming)
    # Fetch only what was asked for: to keep it, or to check that a "photo" is an image.
    if expected and (rt.settings.replies.evidence_dir or (expected, kind) == ("photo", "document")):
        content = await _fetch(context, file_id, unique_id)
    file = EvidenceFile(file_id, unique_id, kind, content)
    outcome = await rt.call(evidence.received, rt.engine, rt.settings, incoming, file)
    if outcome is not None:
        await send(context, [*_reply(update, outcome.answer), *follow_ups(update, outcome)])


async def _answer_query(query: CallbackQuery, text: str) -> None:
    """Answer a tap once. Telegram refuses a second answer and one to a query older than
    about 15 s; both happen when an update comes again after a restart (its answer was
    shown, or is moot). The outcome is stored either way: never let that fail the update."""
    try:
        await query.answer(text[:TOAST_LIMIT])
        tap_answered()
    except BadRequest as exc:
        log.info("could not answer callback query %s: %s", query.id, exc.message)


def actor_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


async def _fetch(context: Context, file_id: str, unique_id: str) -> bytes | None:
    """The file's content from Telegram (at most 20 MB, the Bot API's limit for bots), or None
    when it cannot be fetched."""
    try:
        telegram_file = await context.bot.get_file(file_id)
        return bytes(await telegram_file.download_as_bytearray())
    except Exception:  # the file id alone still identifies the evidence
        log.warning("could not download evidence %s", unique_id, exc_info=True)
        return None


def _reply(update: Update, text: str) -> list[outgoing.Outgoing]:
    chat = update.effective_chat
    return [outgoing.reply(chat.id, text[:MESSAGE_LIMIT])] if chat is not None else []


def follow_ups(update: Update, outcome: Outcome) -> list[outgoing.Outgoing]:
    """The nudge edits and the question an outcome asks for, as outbox messages in order."""
    chat = update.effective_chat
    return replies.follow_ups(chat.id if chat is not None else None, outcome)
