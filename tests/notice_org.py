"""The small plant of the escalation-message tests (a boss, a team leader, one worker and up to
four duties), shared by the in-process tests (tests/adapters/test_escalation_notices.py) and
the end-to-end ones (tests/e2e/test_escalation_notices.py)."""

from __future__ import annotations

WORKER, LEADER, BOSS = 921, 922, 923
LATENCY = (0.1, 0.3)
ORG = """
[[units]]
key = "plant"
name = "Plant"
kind = "plant"
leader = "boss"

[[units]]
key = "team"
name = "Team"
kind = "team"
parent = "plant"
leader = "lead"

[[people]]
key = "boss"
name = "Bea Boss"
unit = "plant"
post = "plant manager"

[[people]]
key = "lead"
name = "Lea Leader"
unit = "team"
post = "team leader"
{lead_extra}

[[people]]
key = "wor"
name = "Walt Worker"
unit = "team"
post = "operator"
"""
DUTY = """
[[duties]]
key = "{key}"
title = "{title}"
assignee = "wor"
nudge = "07:00"
due = "{due}"
"""
TITLES = ("Close the valve", "Fix the pump", "Clean the filter", "Check the guard rail")


def org(due: str = "09:00", duties: int = 1, lead_extra: str = "") -> str:
    text = ORG.format(lead_extra=lead_extra)
    for index in range(duties):
        text += DUTY.format(key=f"d{index}", title=TITLES[index], due=due)
    return text
