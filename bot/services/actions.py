"""What leaders do from an escalation message: take it ("I'll handle it"), excuse it, nudge
the person again, reassign it (``bot.services.reassign``), or resolve a block. Only people
above the item's person in the org tree, admins, and people a policy named may act
(``bot.services.leader_item``); every action is an audit event, and the messages of everyone
notified are edited to show who took it (``bot.services.notices.edits``).

The buttons (never trusted; ``bot.callbacks`` writes and reads them, ``bot.render.notices``
labels them): ack, excuse, nudge again, reassign (asks whom), resolve a block; a person to
reassign to, a page of the people to choose from.

Excuse is two steps, both here: the button asks the reason (``_ask_excuse``, a pending
question), and the typed reason closes the item as excused (``excuse``; the pure transition is
``models.occurrence.excuse``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import callbacks
from bot.callbacks import Lead, LeadKind, Page, Pick
from bot.config import Settings
from bot.delivery.outcomes import Outcome, Prompt
from bot.render import dates, texts
from bot.render.messages import when_label
from bot.render.notices import renudge
from bot.services import notices, reassign
from bot.services.leader_item import Loaded, ask, audit, item_params, load, save, steps_due
from bot.store import escalation as escalation_store
from bot.store import org, replies
from bot.store import outbox as outbox_store
from bot.store.engine import session_scope
from models import occurrence as life
from models.durations import parse_duration
from models.occurrence import Refused
from models.tables import Occurrence, Outbox, PendingInput, Person

REASON_LIMIT = 500  # characters of an excuse's reason that are kept and passed on


def tap(
    engine: Engine,
    settings: Settings,
    telegram_user_id: int,
    data: str,
    now: datetime,
    message_id: int | None = None,
) -> Outcome:
    """A leader's button on an escalation message (``message_id``: the message tapped)."""
    with session_scope(engine) as session:
        actor = org.person_by_telegram(session, telegram_user_id)
        if actor is None or not actor.active:
            return Outcome(texts.render(None, "access.unknown_user", plant=settings.plant.name))
        return act(session, settings, actor, data, now, message_id)


def act(
    session: Session,
    settings: Settings,
    actor: Person,
    data: str,
    now: datetime,
    message_id: int | None = None,
) -> Outcome:
    action = callbacks.decode(data)
    lang = actor.language
    if not isinstance(action, callbacks.LeaderAction):
        return Outcome(texts.render(lang, "reply.button_invalid"))
    loaded = load(session, settings, actor, action.occurrence_id)
    if isinstance(loaded, Outcome):
        return loaded
    occ, duty, person, tree = loaded
    params = item_params(occ, duty, person)
    lead = action.kind if isinstance(action, Lead) else None
    if lead is LeadKind.ACK:
        save(occ, life.ack(occ.life(), actor.id or 0, now))
        audit(session, "escalation.acked", occ, actor, now)
        timeout = _ack_timeout(lang, occ)
        return Outcome(
            texts.render(lang, "action.acked", timeout=timeout, **params),
            notices.edits(session, settings, occ),
            recorded=True,
            wake_escalation=steps_due(now, occ),
        )
    if lead is LeadKind.EXCUSE:
        return _ask_excuse(session, settings, actor, occ, now, params)
    if lead is LeadKind.NUDGE:
        _renudge(session, settings, actor, loaded, now)
        audit(session, "escalation.renudged", occ, actor, now)
        wake = steps_due(now, occ)
        return Outcome(
            texts.render(lang, "action.nudged", **params), recorded=True, wake_escalation=wake
        )
    if lead is LeadKind.REASSIGN:
        return reassign.ask(session, settings, tree, actor, occ, now, params)
    if lead is LeadKind.RESOLVE:
        if (resolved := life.resolve(occ.life(), actor.id, now)) is Refused.NOT_BLOCKED:
            return Outcome(texts.render(lang, "action.only_blocks"))
        save(occ, resolved)
        return _resolve(session, settings, actor, loaded, now)
    if isinstance(action, Page):
        return reassign.turn_page(
            session, settings, tree, actor, occ, action.page, message_id, params
        )
    assert isinstance(action, Pick)  # every other action returned above
    return reassign.pick(session, settings, tree, actor, occ, action.person_id, now, params)


