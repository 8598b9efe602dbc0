"""Replies: a tap, a typed line, a photo. Gather the occurrence, decide with
``models.replies``, apply (reply row, status, audit event, question asked) in one
transaction. The handler answers the person only after the commit, so an answer the person
saw confirmed is stored; an update delivered twice is recorded once (its update id is unique).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import callbacks
from bot.config import Settings
from bot.delivery.outcomes import Edit, Outcome, Prompt
from bot.render import texts
from bot.render.messages import (
    NudgeLine,
    category_keyboard,
    later_keyboard,
    nudge_messages,
    skip_keyboard,
    when_label,
)
from bot.services import actions, escalation, evidence
from bot.store import audit, occurrences, org, replies
from bot.store import outbox as outbox_store
from bot.store.engine import session_scope, write_now
from models import occurrence as life
from models.calendar import local_to_utc
from models.replies import (
    MAX_LATER,
    STATUS_OF,
    Action,
    Category,
    OccurrenceFacts,
    Refusal,
    Typed,
    TypedProblem,
    accepts_file,
    check,
    deadline,
    full_reply,
    image_kind,
    is_same,
    later_refusal,
    later_until,
    needs_evidence,
    parse_typed,
    typed_time,
)
from models.tables import Duty, Occurrence, PendingInput, Person, Reply

UNKNOWN_SHOWN = 10  # unknown numbers named in one answer; more are cut to "…"
TEXT_LIMIT = 1000  # characters of a note or text evidence that are stored


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """A photo or document sent as evidence; ``content`` when it was fetched."""

    file_id: str
    unique_id: str
    kind: str  # photo | document
    content: bytes | None


@dataclass(frozen=True, slots=True)
class Incoming:
    telegram_user_id: int
    update_id: int
    message_id: int | None
    now: datetime


class _Context:
    """One reply's transaction: the person, their language and timezone, and the settings."""

    def __init__(self, session: Session, settings: Settings, person: Person, incoming: Incoming):
        self.session, self.settings, self.person, self.incoming = (
            session,
            settings,
            person,
            incoming,
        )
        self.lang = person.language
        self.tz = org.timezones(session, settings.plant.timezone)(person.timezone, person.unit_id)
        self.now = incoming.now

    def text(self, message_id: str, **params: object) -> str:
        return texts.render(self.lang, message_id, **params)

    def today(self) -> datetime:
        return self.now.astimezone(ZoneInfo(self.tz))


def tap(engine: Engine, settings: Settings, incoming: Incoming, data: str) -> Outcome:
    """A button under a nudge or a question. The callback data is never trusted."""
    action = callbacks.decode(data)
    with session_scope(engine) as session:
        person = _person(session, incoming)
        if person is None:
            return Outcome(texts.render(None, "access.unknown_user", plant=settings.plant.name))
        ctx = _Context(session, settings, person, incoming)
        if not isinstance(action, callbacks.PersonAction):
            return Outcome(ctx.text("reply.button_invalid"))
        if (earlier := replies.reply_by_update(session, incoming.update_id)) is not None:
            return _already(ctx, earlier)
        loaded = _load(ctx, action.occurrence_id)
        if isinstance(loaded, Outcome):
            return loaded
        occ, duty, facts = loaded
        match action:
            case callbacks.Answer(reply):
                return _start_action(ctx, occ, duty, facts, reply)
            case callbacks.BlockCategory(category):
                outcome = _record(
                    ctx, occ, duty, facts, Action.BLOCKED, via="button", category=category
                )
                if outcome.recorded:
                    replies.ask(session, _question(ctx, occ, "block_note", category=category.value))
                    skip = skip_keyboard(ctx.lang, occ.id or 0)
                    outcome.prompt = Prompt(ctx.text("reply.ask_note"), skip)
                return outcome
            case callbacks.LaterTime(option):
                promised = later_until(option, ctx.now, ctx.tz, occ.due_at, _day_end(ctx))
                replies.forget_question(session, person.id or 0)
                return _record(ctx, occ, duty, facts, Action.LATER, via="button", promised=promised)
            case callbacks.SkipNote():
                replies.forget_question(session, person.id or 0)
                return Outcome(ctx.text("reply.note_skipped"))


