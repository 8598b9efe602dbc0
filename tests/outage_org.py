"""The small plant of the delivery-outage tests (a boss who is also the admin, a team leader,
one worker with one duty) and its config, shared by the in-process tests
(tests/adapters/test_delivery_outage.py) and the end-to-end one
(tests/e2e/test_delivery_outage.py)."""

from __future__ import annotations

LATENCY = (0.1, 0.3)
W1, TL, BOSS, GHOST = 801, 802, 803, 804

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
leader = "tl"

[[people]]
key = "boss"
name = "Bea Boss"
unit = "plant"
post = "manager"

[[people]]
key = "tl"
name = "Tina Lead"
unit = "team"
post = "team leader"

[[people]]
key = "w1"
name = "Willy One"
unit = "team"
post = "operator"

[[duties]]
key = "reading"
title = "Read the meters"
assignee = "w1"
nudge = "07:00"
due = "+30m"
"""

CONFIG = """
[access]
admins = ["boss"]
[escalation]
group_window = "0s"
quiet_hours = ""
[escalation.policies.standard]
reminders = []
levels = [{ after = "1m", notify = "next" }]
ack_timeout = "2h"
"""