def _ack_timeout(lang: str, occ: Occurrence) -> str:
    """The policy's ack timeout (stored as "2h") in the reader's words ("2 hours")."""
    stored = str(occ.policy.get("ack_timeout", "")) if occ.policy else ""
    try:
        return dates.duration(lang, parse_duration(stored))
    except ValueError:  # a policy stored before it had one: say what is stored
        return stored


def _ask_excuse(
    session: Session,
    settings: Settings,
    actor: Person,
    occ: Occurrence,
    now: datetime,
    params: dict[str, object],
) -> Outcome:
    """The Excuse button: ask the reason; the next text the leader types answers it."""
    ask(session, settings, actor, occ, "excuse", now)
    lang = actor.language
    return Outcome(
        texts.render(lang, "action.tap_ask_excuse"),
        prompt=Prompt(texts.render(lang, "action.ask_excuse", **params), force_reply=True),
    )


def excuse(
    session: Session,
    settings: Settings,
    actor: Person,
    question: PendingInput,
    reason: str,
    now: datetime,
) -> Outcome:
    """The reason for an "Excuse" arrived: close the occurrence as excused, and tell its
    person who excused it and why."""
    replies.forget_question(session, actor.id or 0)
    loaded = load(session, settings, actor, question.occurrence_id)
    if isinstance(loaded, Outcome):
        return loaded
    occ, duty, person, _ = loaded
    reason = reason[:REASON_LIMIT]
    save(occ, life.excuse(occ.life(), actor.id, now))
    audit(session, "occurrence.excused", occ, actor, now, reason=reason)
    notices.enqueue_text(
        session, person, "action.excused_person", now, f"excused:{occ.id}",
        leader=actor.name, number=occ.number, title=duty.title, reason=reason,
    )  # fmt: skip
    text = texts.render(actor.language, "action.excused", **item_params(occ, duty, person))
    edits = notices.edits(session, settings, occ)
    return Outcome(text, edits, recorded=True, wake_escalation=steps_due(now, occ))


def _renudge(
    session: Session, settings: Settings, actor: Person, loaded: Loaded, now: datetime
) -> None:
    """Nudge the item's person again, with the answer buttons, from the leader."""
    occ, duty, person, _ = loaded
    if person.telegram_user_id is None:
        return
    tz = org.timezones(session, settings.plant.timezone)(person.timezone, person.unit_id)
    due = when_label(person.language, occ.due_at, tz, now)
    message = renudge(person.language, actor.name, occ, duty, due)
    outbox_store.enqueue(
        session,
        Outbox(
            created_at=now, chat_id=person.telegram_user_id, person_id=person.id, kind="renudge",
            dedupe_key=f"renudge:{occ.id}:{int(now.timestamp())}",
            payload={"method": "sendMessage", **message}, next_attempt_at=now,
        ),
    )  # fmt: skip


def _resolve(
    session: Session, settings: Settings, actor: Person, loaded: Loaded, now: datetime
) -> Outcome:
    """A block resolved: everyone told of it (and its person) hears who resolved it."""
    occ, duty, person, _ = loaded
    audit(session, "block.resolved", occ, actor, now)
    told = {occ.person_id} | {
        n.recipient_id for n in escalation_store.notices_of(session, occ.id or 0)
    }
    told.discard(actor.id or 0)
    for who in org.people_by_ids(session, sorted(told)).values():
        notices.enqueue_text(
            session, who, "action.resolved_notice", now, f"resolved:{occ.id}:{who.id}",
            leader=actor.name, number=occ.number, title=duty.title, name=person.name,
        )  # fmt: skip
    return Outcome(
        texts.render(actor.language, "action.resolved", **item_params(occ, duty, person)),
        notices.edits(session, settings, occ),
        recorded=True,
        wake_escalation=steps_due(now, occ),
    )
