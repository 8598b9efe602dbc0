"""What leaders do from an escalation message: take it ("I'll handle it"), excuse it, nudge
the person again, reassign it, or resolve a block. Only people above the item's person in the
org tree (``OrgTree.stands_above``: a deputy never on their leader's own items), admins, and
people a policy named may act; every action is an audit event, and the messages of everyone
notified are edited to show who took it.

The buttons (never trusted; ``bot.callbacks`` writes and reads them): ack, excuse, nudge
again, reassign (asks whom), resolve a block; a person to reassign to, a page of the people
to choose from. A person or page that is not on the actor's list is refused. Reassign also
takes a typed name or key (a pending question, like the reason of an excuse)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import callbacks
from bot.callbacks import Lead, LeadKind, Page, Pick, button
from bot.config import Settings
from bot.delivery.outcomes import Edit, Outcome, Prompt
from bot.render import texts
from bot.render.messages import NudgeLine, due_label, keyboard, when_label
from bot.services import notices
from bot.store import audit, occurrences, org, replies
from bot.store import escalation as escalation_store
from bot.store import outbox as outbox_store
from bot.store.engine import session_scope
from models import occurrence as life
from models.occurrence import OccurrenceState, Refused
from models.orgtree import OrgTree
from models.reassign import Candidate, choose, page_count, page_slice, reassigned_due
from models.tables import Duty, Occurrence, Outbox, PendingInput, Person

ECHOED = 60  # characters of a typed name repeated in an answer


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
    loaded = _load(session, settings, actor, action.occurrence_id)
    if isinstance(loaded, Outcome):
        return loaded
    occ, duty, person, tree = loaded
    params = {"number": occ.number, "title": duty.title, "name": person.name}
    lead = action.kind if isinstance(action, Lead) else None
    if lead is LeadKind.ACK:
        _save(occ, life.ack(occ.life(), actor.id or 0, now))
        _audit(session, "escalation.acked", occ, actor, now)
        timeout = occ.policy.get("ack_timeout", "") if occ.policy else ""
        return Outcome(
            texts.render(lang, "action.acked", timeout=timeout, **params),
            edits(session, settings, occ),
            recorded=True,
        )
    if lead is LeadKind.EXCUSE:
        replies.ask(
            session,
            PendingInput(
                person_id=actor.id or 0,
                occurrence_id=occ.id or 0,
                kind="excuse",
                created_at=now,
                expires_at=now + settings.replies.question_timeout,
            ),
        )
        return Outcome(
            texts.render(lang, "action.tap_ask_excuse"),
            prompt=Prompt(texts.render(lang, "action.ask_excuse", **params), force_reply=True),
        )
    if lead is LeadKind.NUDGE:
        _renudge(session, settings, actor, occ, duty, person, now)
        _audit(session, "escalation.renudged", occ, actor, now)
        return Outcome(texts.render(lang, "action.nudged", **params), recorded=True)
    if lead is LeadKind.REASSIGN:
        return _ask_reassign(session, settings, tree, actor, occ, now, params)
    if lead is LeadKind.RESOLVE:
        if (resolved := life.resolve(occ.life(), actor.id, now)) is Refused.NOT_BLOCKED:
            return Outcome(texts.render(lang, "action.only_blocks"))
        _save(occ, resolved)
        return _resolve(session, settings, actor, occ, duty, person, now, params)
    if isinstance(action, Page):
        return _turn_page(session, settings, tree, actor, occ, action.page, message_id, params)
    assert isinstance(action, Pick)  # every other action returned above
    people = _candidates(session, settings, tree, actor, occ)
    target = next((p for p in people if p.id == action.person_id), None)
    if target is None:
        return Outcome(texts.render(lang, "action.not_a_candidate"))
    _forget_reassign_question(session, actor, occ, now)
    return _reassign(session, settings, actor, occ, target, now, params)


def excuse(
    session: Session,
    settings: Settings,
    actor: Person,
    question: PendingInput,
    reason: str,
    now: datetime,
) -> Outcome:
    """The reason for an "Excuse" arrived: close the occurrence as excused."""
    replies.forget_question(session, actor.id or 0)
    loaded = _load(session, settings, actor, question.occurrence_id)
    if isinstance(loaded, Outcome):
        return loaded
    occ, duty, person, _ = loaded
    _save(occ, life.excuse(occ.life(), actor.id, now))
    _audit(session, "occurrence.excused", occ, actor, now, reason=reason[:500])
    notices.enqueue_text(
        session,
        person,
        "action.excused_person",
        now,
        f"excused:{occ.id}",
        leader=actor.name,
        number=occ.number,
        title=duty.title,
        reason=reason[:500],
    )
    text = texts.render(
        actor.language, "action.excused", number=occ.number, title=duty.title, name=person.name
    )
    return Outcome(text, edits(session, settings, occ), recorded=True)


def reassign_typed(
    session: Session,
    settings: Settings,
    actor: Person,
    question: PendingInput,
    text: str,
    now: datetime,
) -> Outcome:
    """A name or key typed after "Reassign": one person fits, the item goes to them; several
    fit, they are listed and the question stays open; nobody fits, the leader is told so and
    the question is closed (the next line they type is read as usual again)."""
    lang = actor.language
    loaded = _load(session, settings, actor, question.occurrence_id)
    if isinstance(loaded, Outcome):
        replies.forget_question(session, actor.id or 0)
        return loaded
    occ, duty, person, tree = loaded
    people = _candidates(session, settings, tree, actor, occ)
    if not people:
        replies.forget_question(session, actor.id or 0)
        return Outcome(texts.render(lang, "action.no_candidates"))
    choice = choose(text, [Candidate(p.id or 0, p.key, p.name) for p in people])
    echoed = " ".join(text.split())[:ECHOED]
    if choice.found is None:
        if not choice.several:
            replies.forget_question(session, actor.id or 0)
            return Outcome(texts.render(lang, "action.nobody_named", text=echoed))
        names = ", ".join(f"{c.name} ({c.key})" for c in choice.several)
        return Outcome(texts.render(lang, "action.several_named", text=echoed, names=names))
    replies.forget_question(session, actor.id or 0)
    target = next(p for p in people if p.id == choice.found.id)
    params = {"number": occ.number, "title": duty.title, "name": person.name}
    return _reassign(session, settings, actor, occ, target, now, params)


def edits(session: Session, settings: Settings, occ: Occurrence) -> list[Edit]:
    """Re-render every escalation message that lists this occurrence (each recipient then
    sees who took it); none for a message whose text would not change."""
    result = []
    for outbox_id in sorted(
        {n.outbox_id for n in escalation_store.notices_of(session, occ.id or 0) if n.outbox_id}
    ):
        outbox = outbox_store.by_id(session, outbox_id)
        group = escalation_store.notices_in(session, outbox_id)
        recipient = org.person_by_id(session, group[0].recipient_id) if group else None
        if outbox is None or outbox.telegram_message_id is None or recipient is None:
            continue
        text, markup = notices.render(session, settings, recipient, group)
        payload = dict(outbox.payload)
        if text == payload.get("text") and markup == payload.get("reply_markup"):
            continue
        outbox.payload = payload | {"text": text, "reply_markup": markup}
        outbox_store.save(session, outbox)
        result.append(Edit(outbox.chat_id, outbox.telegram_message_id, text, markup))
    return result


# --- steps -------------------------------------------------------------------------------------


def _load(
    session: Session, settings: Settings, actor: Person, occurrence_id: int
) -> tuple[Occurrence, Duty, Person, OrgTree] | Outcome:
    """The item a leader acts on, locked before it is read (a concurrent answer waits), with
    its person and the org tree; or the answer when it is gone, not theirs, or finished."""
    lang = actor.language
    occurrences.lock_occurrence(session, occurrence_id)
    found = occurrences.occurrence_with_duty(session, occurrence_id)
    if found is None:
        return Outcome(texts.render(lang, "action.gone"))
    occ, duty = found
    person = org.person_by_id(session, occ.person_id)
    assert person is not None
    tree = org.tree(session)
    if not _may_act(session, settings, tree, actor, occ):
        return Outcome(texts.render(lang, "action.not_allowed", name=person.name))
    if occ.status in life.FINISHED:
        status = texts.render(lang, f"status.{occ.status}", time="")
        return Outcome(texts.render(lang, "action.finished", status=status))
    return occ, duty, person, tree


def _may_act(
    session: Session, settings: Settings, tree: OrgTree, actor: Person, occ: Occurrence
) -> bool:
    if actor.key in settings.access.admins:
        return True
    if actor.id == occ.person_id:
        return False
    if tree.stands_above(actor.id or 0, occ.person_id):
        return True
    named = {
        n.recipient_id
        for n in escalation_store.notices_of(session, occ.id or 0)
        if n.kind != "remind"
    }
    return actor.id in named


def _save(occ: Occurrence, new: OccurrenceState | Refused) -> None:
    """Copy a transition's new state onto the row. ``_load`` refused a finished item, under
    the row's lock, so no transition here can refuse it."""
    assert not isinstance(new, Refused), new
    occ.apply(new)