def typed(engine: Engine, settings: Settings, incoming: Incoming, text: str) -> Outcome | None:
    """A text message: the answer to a question the bot asked, or a typed reply. None when it
    is neither (the caller says it did not understand). A pending question takes the text
    first, before it is read as a typed reply: ``QUESTIONS`` says which answers it (the rule
    is in ``models.replies``)."""
    with session_scope(engine) as session:
        person = _person(session, incoming)
        if person is None:
            return None
        ctx = _Context(session, settings, person, incoming)
        if earlier := replies.replies_by_update(session, incoming.update_id):
            return _already_all(ctx, earlier)
        question = replies.pending_input(session, person.id or 0, ctx.now)
        if question is not None:
            answer = QUESTIONS.get(question.kind)
            if answer is not None and not full_reply(text, ctx.now, ctx.tz):
                return answer(ctx, question, text)
            replies.forget_question(session, person.id or 0)  # a typed reply instead closes it
        parsed = parse_typed(text)
        if isinstance(parsed, TypedProblem):
            return Outcome(ctx.text(f"reply.{parsed.value}"))
        if isinstance(parsed, Typed):
            return _typed_reply(ctx, parsed)
        return None


def expected_evidence(engine: Engine, incoming: Incoming) -> str | None:
    """The evidence the bot asked this person for ("photo" or "text"), or None when it asked
    for none (only then is a file worth fetching)."""
    with session_scope(engine) as session:
        person = _person(session, incoming)
        if person is None:
            return None
        question = replies.pending_input(session, person.id or 0, incoming.now)
        if question is None or question.kind != "evidence":
            return None
        found = occurrences.occurrence_with_duty(session, question.occurrence_id)
        return found[1].evidence if found is not None else None


def evidence_file(
    engine: Engine,
    settings: Settings,
    incoming: Incoming,
    file: EvidenceFile,
) -> Outcome | None:
    """A photo or document: evidence for the duty the bot asked about, if it asked. For a
    photo duty a document counts only if its content is an image; a refused file is neither
    recorded nor kept, and the question stays open."""
    with session_scope(engine) as session:
        person = _person(session, incoming)
        if person is None:
            return None
        ctx = _Context(session, settings, person, incoming)
        if (earlier := replies.reply_by_update(session, incoming.update_id)) is not None:
            return _already(ctx, earlier)
        question = replies.pending_input(session, person.id or 0, ctx.now)
        if question is None or question.kind != "evidence":
            return Outcome(ctx.text("reply.not_expected"))
        loaded = _load(ctx, question.occurrence_id)
        if isinstance(loaded, Outcome):
            replies.forget_question(session, person.id or 0)
            return loaded
        occ, duty, facts = loaded
        image = image_kind(file.content[:16]) if file.content is not None else None
        if not accepts_file(duty.evidence, file.kind, image):
            unread = "reply.not_an_image" if file.content is not None else "reply.file_unread"
            return Outcome(ctx.text(unread, number=occ.number, title=duty.title))
        path = evidence.keep(settings.replies.evidence_dir, file.unique_id, image, file.content)
        outcome = _record(
            ctx, occ, duty, facts, Action.DONE, via=file.kind, evidence=(file.file_id, path)
        )
        replies.forget_question(session, person.id or 0)
        return outcome


def _person(session: Session, incoming: Incoming) -> Person | None:
    person = org.person_by_telegram(session, incoming.telegram_user_id)
    return person if person is not None and person.active and person.id is not None else None


def _load(ctx: _Context, occurrence_id: int) -> tuple[Occurrence, Duty, OccurrenceFacts] | Outcome:
    occurrences.lock_occurrence(ctx.session, occurrence_id)
    found = occurrences.occurrence_with_duty(ctx.session, occurrence_id)
    if found is None:
        return Outcome(ctx.text("reply.gone"))
    occ, duty = found
    last = replies.last_reply(ctx.session, occurrence_id)
    facts = OccurrenceFacts(
        id=occurrence_id,
        person_id=occ.person_id,
        day=occ.day,
        status=occ.status,
        due_at=occ.due_at,
        promised_at=last.new_due_at if last and last.kind == "later" else None,
        evidence=duty.evidence,
        category=last.category if last and last.kind == "blocked" else None,
    )
    refusal = check(facts, ctx.person.id or 0, ctx.now, ctx.settings.replies.grace)
    if refusal is Refusal.NOT_YOURS:
        return Outcome(ctx.text("reply.not_yours"))
    if refusal is Refusal.CLOSED:
        return Outcome(ctx.text("reply.closed", status=ctx.text(f"status.{occ.status}", time="")))
    if refusal is Refusal.TOO_LATE:
        return Outcome(_too_late(ctx, facts))
    return occ, duty, facts


