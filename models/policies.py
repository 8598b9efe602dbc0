"""Escalation policies: the ``[escalation]`` table of config.toml and its snapshots.

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

What a policy makes happen to one occurrence: ``models.escalation``.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from itertools import pairwise
from types import MappingProxyType
from typing import Literal

from models.durations import format_duration, parse_duration
from models.quiet import QuietHours, parse_quiet_hours

TargetKind = Literal["next", "post", "people"]

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
    """The policy ``policy_to_json`` wrote. Every occurrence carries its snapshot and every
    answer reads it, while a plant has a handful of policies: each is parsed once (a
    ``Policy`` is immutable), keyed by its JSON text."""
    try:
        key = json.dumps(data, sort_keys=True)
    except (TypeError, ValueError):  # not JSON at all: parsed (and refused) as it is
        return _policy_from_json(data)
    try:
        return _parsed_policy(key)
    except ValueError:  # refused: say why as the data reads, not as its sorted copy
        return _policy_from_json(data)


@lru_cache(maxsize=256)
def _parsed_policy(key: str) -> Policy:
    return _policy_from_json(json.loads(key))


def _policy_from_json(data: Mapping[str, object]) -> Policy:
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