def _audit(
    session: Session, kind: str, occ: Occurrence, actor: Person, now: datetime, **data: object
) -> None:
    audit.record(session, kind, now, subject=f"occurrence:{occ.id}", actor=actor, data=dict(data))


def _renudge(
    session: Session,
    settings: Settings,
    actor: Person,
    occ: Occurrence,
    duty: Duty,
    person: Person,
    now: datetime,
) -> None:
    if person.telegram_user_id is None:
        return
    tz = org.timezones(session, settings.plant.timezone)(person.timezone, person.unit_id)
    due = when_label(person.language, occ.due_at, tz, now)
    line = NudgeLine(occ.id or 0, occ.number, duty.title, duty.details, occ.due_at, occ.status)
    text = texts.render(
        person.language,
        "action.renudge",
        leader=actor.name,
        number=occ.number,
        title=duty.title,
        due=due,
    )
    outbox_store.enqueue(
        session,
        Outbox(
            created_at=now, chat_id=person.telegram_user_id, person_id=person.id, kind="renudge",
            dedupe_key=f"renudge:{occ.id}:{int(now.timestamp())}",
            payload={"method": "sendMessage", "text": text, "reply_markup": keyboard(person.language, [line])},  # noqa: E501
            next_attempt_at=now,
        ),
    )  # fmt: skip