def _too_late(ctx: _Context, facts: OccurrenceFacts) -> str:
    stamp = _clock(ctx, deadline(facts, ctx.settings.replies.grace))
    leader = org.leader_of(ctx.session, ctx.person)
    if leader is None:
        return ctx.text("reply.too_late_no_leader", deadline=stamp)
    return ctx.text("reply.too_late", deadline=stamp, leader=leader.name)


def _start_action(
    ctx: _Context,
    occ: Occurrence,
    duty: Duty,
    facts: OccurrenceFacts,
    action: Action,
    via: str = "button",
) -> Outcome:
    number, title = occ.number, duty.title
    if action is Action.DONE:
        if facts.status == "done":
            return Outcome(ctx.text("reply.same", status=ctx.text("status.done", time="")))
        if not needs_evidence(facts):
            return _record(ctx, occ, duty, facts, Action.DONE, via=via)
        replies.ask(ctx.session, _question(ctx, occ, "evidence"))
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
    replies.ask(ctx.session, _question(ctx, occ, "later_time"))
    return Outcome(
        ctx.text("reply.tap_ask_later"),
        prompt=Prompt(
            ctx.text("reply.ask_later", number=number, title=title),
            later_keyboard(ctx.lang, occ.id or 0),
        ),
    )


def _typed_reply(ctx: _Context, parsed: Typed) -> Outcome:
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
        loaded = _load(ctx, occurrence_id)
        if isinstance(loaded, Outcome):
            answers.append(loaded.answer)
            continue
        occ, duty, facts = loaded
        if parsed.action is Action.DONE:
            outcome = _start_action(ctx, occ, duty, facts, Action.DONE, via="command")
            if outcome.prompt is not None:
                outcome.answer = outcome.prompt.text
                outcome.prompt = None
        elif parsed.action is Action.BLOCKED:
            outcome = _record(
                ctx,
                occ,
                duty,
                facts,
                Action.BLOCKED,
                via="command",
                category=parsed.category,
                note=parsed.text,
            )
        else:
            promised = typed_time(parsed.text, ctx.now, ctx.tz)
            if (refusal := later_refusal(parsed.text, promised, ctx.now)) or promised is None:
                answers.append(_time_refused(ctx, refusal))
                continue
            outcome = _record(ctx, occ, duty, facts, Action.LATER, via="command", promised=promised)
        answers.append(outcome.answer)
        combined.edits.extend(outcome.edits)
        combined.recorded = combined.recorded or outcome.recorded
    if unknown:
        shown = ", ".join(str(n) for n in unknown[:UNKNOWN_SHOWN])
        shown += ", …" if len(unknown) > UNKNOWN_SHOWN else ""
        answers.insert(unknown_at, ctx.text("reply.unknown_number", number=shown))
    combined.answer = "\n".join(answers)
    # Each recorded number re-rendered the same nudge: only its last state needs sending.
    latest = {(edit.chat_id, edit.message_id): edit for edit in combined.edits}
    combined.edits = list(latest.values())
    return combined


# --- typed answers to the question the bot asked -----------------------------------------------

Answerer = Callable[[_Context, PendingInput, str], Outcome]


def _answer_evidence(ctx: _Context, question: PendingInput, text: str) -> Outcome:
    loaded = _asked_about(ctx, question)
    if isinstance(loaded, Outcome):
        return loaded
    occ, duty, facts = loaded
    if duty.evidence == "photo":
        return Outcome(ctx.text("reply.need_photo", number=occ.number, title=duty.title))
    return _answered(ctx, _record(ctx, occ, duty, facts, Action.DONE, via="text", note=text))


def _answer_later_time(ctx: _Context, question: PendingInput, text: str) -> Outcome:
    loaded = _asked_about(ctx, question)
    if isinstance(loaded, Outcome):
        return loaded
    occ, duty, facts = loaded
    promised = typed_time(text, ctx.now, ctx.tz)
    if (refusal := later_refusal(text, promised, ctx.now)) or promised is None:
        return Outcome(_time_refused(ctx, refusal))
    outcome = _record(ctx, occ, duty, facts, Action.LATER, via="text", promised=promised)
    return _answered(ctx, outcome)


