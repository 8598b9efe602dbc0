"""Nudge pass: queue the nudges that are due, one message per person and nudge time.

Gather the occurrences whose nudge time has come, decide with ``models.nudging`` (on time,
late, skipped, nobody to send to), apply: outbox rows and nudge states in one transaction.
The sender delivers after the commit. The outbox's dedupe key (person, exact nudge instant, part)
and the conditional state update make a rerun, or two instances, queue each nudge once.

A person whose nudge cannot be written (a time zone that cannot be read, say) keeps their
occurrences pending and is reported once (``bot.services.problems``); everybody else is nudged.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.render.messages import NudgeLine, nudge_messages
from bot.services import problems
from bot.store import audit, org, outbox, planning
from bot.store.engine import session_scope
from models.calendar import zone
from models.nudging import Verdict, decide

log = logging.getLogger(__name__)
BATCH = 5000


@dataclass(frozen=True, slots=True)
class NudgeResult:
    messages: int
    states: dict[str, int]


def queue_due(engine: Engine, settings: Settings, now: datetime) -> NudgeResult:
    """Queue every nudge due by ``now``; returns how many messages were stored."""
    total, states = 0, Counter[str]()
    while True:
        queued, counted, full = _queue_batch(engine, settings, now)
        total += queued
        states.update(counted)
        if not full:
            return NudgeResult(total, dict(states))


def _queue_batch(
    engine: Engine, settings: Settings, now: datetime
) -> tuple[int, Counter[str], bool]:
    with session_scope(engine) as session:
        rows = planning.due_nudges(session, now, BATCH)
        if not rows:
            return 0, Counter(), False
        by_id = {row.item.occurrence_id: row for row in rows}
        decisions = decide((row.item for row in rows), now, settings.nudges.late_after)
        timezone_of = org.timezones(session, settings.plant.timezone)
        messages: list[dict[str, object]] = []
        members: dict[str, tuple[list[int], str]] = {}  # dedupe key -> occurrences, state
        failed: list[problems.Problem] = []
        for group in decisions.groups:
            first = by_id[group.items[0].occurrence_id]
            try:
                tz = zone(timezone_of(first.timezone, first.unit_id)).key  # as planning reads it
                lines = [
                    NudgeLine(
                        occurrence_id=item.occurrence_id,
                        number=item.number,
                        title=by_id[item.occurrence_id].duty_title,
                        details=by_id[item.occurrence_id].duty_details,
                        due_at=item.due_at,
                    )
                    for item in group.items
                ]
                rendered = nudge_messages(
                    first.language, first.person_name, group.nudge_at, tz, lines, late=group.late
                )
            except Exception as error:  # one person's nudge never stops the others'
                failed.append(problems.problem("nudge", f"person {first.person_key}", error))
                for item in group.items:  # left pending, not recorded as sent
                    del decisions.states[item.occurrence_id]
                continue
            # The exact nudge instant (microseconds): two nudges of one person in one minute
            # (a reassigned item next to their own nudge) are two messages, not one key.
            stamp = round(group.nudge_at.timestamp() * 1_000_000)
            sent_as = Verdict.SEND_LATE if group.late else Verdict.SEND
            for part, message in enumerate(rendered):
                key = f"nudge:{group.person_id}:{stamp}:{part}"
                members[key] = (list(message.occurrence_ids), sent_as.value)
                messages.append(
                    {
                        "created_at": now,
                        "chat_id": group.chat_id,
                        "person_id": group.person_id,
                        "kind": "nudge",
                        "dedupe_key": key,
                        "payload": {
                            "method": "sendMessage",
                            "text": message.text,
                            "reply_markup": message.reply_markup,
                            "late": group.late,
                            "part": part,
                        },
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "stale_at": max(item.due_at for item in group.items),
                    }
                )
        # One INSERT for every message (a dedupe key stored before is skipped), one UPDATE for
        # every occurrence: a wave of thousands is a few statements, not thousands.
        stored = outbox.enqueue_many(session, messages)
        states: list[tuple[int, str, int | None]] = []
        for key, outbox_id in stored.items():
            occurrence_ids, state = members[key]
            states.extend((occurrence_id, state, outbox_id) for occurrence_id in occurrence_ids)
        planning.set_nudge_states(session, states)
        queued = len(stored)
        by_state: dict[str, list[int]] = {}
        for occurrence_id, verdict in decisions.states.items():
            by_state.setdefault(verdict.value, []).append(occurrence_id)
        for state, ids in by_state.items():
            planning.set_nudge_state(session, ids, state)  # only rows still pending change
        skipped = by_state.get(Verdict.SKIP.value, [])
        if skipped:
            audit.record(session, "nudge.skipped", now, data={"occurrences": skipped})
        counted = Counter({state: len(ids) for state, ids in by_state.items()})
        problems.report(session, settings, failed, now)
        # a batch that only met failing rows would read the same rows again: stop there
        return queued, counted, len(rows) == BATCH and len(decisions.states) > 0