def _candidates(
    session: Session, settings: Settings, tree: OrgTree, actor: Person, occ: Occurrence
) -> list[Person]:
    """Everyone the actor may give the item to, by name: the active people of the units they
    lead or deputise and everything under them (a deputy: not the leader they stand in for),
    the actor included, the item's person not; for an admin, everyone."""
    if actor.key in settings.access.admins:
        units = [unit.id or 0 for unit in org.all_units(session)]
    else:
        units = sorted({u for led in tree.units_led_by(actor.id or 0) for u in tree.subtree(led)})
    people = org.active_people_in(session, units, but=occ.person_id)
    if actor.key in settings.access.admins:
        return people
    return [p for p in people if p.id == actor.id or tree.stands_above(actor.id or 0, p.id or 0)]


def _ask_reassign(
    session: Session,
    settings: Settings,
    tree: OrgTree,
    actor: Person,
    occ: Occurrence,
    now: datetime,
    params: dict[str, object],
) -> Outcome:
    lang = actor.language
    people = _candidates(session, settings, tree, actor, occ)
    if not people:
        return Outcome(texts.render(lang, "action.no_candidates"))
    replies.ask(  # a typed name or key answers it too
        session,
        PendingInput(
            person_id=actor.id or 0,
            occurrence_id=occ.id or 0,
            kind="reassign",
            created_at=now,
            expires_at=now + settings.replies.question_timeout,
        ),
    )
    text, markup = _page(lang, occ, people, 1, params)
    return Outcome(texts.render(lang, "action.tap_ask_reassign"), prompt=Prompt(text, markup))


def _turn_page(
    session: Session,
    settings: Settings,
    tree: OrgTree,
    actor: Person,
    occ: Occurrence,
    page: int,
    message_id: int | None,
    params: dict[str, object],
) -> Outcome:
    """Another page of the people to choose from, in place of the one shown."""
    lang = actor.language
    people = _candidates(session, settings, tree, actor, occ)
    if page_slice(len(people), page) is None:
        return Outcome(texts.render(lang, "action.page_invalid"))
    text, markup = _page(lang, occ, people, page, params)
    toast = texts.render(lang, "action.tap_page", page=page, pages=page_count(len(people)))
    if message_id is None or actor.telegram_user_id is None:
        return Outcome(toast, prompt=Prompt(text, markup))
    return Outcome(toast, [Edit(actor.telegram_user_id, message_id, text, markup)])


