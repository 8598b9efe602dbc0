"""Recording one answer of a person to their duty, shared by taps (``bot.services.replies``),
answers to questions (``bot.services.questions``) and evidence (``bot.services.evidence``):
the sender and their context, the occurrence loaded and checked under its row's lock, and
``record``, which stores the reply row, the new status and an audit event in the caller's
transaction and re-renders the nudge that lists the duty."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.config import Settings
from bot.delivery.outcomes import Edit, Outcome
from bot.render import texts
from bot.render.messages import NudgeLine, nudge_messages, when_label
from bot.store import audit, occurrences, org, replies
from bot.store import outbox as outbox_store
from bot.store.engine import write_now
from models import occurrence as life
from models.calendar import local_to_utc
from models.replies import (
    MAX_LATER,
    STATUS_OF,
    Action,
    Category,
    OccurrenceFacts,
    Refusal,
    Words,
    check,
    deadline,
    is_same,
)
from models.tables import Duty, Occurrence, PendingInput, Person, Reply

TEXT_LIMIT = 1000  # characters of a note or text evidence that are stored
Loaded = tuple[Occurrence, Duty, OccurrenceFacts]  # the occurrence, its duty, the facts checked


@dataclass(frozen=True, slots=True)
class Incoming:
    telegram_user_id: int
    update_id: int
    message_id: int | None
    now: datetime


class ReplyContext:
    """One reply's transaction: the person, their language and timezone, and the settings."""

    def __init__(self, session: Session, settings: Settings, person: Person, incoming: Incoming):
        self.session, self.settings, self.person, self.incoming = (
            session,
            settings,
            person,
            incoming,
        )
        self.lang = person.language
        self.tz = org.timezone_of(session, settings.plant.timezone, person.timezone, person.unit_id)
        self.now = incoming.now

    def text(self, message_id: str, **params: object) -> str:
        return texts.render(self.lang, message_id, **params)

    @property
    def words(self) -> Words:
        """The words typed replies may use: the person's language's and English's."""
        return texts.typed_words(self.lang)

    def today(self) -> datetime:
        return self.now.astimezone(ZoneInfo(self.tz))


def person_of(session: Session, incoming: Incoming) -> Person | None:
    person = org.person_by_telegram(session, incoming.telegram_user_id)
    return person if person is not None and person.active and person.id is not None else None


def load(ctx: ReplyContext, occurrence_id: int) -> Loaded | Outcome:
    occurrences.lock_occurrence(ctx.session, occurrence_id)
    found = occurrences.answered(ctx.session, occurrence_id)
    if found is None:
        return Outcome(ctx.text("reply.gone"))
    occ, duty, last = found
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


def _too_late(ctx: ReplyContext, facts: OccurrenceFacts) -> str:
    stamp = clock(ctx, deadline(facts, ctx.settings.replies.grace))
    leader = org.leader_of(ctx.session, ctx.person)
    if leader is None:
        return ctx.text("reply.too_late_no_leader", deadline=stamp)
    return ctx.text("reply.too_late", deadline=stamp, leader=leader.name)


