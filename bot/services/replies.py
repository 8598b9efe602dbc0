"""Replies: a tap, a typed line. Gather the occurrence, decide with ``models.replies``, apply
(reply row, status, audit event, question asked) in one transaction (``bot.services.recording``).
The handler answers the person only after the commit, so an answer the person saw confirmed is
stored; an update delivered twice is recorded once (its update id is unique).

A typed text goes first to the question the bot asked, if one is pending
(``bot.services.questions``); photos and files are in ``bot.services.evidence``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import callbacks
from bot.config import Settings
from bot.delivery.outcomes import Outcome, Prompt
from bot.render import texts
from bot.render.messages import category_keyboard, later_keyboard, skip_keyboard
from bot.services import outgoing
from bot.services.questions import QUESTIONS
from bot.services.recording import Incoming as Incoming  # the handlers build it
from bot.services.recording import (
    Loaded,
    ReplyContext,
    already,
    already_all,
    day_end,
    load,
    person_of,
    question,
    record,
    time_refused,
)
from bot.store import occurrences, outbox, replies
from bot.store.engine import session_scope
from models.replies import (
    Action,
    Typed,
    TypedProblem,
    full_reply,
    later_refusal,
    later_until,
    needs_evidence,
    parse_typed,
    typed_time,
)
from models.tables import Outbox

FORCE_REPLY = {"force_reply": True, "selective": True}  # Telegram's ForceReply(selective=True)
UNKNOWN_SHOWN = 10  # unknown numbers named in one answer; more are cut to "…"


def tap(engine: Engine, settings: Settings, incoming: Incoming, data: str) -> Outcome:
    """A button under a nudge or a question. The callback data is never trusted."""
    with session_scope(engine) as session:
        return _tap(session, settings, incoming, data)


def tap_and_queue(
    engine: Engine, settings: Settings, incoming: Incoming, data: str, chat_id: int | None
) -> Outcome:
    """:func:`tap`, with the edits and the question it leads to (:func:`follow_ups`) stored in
    the outbox in the same transaction: one commit a tap instead of two (on SQLite, where
    writers take turns, a reply storm's taps waited for each other's commits), and the
    follow-ups are stored exactly when the reply is."""
    with session_scope(engine) as session:
        outcome = _tap(session, settings, incoming, data)
        messages = follow_ups(chat_id, outcome)
        if messages:
            outbox.add_new(session, [_outbox_row(m, incoming.now) for m in messages])
        return outcome


def follow_ups(chat_id: int | None, outcome: Outcome) -> list[outgoing.Outgoing]:
    """The nudge edits and the question an outcome asks for, as outbox messages in order
    (the question goes to ``chat_id``, the chat the reply came from)."""
    messages = [
        outgoing.edit(edit.chat_id, edit.message_id, edit.text, edit.reply_markup)
        for edit in outcome.edits
    ]
    if outcome.prompt is not None and chat_id is not None:
        prompt = outcome.prompt
        markup: dict[str, Any] | None = prompt.reply_markup
        if not markup and prompt.force_reply:
            markup = dict(FORCE_REPLY)
        messages.append(outgoing.reply(chat_id, prompt.text, markup))
    return messages


def _outbox_row(message: outgoing.Outgoing, now: datetime) -> Outbox:
    """An outbox row as ``outgoing.queue`` stores it."""
    return Outbox(
        chat_id=message.chat_id,
        kind=message.kind,
        payload=message.payload,
        created_at=now,
        next_attempt_at=now,
    )


def _tap(session: Session, settings: Settings, incoming: Incoming, data: str) -> Outcome:
    action = callbacks.decode(data)
    person = person_of(session, incoming)
    if person is None:
        return Outcome(texts.render(None, "access.unknown_user", plant=settings.plant.name))
    ctx = ReplyContext(session, settings, person, incoming)
    if not isinstance(action, callbacks.PersonAction):
        return Outcome(ctx.text("reply.button_invalid"))
    if (earlier := replies.reply_by_update(session, incoming.update_id)) is not None:
        return already(ctx, earlier)
    loaded = load(ctx, action.occurrence_id)
    if isinstance(loaded, Outcome):
        return loaded
    occ = loaded[0]
    match action:
        case callbacks.Answer(reply):
            return _start_action(ctx, loaded, reply)
        case callbacks.BlockCategory(category):
            outcome = record(ctx, loaded, Action.BLOCKED, via="button", category=category)
            if outcome.recorded:
                replies.ask(session, question(ctx, occ, "block_note", category=category.value))
                skip = skip_keyboard(ctx.lang, occ.id or 0)
                outcome.prompt = Prompt(ctx.text("reply.ask_note"), skip)
            return outcome
        case callbacks.LaterTime(option):
            promised = later_until(option, ctx.now, ctx.tz, occ.due_at, day_end(ctx))
            replies.forget_question(session, person.id or 0)
            return record(ctx, loaded, Action.LATER, via="button", promised=promised)
        case callbacks.SkipNote():
            replies.forget_question(session, person.id or 0)
            return Outcome(ctx.text("reply.note_skipped"))


def typed(engine: Engine, settings: Settings, incoming: Incoming, text: str) -> Outcome | None:
    """A text message: the answer to a question the bot asked, or a typed reply. None when it
    is neither (the caller says it did not understand). A pending question takes the text
    first, before it is read as a typed reply: ``QUESTIONS`` says which answers it (the rule
    is in ``models.replies``)."""
    with session_scope(engine) as session:
        person = person_of(session, incoming)
        if person is None:
            return None
        ctx = ReplyContext(session, settings, person, incoming)
        if earlier := replies.replies_by_update(session, incoming.update_id):
            return already_all(ctx, earlier)
        question = replies.pending_input(session, person.id or 0, ctx.now)
        if question is not None:
            answer = QUESTIONS.get(question.kind)
            if answer is not None and not full_reply(text, ctx.now, ctx.tz, ctx.words):
                return answer(ctx, question, text)
            replies.forget_question(session, person.id or 0)  # a typed reply instead closes it
        parsed = parse_typed(text, ctx.words)
        if isinstance(parsed, TypedProblem):
            return Outcome(ctx.text(f"reply.{parsed.value}"))
        if isinstance(parsed, Typed):
            return _typed_reply(ctx, parsed)
        return None


def _start_action(
    ctx: ReplyContext,
    loaded: Loaded,
    action: Action,
    via: str = "button",
) -> Outcome:
    occ, duty, facts = loaded
    number, title = occ.number, duty.title
    if action is Action.DONE:
        if facts.status == "done":
            return Outcome(ctx.text("reply.same", status=ctx.text("status.done", time="")))
        if not needs_evidence(facts):
            return record(ctx, loaded, Action.DONE, via=via)
        replies.ask(ctx.session, question(ctx, occ, "evidence"))
        ask = "reply.ask_photo" if duty.evidence == "photo" else "reply.ask_text"
        return Outcome(
            ctx.text("reply.tap_ask_evidence"),
            prompt=Prompt(ctx.text(ask, number=number, title=title), force_reply=True),
        )
    if action is Action.BLOCKED:
        return Outcome(
            ctx.text("reply.tap_ask_category"),
            prompt=Prompt(
                ctx.text("reply.ask_category", number=number, title=title),
                category_keyboard(ctx.lang, occ.id or 0),
            ),
        )
    replies.ask(ctx.session, question(ctx, occ, "later_time"))
    return Outcome(
        ctx.text("reply.tap_ask_later"),
        prompt=Prompt(
            ctx.text("reply.ask_later", number=number, title=title),
            later_keyboard(ctx.lang, occ.id or 0),
        ),
    )


def _typed_reply(ctx: ReplyContext, parsed: Typed) -> Outcome:
    """One answer line per number; the numbers nobody has share one line (a typed line may
    name hundreds, and the answer must stay one message)."""
    day = ctx.today().date()
    answers: list[str] = []
    unknown: list[int] = []
    unknown_at = 0  # where their line goes
    combined = Outcome("")
    for number in parsed.numbers:
        occurrence_id = occurrences.occurrence_by_number(
            ctx.session, ctx.person.id or 0, day, number
        )
        if occurrence_id is None:
            if not unknown:
                unknown_at = len(answers)
            unknown.append(number)
            continue
        loaded = load(ctx, occurrence_id)
        if isinstance(loaded, Outcome):
            answers.append(loaded.answer)
            continue
        if parsed.action is Action.DONE:
            outcome = _start_action(ctx, loaded, Action.DONE, via="command")
            if outcome.prompt is not None:
                outcome.answer = outcome.prompt.text
                outcome.prompt = None
        elif parsed.action is Action.BLOCKED:
            outcome = record(
                ctx,
                loaded,
                Action.BLOCKED,
                via="command",
                category=parsed.category,
                note=parsed.text,
            )
        else:
            promised = typed_time(parsed.text, ctx.now, ctx.tz)
            if (refusal := later_refusal(parsed.text, promised, ctx.now)) or promised is None:
                answers.append(time_refused(ctx, refusal))
                continue
            outcome = record(ctx, loaded, Action.LATER, via="command", promised=promised)
        answers.append(outcome.answer)
        combined.edits.extend(outcome.edits)
        combined.recorded = combined.recorded or outcome.recorded
        combined.wake_escalation = combined.wake_escalation or outcome.wake_escalation
    if unknown:
        shown = ", ".join(str(n) for n in unknown[:UNKNOWN_SHOWN])
        shown += ", …" if len(unknown) > UNKNOWN_SHOWN else ""
        answers.insert(unknown_at, ctx.text("reply.unknown_number", number=shown))
    combined.answer = "\n".join(answers)
    # Each recorded number re-rendered the same nudge: only its last state needs sending.
    latest = {(edit.chat_id, edit.message_id): edit for edit in combined.edits}
    combined.edits = list(latest.values())
    return combined