def _page(
    lang: str, occ: Occurrence, people: list[Person], page: int, params: dict[str, object]
) -> tuple[str, dict[str, object]]:
    """The question and one page of names, with buttons to the pages before and after."""
    total, pages = len(people), page_count(len(people))
    shown = page_slice(total, page) or slice(0, 0)
    rows = [[button(p.name, Pick(p.id or 0, occ.id or 0))] for p in people[shown]]
    lines = [texts.render(lang, "action.ask_reassign", **params)]
    if pages > 1:
        lines.append(
            texts.render(
                lang, "action.reassign_page", first=shown.start + 1, last=shown.stop,
                total=total, page=page, pages=pages,
            )
        )  # fmt: skip
        turn = [(page - 1, "action.page_previous"), (page + 1, "action.page_next")]
        rows.append(
            [
                button(texts.render(lang, label, page=n), Page(n, occ.id or 0))
                for n, label in turn
                if 1 <= n <= pages
            ]
        )
    return "\n".join(lines), {"inline_keyboard": rows}


def _forget_reassign_question(
    session: Session, actor: Person, occ: Occurrence, now: datetime
) -> None:
    question = replies.pending_input(session, actor.id or 0, now)
    if question is not None and question.kind == "reassign" and question.occurrence_id == occ.id:
        replies.forget_question(session, actor.id or 0)


def _reassign(
    session: Session,
    settings: Settings,
    actor: Person,
    occ: Occurrence,
    target: Person,
    now: datetime,
    params: dict[str, object],
) -> Outcome:
    """Close the item as reassigned and open it for ``target``: nudged now, due by the rule
    of ``models.reassign.reassigned_due``, with a fresh climb of the same policy."""
    due_at = reassigned_due(occ.due_at, occ.nudge_at, now)
    _save(occ, life.reassign(occ.life(), actor.id, target.id or 0, now))
    existing = occurrences.occurrence_of(session, occ.duty_id, target.id or 0, occ.day)
    highest = occurrences.highest_number(session, target.id or 0, occ.day)
    opened = life.reopen(
        existing.life() if existing else None, number=highest + 1, due_at=due_at,
        policy=occ.policy, urgent=occ.urgent, now=now,
    )  # fmt: skip
    if existing is None:
        existing = Occurrence(
            duty_id=occ.duty_id, person_id=target.id or 0, day=occ.day, created_at=now
        )
    if not isinstance(opened, Refused):  # else their own row, still open, carries it on
        existing.apply(opened)
        occurrences.save(session, existing)
    _audit(
        session, "occurrence.reassigned", occ, actor, now, to=target.key,
        due=existing.due_at.isoformat(),
    )  # fmt: skip
    tz = org.timezones(session, settings.plant.timezone)(actor.timezone, actor.unit_id)
    today = now.astimezone(ZoneInfo(tz)).date()
    due = due_label(actor.language, existing.due_at, today, tz)
    params = params | {"name": target.name, "due": due}
    return Outcome(
        texts.render(actor.language, "action.reassigned", **params),
        edits(session, settings, occ),
        recorded=True,
    )


def _resolve(
    session: Session,
    settings: Settings,
    actor: Person,
    occ: Occurrence,
    duty: Duty,
    person: Person,
    now: datetime,
    params: dict[str, object],
) -> Outcome:
    _audit(session, "block.resolved", occ, actor, now)
    told = {occ.person_id} | {
        n.recipient_id for n in escalation_store.notices_of(session, occ.id or 0)
    }
    told.discard(actor.id or 0)
    for who in org.people_by_ids(session, sorted(told)).values():
        notices.enqueue_text(
            session,
            who,
            "action.resolved_notice",
            now,
            f"resolved:{occ.id}:{who.id}",
            leader=actor.name,
            number=occ.number,
            title=duty.title,
            name=person.name,
        )
    return Outcome(
        texts.render(actor.language, "action.resolved", **params),
        edits(session, settings, occ),
        recorded=True,
    )
