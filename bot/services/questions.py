"""Typed answers to the question the bot asked: ``QUESTIONS`` says which function answers a
text, by the kind of the question pending for its sender (the evidence of a "Done", the time
of a "later", the note of a block, a leader's reason for "Excuse", whom a leader reassigns to).
``bot.services.replies.typed`` reads it before the text is parsed as a typed reply."""

from __future__ import annotations

from collections.abc import Callable

from bot.delivery.outcomes import Outcome
from bot.services import actions, escalation, reassign
from bot.services.recording import Loaded, ReplyContext, load, record, time_refused
from bot.store import replies
from models.replies import Action, Category, later_refusal, typed_time
from models.tables import PendingInput

Answerer = Callable[[ReplyContext, PendingInput, str], Outcome]
DutyAnswer = Callable[[ReplyContext, PendingInput, str, Loaded], Outcome]


def _about_duty(answer: DutyAnswer) -> Answerer:
    """An answer about the person's own duty, given the duty once it is checked; when it
    cannot be answered any more (gone, closed, too late), the answer saying so, and the
    question is closed."""

    def checked(ctx: ReplyContext, question: PendingInput, text: str) -> Outcome:
        loaded = load(ctx, question.occurrence_id)
        if isinstance(loaded, Outcome):
            replies.forget_question(ctx.session, ctx.person.id or 0)
            return loaded
        return answer(ctx, question, text, loaded)

    return checked


def _answer_evidence(
    ctx: ReplyContext, question: PendingInput, text: str, loaded: Loaded
) -> Outcome:
    occ, duty, _ = loaded
    if duty.evidence == "photo":
        return Outcome(ctx.text("reply.need_photo", number=occ.number, title=duty.title))
    return _answered(ctx, record(ctx, loaded, Action.DONE, via="text", note=text))


def _answer_later_time(
    ctx: ReplyContext, question: PendingInput, text: str, loaded: Loaded
) -> Outcome:
    promised = typed_time(text, ctx.now, ctx.tz)
    if (refusal := later_refusal(text, promised, ctx.now)) or promised is None:
        return Outcome(time_refused(ctx, refusal))
    outcome = record(ctx, loaded, Action.LATER, via="text", promised=promised)
    return _answered(ctx, outcome)


def _answer_block_note(
    ctx: ReplyContext, question: PendingInput, text: str, loaded: Loaded
) -> Outcome:
    occ = loaded[0]
    category = Category(question.category or Category.OTHER.value)
    outcome = record(
        ctx,
        loaded,
        Action.BLOCKED,
        via="text",
        category=category,
        note=text,
        note_only=True,
    )
    escalation.note_added(ctx.session, occ, ctx.now)  # leaders told of the block get it
    return _answered(ctx, outcome)


def _answer_excuse(ctx: ReplyContext, question: PendingInput, text: str) -> Outcome:
    """A leader's reason for "Excuse"."""
    return actions.excuse(ctx.session, ctx.settings, ctx.person, question, text, ctx.now)


def _answer_reassign(ctx: ReplyContext, question: PendingInput, text: str) -> Outcome:
    """The name or key a leader typed after "Reassign"."""
    return reassign.typed(ctx.session, ctx.settings, ctx.person, question, text, ctx.now)


# Which question a typed text answers, by the kind of the question pending for its sender; read
# before the text is parsed as a typed reply. Only a typed reply in full form takes the text
# instead (``models.replies.full_reply``) and closes the question, as does a kind not listed.
QUESTIONS: dict[str, Answerer] = {
    # a text as evidence ("Done" on a duty that needs some)
    "evidence": _about_duty(_answer_evidence),
    "later_time": _about_duty(_answer_later_time),  # the time of a "later"
    "block_note": _about_duty(_answer_block_note),  # the note of a block
    "excuse": _answer_excuse,  # a leader's reason for excusing an item
    "reassign": _answer_reassign,  # whom a leader gives an item to
}


def _answered(ctx: ReplyContext, outcome: Outcome) -> Outcome:
    replies.forget_question(ctx.session, ctx.person.id or 0)
    return outcome
