"""The item a leader acts on from an escalation message, shared by ``bot.services.actions``
and ``bot.services.reassign``: loaded under its row's lock, checked against who may act,
its new state saved, the action audited."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.config import Settings
from bot.delivery.outcomes import Outcome
from bot.render import texts
from bot.store import audit as audit_store
from bot.store import escalation as escalation_store
from bot.store import occurrences, org
from bot.store import replies as replies_store
from models import occurrence as life
from models.occurrence import OccurrenceState, Refused
from models.orgtree import OrgTree
from models.tables import Duty, Occurrence, PendingInput, Person

Loaded = tuple[Occurrence, Duty, Person, OrgTree]  # the item, its duty, its person, the tree


def load(
    session: Session, settings: Settings, actor: Person, occurrence_id: int
) -> Loaded | Outcome:
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
    if not may_act(session, settings, tree, actor, occ):
        return Outcome(texts.render(lang, "action.not_allowed", name=person.name))
    if occ.status in life.FINISHED:
        status = texts.render(lang, f"status.{occ.status}", time="")
        return Outcome(texts.render(lang, "action.finished", status=status))
    return occ, duty, person, tree


def may_act(
    session: Session, settings: Settings, tree: OrgTree, actor: Person, occ: Occurrence
) -> bool:
    """Admins, the people above the item's person (a deputy never on their leader's own
    items), and the people a policy named (notified, not merely reminded)."""
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


def save(occ: Occurrence, new: OccurrenceState | Refused) -> None:
    """Copy a transition's new state onto the row. ``load`` refused a finished item, under
    the row's lock, so no transition here can refuse it."""
    assert not isinstance(new, Refused), new
    occ.apply(new)


def steps_due(now: datetime, *occs: Occurrence) -> bool:
    """Whether any of these items has an escalation step due by ``now`` after the action
    (``Outcome.wake_escalation``: the pass should run now, not at its next tick)."""
    return any(life.step_due(occ.life(), now) for occ in occs)


def audit(
    session: Session, kind: str, occ: Occurrence, actor: Person, now: datetime, **data: object
) -> None:
    audit_store.record(
        session, kind, now, subject=f"occurrence:{occ.id}", actor=actor, data=dict(data)
    )


def item_params(occ: Occurrence, duty: Duty, person: Person) -> dict[str, object]:
    """The placeholders every answer about the item fills."""
    return {"number": occ.number, "title": duty.title, "name": person.name}


def ask(
    session: Session, settings: Settings, actor: Person, occ: Occurrence, kind: str, now: datetime
) -> None:
    """Ask the leader a question about the item ("excuse": the reason, "reassign": whom);
    the next text they type answers it (``bot.services.questions``)."""
    replies_store.ask(
        session,
        PendingInput(
            person_id=actor.id or 0,
            occurrence_id=occ.id or 0,
            kind=kind,
            created_at=now,
            expires_at=now + settings.replies.question_timeout,
        ),
    )