def _answer_block_note(ctx: _Context, question: PendingInput, text: str) -> Outcome:
    loaded = _asked_about(ctx, question)
    if isinstance(loaded, Outcome):
        return loaded
    occ, duty, facts = loaded
    category = Category(question.category or Category.OTHER.value)
    outcome = _record(
        ctx,
        occ,
        duty,
        facts,
        Action.BLOCKED,
        via="text",
        category=category,
        note=text,
        note_only=True,
    )
    escalation.note_added(ctx.session, occ, ctx.now)  # leaders told of the block get it
    return _answered(ctx, outcome)


def _answer_excuse(ctx: _Context, question: PendingInput, text: str) -> Outcome:
    """A leader's reason for "Excuse"."""
    return actions.excuse(ctx.session, ctx.settings, ctx.person, question, text, ctx.now)


def _answer_reassign(ctx: _Context, question: PendingInput, text: str) -> Outcome:
    """The name or key a leader typed after "Reassign"."""
    return actions.reassign_typed(ctx.session, ctx.settings, ctx.person, question, text, ctx.now)


# Which question a typed text answers, by the kind of the question pending for its sender; read
# before the text is parsed as a typed reply. Only a typed reply in full form takes the text
# instead (``models.replies.full_reply``) and closes the question, as does a kind not listed.
QUESTIONS: dict[str, Answerer] = {
    "evidence": _answer_evidence,  # a text as evidence ("Done" on a duty that needs some)
    "later_time": _answer_later_time,  # the time of a "later"
    "block_note": _answer_block_note,  # the note of a block
    "excuse": _answer_excuse,  # a leader's reason for excusing an item
    "reassign": _answer_reassign,  # whom a leader gives an item to
}


def _asked_about(
    ctx: _Context, question: PendingInput
) -> tuple[Occurrence, Duty, OccurrenceFacts] | Outcome:
    """The duty a question is about; when it cannot be answered any more (gone, closed, too
    late), the answer saying so, and the question is closed."""
    loaded = _load(ctx, question.occurrence_id)
    if isinstance(loaded, Outcome):
        replies.forget_question(ctx.session, ctx.person.id or 0)
    return loaded


def _answered(ctx: _Context, outcome: Outcome) -> Outcome:
    replies.forget_question(ctx.session, ctx.person.id or 0)
    return outcome


def _record(
    ctx: _Context,
    occ: Occurrence,
    duty: Duty,
    facts: OccurrenceFacts,
    action: Action,
    *,
    via: str,
    category: Category | None = None,
    promised: datetime | None = None,
    note: str = "",
    evidence: tuple[str, str | None] | None = None,
    note_only: bool = False,
) -> Outcome:
    """Store one answer: a reply row, the new status, an audit event; and the nudge edit."""
    cat = category.value if category else None
    if not note_only and is_same(facts, action, cat, promised):
        return Outcome(
            ctx.text("reply.same", status=_status_text(ctx, STATUS_OF[action], promised))
        )
    before = occ.status
    reply = Reply(
        occurrence_id=occ.id or 0,
        person_id=ctx.person.id or 0,
        kind=action.value,
        category=cat,
        text=note[:TEXT_LIMIT] or None,
        new_due_at=promised,
        evidence_file_id=evidence[0] if evidence else None,
        evidence_path=evidence[1] if evidence else None,
        via=via,
        source_message_id=ctx.incoming.message_id,
        telegram_update_id=ctx.incoming.update_id,
        created_at=ctx.now,
    )
    # A note never reopens a resolved block. An answer: a block climbs at once, a later
    # waits for its time, done stops the climb.
    new = (
        life.note(occ.life(), ctx.now)
        if note_only
        else life.answer(occ.life(), action, ctx.now, promised)
    )
    if isinstance(new, life.Refused):  # ``_load`` checked it under the row's lock already
        return Outcome(ctx.text("reply.closed", status=ctx.text(f"status.{occ.status}", time="")))
    replies.add_reply(ctx.session, reply)
    occ.apply(new)
    occurrences.save(ctx.session, occ)
    audit.record(
        ctx.session,
        "reply.recorded",
        ctx.now,
        subject=f"occurrence:{occ.id}",
        actor=ctx.person,
        actor_telegram_id=ctx.incoming.telegram_user_id,
        data={
            "from": before,
            "to": occ.status,
            "via": via,
            "message_id": ctx.incoming.message_id,
            "category": cat,
            "new_due_at": promised.isoformat() if promised else None,
            "note": bool(note),
            "evidence": bool(evidence),
        },
    )
    write_now(ctx.session)
    number, title = occ.number, duty.title
    if note_only:
        answer = ctx.text("reply.recorded_note", number=number, title=title)
    elif action is Action.DONE:
        answer = ctx.text("reply.recorded_done", number=number, title=title)
    elif action is Action.BLOCKED:
        answer = ctx.text(
            "reply.recorded_blocked",
            number=number,
            title=title,
            category=ctx.text(f"reply.category_{cat}"),
        )
    else:
        answer = ctx.text(
            "reply.recorded_later", number=number, title=title, time=_clock(ctx, promised)
        )
    edits = _nudge_edit(ctx, occ)
    return Outcome(answer, edits, recorded=True)


