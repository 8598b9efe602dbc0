"""Escalation policies, and the next step for one occurrence.

A policy (``[escalation.policies.<name>]`` in config.toml) names reminders to the person and
levels that climb the reporting line::

    [escalation]
    default_policy = "standard"        # must name one of the policies ("standard" is built in;
                                       # a table of that name replaces it)
    units = { furnace-team = "strict" }  # per unit (and its subtree); a duty's own wins
    group_window = "5m"                # "0s" = no grouping
    quiet_hours = "22:00-06:00"        # default per person; "" = none
    [escalation.policies.standard]
    reminders = ["-30m", "0m"]         # relative to the due instant; before the first level
    levels = [                         # at least one; "after" never decreases
      { after = "30m", notify = "next" },                 # the next superior in the chain
      { after = "4h", notify = "post:plant manager" },    # nearest holder walking up
      { after = "6h", notify = "people:m.keller,h.braun" },  # named people (person keys)
    ]
    repeat_every = "2h"                # optional, with repeat_max: repeat the last level
    repeat_max = 3
    ack_timeout = "2h"                 # default "2h"

Without ``policies`` one built-in "standard" policy applies (reminders -30m and 0m; "next"
after 30m, 2h and 4h). The n-th "next" level of a policy notifies the n-th link of the chain
(past the top: the top again), so a named level between two "next" levels skips nobody.

A policy is snapshotted onto an occurrence when it opens (``policy_to_json``), so editing the
config never changes escalations under way.

``next_step`` gives the one next thing to do for an occurrence and when; j = levels_done (level
steps already executed, repeats included):

- status "open": reminder i at due_at + reminders[i]; level j at due_at + after[j];
- status "blocked": level 0 at blocked_at (at once), level j >= 1 at blocked_at + after[j];
  ``on_blocked`` restarts the climb (levels_done = 0) because a block needs a decision;
- status "late" (the person promised new_due_at): nothing before new_due_at; level 0 at
  due_at + after[0], level j >= 1 at last_step_at + (after[j] - after[j-1]): it climbs from
  where it was, with the policy's gaps, and a promise never brings a step forward;
- repeats of the last level: last_step_at + repeat_every, at most repeat_max times;
- then an "end" step: last_step_at + repeat_every with repeats, else last_step_at (at once);
- an ack holds every level, repeat and end step until acked_at + ack_timeout (reason
  "ack_timeout" when the ack is what held it); executing the step clears the ack;
- reminders go only while "open", before any level step and without an ack. A reminder whose
  time passed while a later reminder or the first level is also due is skipped (after a
  downtime the person gets the latest reminder only, none once the item has escalated);
- a reminder never comes before the nudge: one timed at or before ``nudge_at`` is never sent
  (the nudge itself is the reminder), and one that comes due while the nudge has not gone out
  (``nudged`` false: not yet sent, or skipped after a downtime) is skipped, so a duty that was
  never nudged gets no reminder;
- levels, repeats and end are never skipped: after a downtime the overdue ones come one after
  another. ``apply_step`` records an executed step (last_step_at = when it was executed, so
  repeats after a downtime are spaced from then) and refuses a step twice.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import pairwise
from types import MappingProxyType
from typing import Literal

from models.durations import format_duration, parse_duration
from models.orgtree import Chain, OrgTree
from models.quiet import QuietHours, parse_quiet_hours
from models.status import FINISHED
from models.status import Status as OccurrenceStatus

Status = Literal[
    "open", "blocked", "late", "done", "excused", "absent", "cancelled", "resolved", "reassigned"
]
StepKind = Literal["remind", "escalate", "end"]
Reason = Literal["silence", "block", "ack_timeout", "missed_commitment"]
TargetKind = Literal["next", "post", "people"]

# ``Status`` names the values of ``models.status.Status`` (tests/core checks it); the set of
# statuses and which of them are finished are defined there.
STATUSES: tuple[str, ...] = tuple(OccurrenceStatus)
_REASONS: Mapping[str, Reason] = {
    "open": "silence",
    "blocked": "block",
    "late": "missed_commitment",
}
_TARGET_FORM = '"next", "post:<name>" or "people:<key>,<key>"'
_ZERO = re.compile(r"0+[dhms]?")
_BUILT_IN = {
    "standard": {
        "reminders": ["-30m", "0m"],
        "levels": [
            {"after": "30m", "notify": "next"},
            {"after": "2h", "notify": "next"},
            {"after": "4h", "notify": "next"},
        ],
    }
}


@dataclass(frozen=True, slots=True)
class Target:
    """Whom a level notifies. ``link`` (for "next"): which chain link, 0 = nearest."""

    kind: TargetKind
    post: str = ""
    keys: tuple[str, ...] = ()
    link: int = 0

    def __str__(self) -> str:
        if self.kind == "post":
            return f"post:{self.post}"
        if self.kind == "people":
            return "people:" + ",".join(self.keys)
        return "next"


@dataclass(frozen=True, slots=True)
class Level:
    after: timedelta
    notify: Target


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    reminders: tuple[timedelta, ...]
    levels: tuple[Level, ...]
    ack_timeout: timedelta
    repeat_every: timedelta | None = None
    repeat_max: int = 0

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError("levels: expected at least one level")
        for index, (lower, upper) in enumerate(pairwise(self.levels)):
            if upper.after < lower.after:
                raise ValueError(
                    f"levels[{index + 1}].after: expected no earlier than levels[{index}].after"
                    f" ({_write(lower.after)}), got {_write(upper.after)!r}"
                )
        if any(later <= earlier for earlier, later in pairwise(self.reminders)):
            raise ValueError("reminders: expected different offsets, got a repeated one")
        if self.reminders and self.reminders[-1] >= self.levels[0].after:
            raise ValueError(
                "reminders: expected offsets before the first level's after"
                f" ({_write(self.levels[0].after)}), got {_write(self.reminders[-1])!r}"
            )
        if self.ack_timeout <= timedelta(0):
            raise ValueError("ack_timeout: expected a duration longer than zero")
        if (self.repeat_every is None) != (self.repeat_max == 0):
            raise ValueError("repeat_every and repeat_max: expected both or neither")
        if self.repeat_max < 0 or (
            self.repeat_every is not None and self.repeat_every <= timedelta(0)
        ):
            raise ValueError("repeat_every and repeat_max: expected values above zero")


@dataclass(frozen=True, slots=True)
class EscalationSettings:
    policies: Mapping[str, Policy]
    default_policy: str
    group_window: timedelta  # zero: no grouping
    quiet_hours: QuietHours | None  # the default for people without their own
    unit_policies: Mapping[str, str] = field(default_factory=dict)  # unit key -> policy name

    def policy(self, name: str | None = None) -> Policy:
        """The named policy, or the default one for None."""
        chosen = self.default_policy if name is None else name
        if chosen not in self.policies:
            known = ", ".join(sorted(self.policies))
            raise ValueError(f"escalation policy: expected one of {known}, got {chosen!r}")
        return self.policies[chosen]


@dataclass(frozen=True, slots=True)
class EscalationState:
    """What the engine needs to know about one occurrence. Instants are aware."""

    due_at: datetime
    status: Status = "open"
    blocked_at: datetime | None = None  # set while "blocked"
    new_due_at: datetime | None = None  # the promised time, set while "late"
    reminders_sent: int = 0  # reminders sent or skipped
    levels_done: int = 0  # level steps executed, repeats included
    last_step_at: datetime | None = None  # when the last level step was executed
    acked_at: datetime | None = None
    acked_by: int | None = None
    ended: bool = False
    nudge_at: datetime | None = None  # when the duty's nudge is (was) due; None: no rule
    nudged: bool = True  # whether the nudge went out (False: not yet, or skipped)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status: expected one of {', '.join(STATUSES)}, got {self.status!r}")
        for name in ("due_at", "blocked_at", "new_due_at", "last_step_at", "acked_at", "nudge_at"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"{name}: expected an aware datetime, got {value!r}")
        if self.status == "blocked" and self.blocked_at is None:
            raise ValueError('blocked_at: expected an instant while status is "blocked"')
        if self.status == "late" and self.new_due_at is None:
            raise ValueError('new_due_at: expected an instant while status is "late"')
        if self.reminders_sent < 0 or self.levels_done < 0:
            raise ValueError("reminders_sent and levels_done: expected zero or more")
        if self.levels_done and self.last_step_at is None:
            raise ValueError("last_step_at: expected an instant once a level step was executed")
        if (self.acked_at is None) != (self.acked_by is None):
            raise ValueError("acked_at and acked_by: expected both or neither")


@dataclass(frozen=True, slots=True)
class Step:
    """The next thing to do for an occurrence; due once ``at <= now``.

    ``index``: the reminder's position for "remind", else the level step (levels_done).
    """

    kind: StepKind
    at: datetime
    index: int
    target: Target | None  # None for "remind" (the person) and "end"
    reason: Reason


# --- settings --------------------------------------------------------------------------------


def parse_policies(data: Mapping[str, object]) -> EscalationSettings:
    """Read the ``[escalation]`` table of config.toml (as a dict); ValueError names the key."""
    _only_keys(
        data, ("default_policy", "group_window", "quiet_hours", "policies", "units"), "escalation"
    )
    raw_policies = data.get("policies", {})
    if not isinstance(raw_policies, Mapping):
        raise ValueError(
            f"escalation.policies: expected a table of named policies, got {raw_policies!r}"
        )
    policies: dict[str, Policy] = {}
    # The built-in "standard" is always there; a policy of that name in the file replaces it.
    for name, body in {**_BUILT_IN, **raw_policies}.items():
        what = f"escalation.policies.{name}"
        if not isinstance(body, Mapping):
            raise ValueError(f"{what}: expected a table, got {body!r}")
        policies[name] = _policy(name, body, what)
    default = data.get("default_policy", "standard")
    if default not in policies:
        raise ValueError(
            f"escalation.default_policy: expected one of {', '.join(policies)}, got {default!r}"
        )
    window = _duration(data.get("group_window", "5m"), "escalation.group_window", zero=True)
    quiet = parse_quiet_hours(data.get("quiet_hours", "22:00-06:00"), "escalation.quiet_hours")
    units = data.get("units", {})
    if not isinstance(units, Mapping):
        raise ValueError(f"escalation.units: expected a table of unit = policy, got {units!r}")
    for unit, name in units.items():
        if name not in policies:
            raise ValueError(
                f"escalation.units.{unit}: expected one of {', '.join(policies)}, got {name!r}"
            )
    unit_policies = MappingProxyType({str(k): str(v) for k, v in units.items()})
    return EscalationSettings(
        MappingProxyType(policies), str(default), window, quiet, unit_policies
    )


def policy_to_json(policy: Policy) -> dict[str, object]:
    """The policy as JSON-ready primitives, in the config's own form plus its name."""
    data: dict[str, object] = {
        "name": policy.name,
        "reminders": [_write(offset) for offset in policy.reminders],
        "levels": [
            {"after": _write(lvl.after), "notify": str(lvl.notify)} for lvl in policy.levels
        ],
        "ack_timeout": _write(policy.ack_timeout),
    }
    if policy.repeat_every is not None:
        data["repeat_every"] = _write(policy.repeat_every)
        data["repeat_max"] = policy.repeat_max
    return data


