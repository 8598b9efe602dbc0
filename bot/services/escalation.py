"""Escalation pass: silence and blocks climb the org tree until somebody owns them.

Every due time lives on the occurrence (``next_step_at``), so the pass reads only what is due,
and a restart neither repeats nor skips a step: each executed step is written with the
occurrence's new state in the same transaction, and a notice is unique per (occurrence,
recipient, step). Deciding is pure (``models.escalation``, ``models.orgtree``,
``models.quiet``, ``models.grouping``); this module gathers and applies. An occurrence whose
steps cannot be decided (a corrupt policy snapshot, a person missing from the tree) is left as
it is and reported once (``bot.services.problems``); the pass goes on with the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.render import texts
from bot.render.notices import NOTE_LIMIT
from bot.render.reasons import reason_text
from bot.services import notices, problems
from bot.store import absences, audit, escalation, occurrences, org, replies
from bot.store.engine import session_scope
from models.escalation import EscalationState, Step, apply_step, next_step, resolve_target
from models.grouping import REPEAT_GAP, PendingNotice, SentNotice, due_sends, told_since
from models.occurrence import escalation_state, with_escalation
from models.policies import Policy, policy_from_json, policy_to_json
from models.quiet import deliver_at, parse_quiet_hours
from models.tables import Notice, Occurrence, Person
from models.text_limits import cut

log = logging.getLogger(__name__)
BATCH = 2000


# --- one occurrence's state --------------------------------------------------------------------


def state_of(occ: Occurrence) -> EscalationState:
    """The occurrence as the engine sees it. ValueError for a status no release writes (the
    pass reports it once and leaves the item as it is; it is never taken for finished)."""
    return escalation_state(occ.life())


def write_state(occ: Occurrence, state: EscalationState, now: datetime) -> None:
    """Copy the state onto the row and schedule its next step."""
    occ.apply(with_escalation(occ.life(), state, now))


def policy_for(settings: Settings, duty_policy: str | None, unit_keys: list[str]) -> dict[str, Any]:
    """The policy snapshot for a new occurrence: the duty's, else the nearest unit's, else
    the default."""
    esc = settings.escalation
    name = duty_policy if duty_policy in esc.policies else None
    if name is None:
        name = next((esc.unit_policies[k] for k in unit_keys if k in esc.unit_policies), None)
    return policy_to_json(esc.policy(name))


def first_step_at(
    policy: dict[str, Any] | Policy, due_at: datetime, status: str, now: datetime
) -> datetime | None:
    """When a new occurrence's climb first needs the pass (None for one that never climbs).
    Pass a parsed ``Policy`` when planning many occurrences with the same one."""
    if status != "open":
        return None
    parsed = policy if isinstance(policy, Policy) else policy_from_json(policy)
    step = next_step(EscalationState(due_at=due_at), parsed, now)
    return step.at if step else None


def note_added(session: Session, occ: Occurrence, now: datetime) -> int:
    """A block's note arrived: every leader already sent a message about the block gets the
    note once, in a message of its own (leaders told later see it in their message). Returns
    how many are told."""
    reply = replies.last_reply(session, occ.id or 0)
    duty = occurrences.duty_by_id(session, occ.duty_id)
    person = org.person_by_id(session, occ.person_id)
    if reply is None or not reply.text or occ.blocked_at is None or not duty or not person:
        return 0
    sent = [
        SentNotice(n.recipient_id, n.kind, n.state == "queued", n.created_at)
        for n in escalation.notices_of(session, occ.id or 0)
    ]
    leaders = org.people_by_ids(session, told_since(sent, occ.blocked_at))
    category = reply.category or "other"
    for leader in leaders.values():
        notices.enqueue_text(
            session, leader, "escalation.note_added", now, f"note:{reply.id}:{leader.id}",
            name=person.name, number=occ.number, title=duty.title,
            category=texts.render(leader.language, f"reply.category_{category}"),
            note=cut(reply.text, NOTE_LIMIT),
        )  # fmt: skip
    return len(leaders)


# --- the pass ----------------------------------------------------------------------------------


@dataclass(slots=True)
class PassResult:
    steps: int = 0
    messages: int = 0
    vacancies: list[str] = field(default_factory=list)


class _World:
    """The org as the engine sees it today, loaded once per pass that has work."""

    def __init__(self, session: Session, settings: Settings, now: datetime) -> None:
        self.tree = org.tree(session)
        plant_day = now.astimezone(ZoneInfo(settings.plant.timezone)).date()
        self.absent = absences.absent_on(session, plant_day)
        self.day = plant_day
        self.unit_key = {unit.id: unit.key for unit in self.tree.units()}
        self.timezone_of = org.timezones(session, settings.plant.timezone)
        self.admins = [p.id or 0 for p in org.people_by_keys(session, list(settings.access.admins))]
        self.outgoing: list[tuple[Notice, datetime]] = []  # notices of the pass, step time
        self.problems: list[problems.Problem] = []  # items left out, reported once


def _add_notices(session: Session, settings: Settings, world: _World) -> None:
    """Store the pass's notices, each with its delivery time (after the recipient's quiet
    hours), unless its step already notified that recipient (a rerun). A few queries for the
    whole pass, not a few per item."""
    occurrence_ids = sorted({n.occurrence_id for n, _ in world.outgoing})
    person_ids = sorted({n.recipient_id for n, _ in world.outgoing})
    people = org.people_by_ids(session, person_ids)
    done = escalation.notice_keys(session, occurrence_ids)
    for notice, at in world.outgoing:
        person = people.get(notice.recipient_id)
        key = (notice.occurrence_id, notice.recipient_id, notice.step)
        if person is None or key in done:
            continue
        done.add(key)
        try:
            notice.deliver_at = _deliver_at(settings, world, person, at, notice.urgent)
        except Exception as error:  # unreadable time zone or quiet hours: sent without them
            notice.deliver_at = at
            world.problems.append(problems.problem("escalation", f"person {person.key}", error))
        escalation.save_notices(session, [notice])


def advance(engine: Engine, settings: Settings, now: datetime) -> PassResult:
    """Run every escalation step due by ``now``, then send the notices that are due."""
    result = PassResult()
    with session_scope(engine) as session:
        due = escalation.due_escalations(session, now, BATCH)
        world = _World(session, settings, now) if due else None
        # Written in bulk at commit, not flushed row by row before each query: no query of
        # the pass depends on the rows it writes (a notice's step is unique per occurrence).
        with session.no_autoflush:
            for occ in due:
                assert world is not None
                queued = len(world.outgoing)
                try:
                    result.steps += _advance_one(session, settings, world, occ, now, result)
                except Exception as error:  # one bad occurrence never stops the others
                    del world.outgoing[queued:]
                    item = f"occurrence {occ.id}"
                    world.problems.append(problems.problem("escalation", item, error))
            if world is not None:
                _add_notices(session, settings, world)
                problems.report(session, settings, world.problems, now)
    result.messages = dispatch(engine, settings, now)
    return result


def _advance_one(
    session: Session,
    settings: Settings,
    world: _World,
    occ: Occurrence,
    now: datetime,
    result: PassResult,
) -> int:
    if not occ.policy:
        occ.next_step_at = None
        return 0
    # Decide every step first (what can fail on a bad row fails here, before anything is
    # written), then execute them.
    policy = policy_from_json(occ.policy)
    state = state_of(occ)
    steps: list[Step] = []
    while (step := next_step(state, policy, now)) is not None and step.at <= now:
        steps.append(step)
        state = apply_step(state, step, now)
    if any(step.kind == "escalate" for step in steps):
        world.tree.chain(occ.person_id, world.absent)  # memoised: _execute reuses it
    for step in steps:
        _execute(session, settings, world, occ, policy, step, now, result)
    write_state(occ, state, now)
    occurrences.save(session, occ)
    return len(steps)


def _execute(
    session: Session,
    settings: Settings,
    world: _World,
    occ: Occurrence,
    policy: Policy,
    step: Step,
    now: datetime,
    result: PassResult,
) -> None:
    data: dict[str, Any] = {"kind": step.kind, "index": step.index, "reason": step.reason}
    if step.kind == "remind":
        recipients = [occ.person_id]
        kind, label = "remind", f"r{step.index}"
    elif step.kind == "escalate":
        assert step.target is not None
        chain = world.tree.chain(occ.person_id, world.absent)
        for vacancy in chain.vacancies:
            unit = world.unit_key.get(vacancy.unit_id, str(vacancy.unit_id))
            if audit.first_report(session, "vacancy", unit, world.day.isoformat(), now):
                result.vacancies.append(unit)
                _report_vacancy(session, settings, unit, vacancy.reason, world.day, now)
        recipients = resolve_target(step.target, chain, world.tree, occ.person_id, world.absent)
        if not recipients:
            recipients = list(world.admins)
            data["fallback"] = "admins"
        kind = "block" if step.reason == "block" else "escalate"
        label = f"l{step.index}"
        data["to"] = recipients
    else:
        audit.record(session, "escalation.ended", now, subject=f"occurrence:{occ.id}", data=data)
        return
    for recipient in recipients:  # stored by _add_notices, for the whole pass at once
        notice = Notice(
            occurrence_id=occ.id or 0,
            recipient_id=recipient,
            step=step_label(label, step),
            kind=kind,
            reason=step.reason,
            urgent=occ.urgent,
            created_at=now,
        )
        world.outgoing.append((notice, step.at))
    audit.record(session, "escalation.step", now, subject=f"occurrence:{occ.id}", data=data)


def step_label(label: str, step: Step) -> str:
    """A notice's step: its level (or reminder) and the instant that step came due. A climb
    that starts again (a block, a reassign) counts its levels from 0 again, and a late promise
    continues a climb: the instant keeps their notices apart, while a pass that runs the same
    step again (after a crash) finds the same label and stores nothing twice."""
    return f"{label}@{int(step.at.timestamp())}"


def _deliver_at(
    settings: Settings, world: _World, person: Person, at: datetime, urgent: bool
) -> datetime:
    """When the notice may reach the person: after their quiet hours, unless urgent."""
    quiet = settings.escalation.quiet_hours
    if person.quiet_hours is not None:
        quiet = parse_quiet_hours(person.quiet_hours)
    return deliver_at(at, quiet, world.timezone_of(person.timezone, person.unit_id), urgent)


def _report_vacancy(
    session: Session, settings: Settings, unit: str, reason: str, day: date, now: datetime
) -> None:
    """Once per plant day (``day``, as the Report row): the UTC date of ``now`` may still be
    the day before, and would make the message's dedupe key clash with yesterday's."""
    audit.record(session, "vacancy.reported", now, subject=f"unit:{unit}", data={"reason": reason})
    for admin in org.people_by_keys(session, list(settings.access.admins)):
        notices.enqueue_text(
            session,
            admin,
            "escalation.vacancy",
            now,
            f"vacancy:{unit}:{day.isoformat()}:{admin.id}",
            unit=unit,
            reason=reason_text(admin.language, reason),
        )


# --- sending ------------------------------------------------------------------------------------


def dispatch(engine: Engine, settings: Settings, now: datetime) -> int:
    """Group due notices per recipient and queue one message per group."""
    with session_scope(engine) as session:
        pending = escalation.pending_notices(session)
        if not pending:
            return 0
        by_id = {n.id or 0: n for n in pending}
        window = settings.escalation.group_window
        gap = max(window, REPEAT_GAP)  # only a notice due within a gap from now can be held
        soon = sorted({n.occurrence_id for n in pending if n.deliver_at <= now + gap})
        told = escalation.last_told(session, soon, now - gap)
        sends = due_sends(
            (
                PendingNotice(
                    n.recipient_id, n.id or 0, n.deliver_at, n.urgent,
                    block=n.kind == "block", subject=n.occurrence_id,
                )
                for n in pending
            ),
            window,
            now,
            told,
        )  # fmt: skip
        keep = notices.prefetch(session, [by_id[i] for send in sends for i in send.item_ids])
        messages, failed = [], []
        for send in sends:
            group = [by_id[i] for i in send.item_ids]
            try:
                messages.extend(notices.queue_group(session, settings, group, now))
            except Exception as error:  # one recipient's message never stops the others'
                person = org.person_by_id(session, send.recipient_id)
                item = f"person {person.key if person else send.recipient_id}"
                failed.append(problems.problem("escalation", item, error))
        del keep
        problems.report(session, settings, failed, now)
        return notices.store_messages(session, messages)