def _nudge_edit(ctx: _Context, occ: Occurrence) -> list[Edit]:
    """The nudge message holding this occurrence, re-rendered with every duty's status; no
    edit when nothing visible changed (Telegram refuses an edit that changes nothing)."""
    if occ.nudge_outbox_id is None:
        return []
    outbox = outbox_store.by_id(ctx.session, occ.nudge_outbox_id)
    if outbox is None or outbox.telegram_message_id is None:
        return []
    lines = []
    members = occurrences.occurrences_in_message(ctx.session, outbox.id or 0)
    for member, duty in members:
        last = replies.last_reply(ctx.session, member.id or 0)
        promised = last.new_due_at if last and last.kind == "later" else None
        lines.append(
            NudgeLine(
                occurrence_id=member.id or 0,
                number=member.number,
                title=duty.title,
                details=duty.details,
                due_at=member.due_at,
                status=member.status,
                status_text=_clock(ctx, promised) if promised else "",
            )
        )
    if not lines:
        return []
    payload = dict(outbox.payload)
    nudge_at = min(member.nudge_at for member, _ in members)
    [message] = nudge_messages(
        ctx.lang,
        ctx.person.name,
        nudge_at,
        ctx.tz,
        lines,
        late=bool(payload.get("late")),
        first_part=int(payload.get("part", 0)) == 0,
    )
    if message.text == payload.get("text") and message.reply_markup == payload.get("reply_markup"):
        return []
    payload |= {"text": message.text, "reply_markup": message.reply_markup}
    outbox.payload = payload
    outbox_store.save(ctx.session, outbox)
    return [Edit(outbox.chat_id, outbox.telegram_message_id, message.text, message.reply_markup)]


def _question(
    ctx: _Context, occ: Occurrence, kind: str, category: str | None = None
) -> PendingInput:
    return PendingInput(
        person_id=ctx.person.id or 0,
        occurrence_id=occ.id or 0,
        kind=kind,
        category=category,
        created_at=ctx.now,
        expires_at=ctx.now + ctx.settings.replies.question_timeout,
    )


def _day_end(ctx: _Context) -> datetime:
    local = ctx.today()
    end = local_to_utc(local.date(), time.fromisoformat(ctx.settings.replies.day_end), ctx.tz)
    return end if end > ctx.now else ctx.now + timedelta(hours=1)


def _clock(ctx: _Context, at: datetime | None) -> str:
    return when_label(ctx.lang, at, ctx.tz, ctx.now) if at is not None else ""


def _time_refused(ctx: _Context, refusal: str | None) -> str:
    if refusal != "too_far":
        return ctx.text("reply.not_a_time")
    return ctx.text("reply.too_far", days=MAX_LATER.days, limit=_clock(ctx, ctx.now + MAX_LATER))


def _already(ctx: _Context, reply: Reply) -> Outcome:
    """The answer to an update delivered again (after a restart): what it recorded."""
    status = STATUS_OF[Action(reply.kind)]
    return Outcome(ctx.text("reply.same", status=_status_text(ctx, status, reply.new_due_at)))


def _already_all(ctx: _Context, replies: list[Reply]) -> Outcome:
    """The same for a typed line that recorded several duties: one line for each."""
    if len(replies) == 1:
        return _already(ctx, replies[0])
    lines = []
    for reply in replies:
        found = occurrences.occurrence_with_duty(ctx.session, reply.occurrence_id)
        status = _status_text(ctx, STATUS_OF[Action(reply.kind)], reply.new_due_at)
        number, title = (found[0].number, found[1].title) if found else ("?", "?")
        lines.append(ctx.text("reply.same_item", number=number, title=title, status=status))
    return Outcome("\n".join(lines))


def _status_text(ctx: _Context, status: str, promised: datetime | None) -> str:
    return ctx.text(f"status.{status}", time=_clock(ctx, promised))