def policy_from_json(data: Mapping[str, object]) -> Policy:
    """The policy ``policy_to_json`` wrote."""
    name = data.get("name")
    if not isinstance(name, str):
        raise ValueError(f"policy.name: expected text, got {name!r}")
    return _policy(name, {k: v for k, v in data.items() if k != "name"}, "policy")


def _policy(name: str, data: Mapping[str, object], what: str) -> Policy:
    _only_keys(data, ("reminders", "levels", "repeat_every", "repeat_max", "ack_timeout"), what)
    reminders = [
        _duration(value, f"{what}.reminders[{i}]", signed=True, zero=True)
        for i, value in enumerate(_list(data.get("reminders", []), f"{what}.reminders"))
    ]
    levels: list[Level] = []
    for i, raw in enumerate(_list(data.get("levels"), f"{what}.levels")):
        where = f"{what}.levels[{i}]"
        if not isinstance(raw, Mapping):
            raise ValueError(f'{where}: expected a table like {{ after = "30m", notify = "next" }}')
        _only_keys(raw, ("after", "notify"), where)
        after = _duration(raw.get("after"), f"{where}.after", zero=True)
        nexts = sum(level.notify.kind == "next" for level in levels)
        levels.append(Level(after, _target(raw.get("notify"), nexts, f"{where}.notify")))
    ack_timeout = _duration(data.get("ack_timeout", "2h"), f"{what}.ack_timeout")
    repeat_every = data.get("repeat_every")
    every = None if repeat_every is None else _duration(repeat_every, f"{what}.repeat_every")
    repeat_max = data.get("repeat_max", 0)
    if not isinstance(repeat_max, int) or isinstance(repeat_max, bool):
        raise ValueError(f"{what}.repeat_max: expected a whole number, got {repeat_max!r}")
    try:
        return Policy(name, tuple(sorted(reminders)), tuple(levels), ack_timeout, every, repeat_max)
    except ValueError as err:
        raise ValueError(f"{what}.{err}") from None