def record(
    ctx: ReplyContext,
    loaded: Loaded,
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
    occ, duty, facts = loaded
    cat = category.value if category else None
    if not note_only and is_same(facts, action, cat, promised):
        return Outcome(
            ctx.text("reply.same", status=_status_text(ctx, STATUS_OF[action], promised))
        )
    before = occ.status
    # A note never reopens a resolved block. An answer: a block climbs at once, a later
    # waits for its time, done stops the climb.
    new = (
        life.note(occ.life(), ctx.now)
        if note_only
        else life.answer(occ.life(), action, ctx.now, promised)
    )
    if isinstance(new, life.Refused):  # ``load`` checked it under the row's lock already
        return Outcome(ctx.text("reply.closed", status=ctx.text(f"status.{occ.status}", time="")))
    replies.add_reply(
        ctx.session,
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
    occurrences.write_state(ctx.session, occ, new)
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
        at_once=True,
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
            "reply.recorded_later", number=number, title=title, time=clock(ctx, promised)
        )
    edits = _nudge_edit(ctx, occ, replies.LastAnswer(action.value, cat, promised))
    return Outcome(answer, edits, recorded=True, wake_escalation=life.step_due(new, ctx.now))


def _nudge_edit(ctx: ReplyContext, occ: Occurrence, answer: replies.LastAnswer) -> list[Edit]:
    """The nudge message holding this occurrence (whose latest reply is ``answer``, just
    stored), re-rendered with every duty's status; no edit when nothing visible changed
    (Telegram refuses an edit that changes nothing). Plain rows, a few queries whatever the
    message lists: this runs on every answer."""
    if occ.nudge_outbox_id is None:
        return []
    nudge = occurrences.sent_nudge(ctx.session, occ.nudge_outbox_id)
    if nudge is None:
        return []
    members = nudge.lines
    others = [member.id for member in members if member.id != occ.id]
    last = replies.last_answers(ctx.session, others) if others else {}
    last[occ.id or 0] = answer
    lines = []
    for member in members:
        latest = last.get(member.id)
        promised = latest.new_due_at if latest and latest.kind == "later" else None
        lines.append(
            NudgeLine(
                occurrence_id=member.id,
                number=member.number,
                title=member.title,
                details=member.details,
                due_at=member.due_at,
                status=member.status,
                status_text=clock(ctx, promised) if promised else "",
            )
        )
    payload = nudge.payload
    nudge_at = min(member.nudge_at for member in members)
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
    outbox_store.set_payload(ctx.session, occ.nudge_outbox_id, payload)
    return [Edit(nudge.chat_id, nudge.telegram_message_id, message.text, message.reply_markup)]


def question(
    ctx: ReplyContext, occ: Occurrence, kind: str, category: str | None = None
) -> PendingInput:
    return PendingInput(
        person_id=ctx.person.id or 0,
        occurrence_id=occ.id or 0,
        kind=kind,
        category=category,
        created_at=ctx.now,
        expires_at=ctx.now + ctx.settings.replies.question_timeout,
    )


def day_end(ctx: ReplyContext) -> datetime:
    local = ctx.today()
    end = local_to_utc(local.date(), time.fromisoformat(ctx.settings.replies.day_end), ctx.tz)
    return end if end > ctx.now else ctx.now + timedelta(hours=1)


def clock(ctx: ReplyContext, at: datetime | None) -> str:
    return when_label(ctx.lang, at, ctx.tz, ctx.now) if at is not None else ""


def time_refused(ctx: ReplyContext, refusal: str | None) -> str:
    if refusal != "too_far":
        return ctx.text("reply.not_a_time")
    return ctx.text("reply.too_far", count=MAX_LATER.days, limit=clock(ctx, ctx.now + MAX_LATER))


def already(ctx: ReplyContext, reply: Reply | replies.LastAnswer) -> Outcome:
    """The answer to an update delivered again (after a restart): what it recorded."""
    status = STATUS_OF[Action(reply.kind)]
    return Outcome(ctx.text("reply.same", status=_status_text(ctx, status, reply.new_due_at)))


def already_all(ctx: ReplyContext, replies: list[Reply]) -> Outcome:
    """The same for a typed line that recorded several duties: one line for each."""
    if len(replies) == 1:
        return already(ctx, replies[0])
    lines = []
    for reply in replies:
        found = occurrences.occurrence_with_duty(ctx.session, reply.occurrence_id)
        status = _status_text(ctx, STATUS_OF[Action(reply.kind)], reply.new_due_at)
        number, title = (found[0].number, found[1].title) if found else ("?", "?")
        lines.append(ctx.text("reply.same_item", number=number, title=title, status=status))
    return Outcome("\n".join(lines))


def _status_text(ctx: ReplyContext, status: str, promised: datetime | None) -> str:
    return ctx.text(f"status.{status}", time=clock(ctx, promised))
