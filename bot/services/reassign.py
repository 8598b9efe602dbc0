"""A leader's "Reassign": the people they may give the item to (a page of buttons, or a typed
name or key), and the item closed as reassigned and opened for the one chosen. A person or
page that is not on the actor's list is refused."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.config import Settings
from bot.delivery.outcomes import Edit, Outcome, Prompt
from bot.render import texts
from bot.render.messages import due_label
from bot.render.notices import reassign_page
from bot.services import notices
from bot.services.leader_item import ask as ask_question
from bot.services.leader_item import audit, item_params, load, save, steps_due
from bot.store import occurrences, org, replies
from models import occurrence as life
from models.occurrence import Refused
from models.orgtree import OrgTree
from models.reassign import Candidate, choose, page_count, page_slice, reassigned_due
from models.tables import Occurrence, PendingInput, Person

ECHOED = 60  # characters of a typed name repeated in an answer


def ask(
    session: Session,
    settings: Settings,
    tree: OrgTree,
    actor: Person,
    occ: Occurrence,
    now: datetime,
    params: dict[str, object],
) -> Outcome:
    """The button: ask whom, with the first page of people (a typed name or key answers too)."""
    lang = actor.language
    people = candidates(session, settings, tree, actor, occ)
    if not people:
        return Outcome(texts.render(lang, "action.no_candidates"))
    ask_question(session, settings, actor, occ, "reassign", now)
    text, markup = reassign_page(lang, occ, people, 1, params)
    return Outcome(texts.render(lang, "action.tap_ask_reassign"), prompt=Prompt(text, markup))


def turn_page(
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
    people = candidates(session, settings, tree, actor, occ)
    if page_slice(len(people), page) is None:
        return Outcome(texts.render(lang, "action.page_invalid"))
    text, markup = reassign_page(lang, occ, people, page, params)
    toast = texts.render(lang, "action.tap_page", page=page, pages=page_count(len(people)))
    if message_id is None or actor.telegram_user_id is None:
        return Outcome(toast, prompt=Prompt(text, markup))
    return Outcome(toast, [Edit(actor.telegram_user_id, message_id, text, markup)])


def pick(
    session: Session,
    settings: Settings,
    tree: OrgTree,
    actor: Person,
    occ: Occurrence,
    person_id: int,
    now: datetime,
    params: dict[str, object],
) -> Outcome:
    """A person's button on the page: the item goes to them, if they are on the list."""
    people = candidates(session, settings, tree, actor, occ)
    target = next((p for p in people if p.id == person_id), None)
    if target is None:
        return Outcome(texts.render(actor.language, "action.not_a_candidate"))
    question = replies.pending_input(session, actor.id or 0, now)
    if question is not None and question.kind == "reassign" and question.occurrence_id == occ.id:
        replies.forget_question(session, actor.id or 0)
    return _reassign(session, settings, actor, occ, target, now, params)


def typed(
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
    loaded = load(session, settings, actor, question.occurrence_id)
    if isinstance(loaded, Outcome):
        replies.forget_question(session, actor.id or 0)
        return loaded
    occ, duty, person, tree = loaded
    people = candidates(session, settings, tree, actor, occ)
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
    return _reassign(session, settings, actor, occ, target, now, item_params(occ, duty, person))


def candidates(
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
    save(occ, life.reassign(occ.life(), actor.id, target.id or 0, now))
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
    audit(
        session, "occurrence.reassigned", occ, actor, now, to=target.key,
        due=existing.due_at.isoformat(),
    )  # fmt: skip
    tz = org.timezones(session, settings.plant.timezone)(actor.timezone, actor.unit_id)
    today = now.astimezone(ZoneInfo(tz)).date()
    due = due_label(actor.language, existing.due_at, today, tz)
    params = params | {"name": target.name, "due": due}
    return Outcome(
        texts.render(actor.language, "action.reassigned", **params),
        notices.edits(session, settings, occ),
        recorded=True,
        wake_escalation=steps_due(now, occ, existing),
    )