def _target(value: object, link: int, what: str) -> Target:
    text = value.strip() if isinstance(value, str) else ""
    kind, _, rest = text.partition(":")
    rest = rest.strip()
    if text == "next":
        return Target("next", link=link)
    if kind == "post" and rest:
        return Target("post", post=rest)
    keys = tuple(key.strip() for key in rest.split(","))
    if kind == "people" and all(keys):
        return Target("people", keys=keys)
    raise ValueError(f"{what}: expected {_TARGET_FORM}, got {value!r}")


def _duration(value: object, what: str, *, signed: bool = False, zero: bool = False) -> timedelta:
    """A duration as config writes it: "90s", "15m", "1h30m"; "-30m" if ``signed``; "0m" if
    ``zero``."""
    text = value.strip().lower() if isinstance(value, str) else ""
    sign = -1 if signed and text.startswith("-") else 1
    body = text[1:] if signed and text[:1] in ("-", "+") else text
    if zero and _ZERO.fullmatch(body):
        return timedelta(0)
    if signed:
        form = "an offset like '-30m', '0m' or '1h'"
    elif zero:
        form = "a duration like '30m' or '1h30m', or '0m'"
    else:
        form = "a duration like '30m' or '1h30m'"
    try:
        return sign * parse_duration(body)
    except ValueError:
        raise ValueError(f"{what}: expected {form}, got {value!r}") from None


