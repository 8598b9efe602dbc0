"""The one org every adapter test uses, its Telegram ids and its config.

A workshop (Walter Head, also the admin) over a team (Tina Lead) with four workers. Willy and
Wanda have one duty each, due twenty minutes after their 07:00 nudge, so a silent one climbs to
Tina after the policy's five minutes; Walt has four (one needs a photo) for the reply tests;
Victor has none of his own (he takes reassigned work); Gus has a Telegram account the sandbox
does not know (his nudge is given up: "chat not found").
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.adapters.harness import Harness

START = datetime.fromisoformat("2026-11-17T07:00:00+01:00")  # a Tuesday, the nudge time

WH, TL, W1, W2, W3, WALT, GHOST = 101, 102, 103, 104, 105, 106, 199
CHATS = {"wh": WH, "tl": TL, "w1": W1, "w2": W2, "w3": W3, "walt": WALT}

CONFIG = """
[access]
admins = ["wh"]
[replies]
grace = "1h"
[escalation]
group_window = "0s"
quiet_hours = ""
[escalation.policies.standard]
reminders = []
levels = [
  { after = "5m", notify = "next" },
  { after = "1h", notify = "next" },
]
ack_timeout = "1h"
"""


def _person(key: str, name: str, unit: str, post: str = "operator") -> str:
    return f'[[people]]\nkey = "{key}"\nname = "{name}"\nunit = "{unit}"\npost = "{post}"\n'


def _duty(key: str, title: str, assignee: str, due: str, extra: str = "") -> str:
    return (
        f'[[duties]]\nkey = "{key}"\ntitle = "{title}"\nassignee = "{assignee}"\n'
        f'nudge = "07:00"\ndue = "{due}"\n{extra}'
    )


ORG = "\n".join(
    [
        '[[units]]\nkey = "shop"\nname = "Workshop"\nkind = "workshop"\nleader = "wh"\n',
        '[[units]]\nkey = "team"\nname = "Team"\nkind = "team"\nparent = "shop"\nleader = "tl"\n',
        _person("wh", "Walter Head", "shop", "workshop head"),
        _person("tl", "Tina Lead", "team", "team leader"),
        _person("w1", "Willy One", "team"),
        _person("w2", "Wanda Two", "team"),
        _person("w3", "Victor Three", "team"),
        _person("walt", "Walt Worker", "team"),
        _person("gus", "Gus Ghost", "team"),
        _duty("reading", "Read the meters", "w1", "+20m"),
        _duty("pump", "Service the pump", "w2", "+20m"),
        _duty("valve", "Close the valve", "walt", "09:00"),
        _duty("fix", "Fix the pump", "walt", "09:00"),
        _duty("filter", "Clean the filter", "walt", "09:00"),
        _duty("rail", "Photograph the guard rail", "walt", "09:00", 'evidence = "photo"\n'),
    ]
)


async def morning(h: Harness) -> None:
    """Start the bot at 07:00 and run the plan and nudge passes: every bound person with a
    duty is nudged (wait for their message with ``h.message(chat, NUDGE)``)."""
    await h.start_bot()
    await h.run_pass("plan", "nudges")


NUDGE = "your duties for"


async def escalated(h: Harness) -> tuple[dict[str, Any], dict[str, Any]]:
    """The morning, then Willy and Wanda stay silent past 07:20 + 5 minutes: the escalation
    pass brings both items to Tina. Her two messages (reading, pump)."""
    await morning(h)
    await h.message(W1, NUDGE)
    await h.message(W2, NUDGE)
    h.clock.advance(minutes=26)
    await h.run_pass("escalation")
    reading = await h.message(TL, r"Willy One — 1\. Read the meters: no answer \(due 07:20\)")
    pump = await h.message(TL, r"Wanda Two — 1\. Service the pump: no answer \(due 07:20\)")
    return reading, pump


def wave_org(people: int) -> str:
    """A plant of ``people`` operators (keys p0, p1, ...) with one duty each at 07:00."""
    lines = [
        '[[units]]\nkey = "plant"\nname = "Plant"\nkind = "plant"\n',
        '[[duties]]\nkey = "round"\ntitle = "Morning round"\npost = "operator"\n'
        'unit = "plant"\nnudge = "07:00"\ndue = "11:00"\n',
    ]
    lines += [_person(f"p{i}", f"Person {i}", "plant") for i in range(people)]
    return "\n".join(lines)