def _write(duration: timedelta) -> str:
    if not duration:
        return "0s"
    if duration < timedelta(0):
        return "-" + format_duration(-duration)
    return format_duration(duration)


def _list(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise ValueError(f"{what}: expected a list, got {value!r}")
    return value


def _only_keys(data: Mapping[str, object], allowed: tuple[str, ...], what: str) -> None:
    for key in data:
        if key not in allowed:
            raise ValueError(f"{what}: unknown key {key!r} (expected {', '.join(allowed)})")


# --- the engine ------------------------------------------------------------------------------


def next_step(state: EscalationState, policy: Policy, now: datetime) -> Step | None:
    """The single next step for the occurrence, due or not; None when nothing more will
    happen (done, excused, absent, cancelled or ended)."""
    if state.ended or state.status in FINISHED:
        return None
    climb = _climb(state, policy)
    if state.status == "open" and state.levels_done == 0 and state.acked_at is None:
        reminder = _reminder(state, policy, now, climb.at)
        if reminder is not None:
            return reminder
    return climb


def apply_step(state: EscalationState, step: Step, now: datetime) -> EscalationState:
    """The state after ``step`` was executed at ``now``. ValueError for a step that is not due
    or does not follow the state (executed already, or out of order)."""
    if step.at > now:
        raise ValueError(f"step: not due until {step.at.isoformat()}")
    if state.ended or state.status in FINISHED:
        raise ValueError("step: nothing more happens for this occurrence")
    if step.kind == "remind":
        if state.levels_done or step.index < state.reminders_sent:
            raise ValueError(f"step: reminder {step.index} was sent or skipped already")
        return replace(state, reminders_sent=step.index + 1)
    if step.index != state.levels_done:
        raise ValueError(f"step: expected level step {state.levels_done}, got {step.index}")
    if step.kind == "escalate":
        return replace(
            state, levels_done=step.index + 1, last_step_at=now, acked_at=None, acked_by=None
        )
    return replace(state, ended=True, acked_at=None, acked_by=None)


def on_blocked(state: EscalationState, at: datetime) -> EscalationState:
    """The person reported a block at ``at``: a fresh climb from level 1, at once."""
    return replace(
        state,
        status="blocked",
        blocked_at=at,
        new_due_at=None,
        levels_done=0,
        last_step_at=None,
        acked_at=None,
        acked_by=None,
        ended=False,
    )


def on_later(state: EscalationState, new_due_at: datetime) -> EscalationState:
    """The person promised ``new_due_at``: the climb waits for it, then goes on."""
    return replace(state, status="late", new_due_at=new_due_at)


def on_acked(state: EscalationState, by: int, at: datetime) -> EscalationState:
    """Somebody said "I'll handle it" at ``at``: the climb holds for the policy's ack_timeout."""
    return replace(state, acked_at=at, acked_by=by)


def resolve_target(
    target: Target,
    chain: Chain,
    tree: OrgTree,
    person_id: int,
    absent: frozenset[int] = frozenset(),
) -> list[int]:
    """Person ids to notify for a level of ``person_id``'s occurrence.

    "next": the target's chain link (past the top: the top). "post:<name>": the nearest present
    holder walking up from the person's unit. "people:<keys>": those people, leaving out unknown
    keys, inactive or absent people and the person themselves. Empty when nobody fits.
    """
    if target.kind == "next":
        if not chain.links:
            return []
        return [chain.links[min(target.link, len(chain.links) - 1)].person_id]
    if target.kind == "post":
        holder = tree.nearest_holder_up(person_id, target.post, absent)
        return [] if holder is None else [holder]
    found: list[int] = []
    for key in target.keys:
        candidate = tree.person_id(key)
        if (
            candidate is not None
            and candidate != person_id
            and candidate not in absent
            and candidate not in found
            and tree.person(candidate).active
        ):
            found.append(candidate)
    return found


def _climb(state: EscalationState, policy: Policy) -> Step:
    """The next level, repeat or end step (timing rules in the module docstring)."""
    levels = policy.levels
    j = state.levels_done
    repeats = policy.repeat_max if policy.repeat_every is not None else 0
    gap = policy.repeat_every or timedelta(0)
    kind: StepKind = "escalate"
    target: Target | None = levels[min(j, len(levels) - 1)].notify
    if j >= len(levels) + repeats:
        kind, target = "end", None
        at = _since_last(state, gap)
    elif j >= len(levels):
        at = _since_last(state, gap)
    elif state.status == "blocked":
        assert state.blocked_at is not None  # checked by EscalationState
        at = state.blocked_at if j == 0 else state.blocked_at + levels[j].after
    elif state.status == "late" and j > 0:
        at = _since_last(state, levels[j].after - levels[j - 1].after)
    else:
        at = state.due_at + levels[j].after
    if state.status == "late":
        assert state.new_due_at is not None  # checked by EscalationState
        at = max(at, state.new_due_at)
    reason = _REASONS[state.status]
    if state.acked_at is not None and state.acked_at + policy.ack_timeout >= at:
        at, reason = state.acked_at + policy.ack_timeout, "ack_timeout"
    return Step(kind, at, j, target, reason)


def _reminder(
    state: EscalationState, policy: Policy, now: datetime, climb_at: datetime
) -> Step | None:
    """The reminder to send next, if any: the latest one due (once the nudge went out), or
    else the next to come; never one timed at or before the nudge."""
    if climb_at <= now:
        return None
    pending = [
        (index, state.due_at + offset)
        for index, offset in enumerate(policy.reminders)
        if index >= state.reminders_sent and _after_nudge(state, offset)
    ]
    due = [entry for entry in pending if entry[1] <= now]
    if due and state.nudged:
        index, at = due[-1]
        return Step("remind", at, index, None, "silence")
    coming = [entry for entry in pending if entry[1] > now]
    if not coming:
        return None
    index, at = coming[0]
    return Step("remind", at, index, None, "silence")


def _after_nudge(state: EscalationState, offset: timedelta) -> bool:
    """Whether a reminder at ``offset`` from the due time comes after the nudge."""
    return state.nudge_at is None or state.due_at + offset > state.nudge_at


def _since_last(state: EscalationState, gap: timedelta) -> datetime:
    assert state.last_step_at is not None  # levels_done > 0, checked by EscalationState
    return state.last_step_at + gap
