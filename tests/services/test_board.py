"""The leader's board (``/team`` and ``/overdue``) on SQLite and PostgreSQL: counts per unit,
rolled up the tree, and the open items with who holds each, for leaders, a deputy, an admin,
and the refusal for a worker.

The org is the one of ``test_escalation_service``. At 10:00 on Tuesday 2026-11-17:
- team: Willy's reading done; Wanda's pump blocked, her valves promised for 10:45; Nina's
  stock count open, past due, taken by Tina; Tina's own report open, past due, unowned;
- vacant team: Victor's sweeping open and past due; his bins excused;
- workshop itself: Walter's report due at 12:00 (open, not yet due); Doris away (absent).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.services import board, escalation, replies
from bot.services.absences import add_absence
from models.calendar import AbsenceKind
from tests.services.test_escalation_service import (
    CHATS,
    DAY,
    act,
    build,
    duty,
    ids,
    local,
    occurrence,
    settings,
    start_day,
)

NOW = local("10:00")


def tap(engine: Engine, who: str, data: str, at: datetime, update_id: int) -> None:
    s = settings()
    outcome = replies.tap(engine, s, replies.Incoming(CHATS[who], update_id, None, at), data)
    assert outcome.recorded, outcome.answer


def day_of_mixed_fortunes(engine: Engine, tmp_path: Path) -> dict[str, int]:
    build(
        engine,
        tmp_path,
        duty("reading", "w1"),
        duty("pump", "w2"),
        duty("valves", "w2", due="09:00"),
        duty("nj-duty", "nj"),
        duty("tl-report", "tl"),
        duty("v1", "w3"),
        duty("v2", "w3"),
        duty("wh-report", "wh", due="12:00"),
        duty("night", "wd"),
    )
    add_absence(engine, "wd", DAY, DAY, AbsenceKind.SICK, "", local("05:00"))
    s = settings()
    start_day(engine, s, local("06:00"), local("07:00"))
    tap(engine, "w1", f"r:d:{occurrence(engine, 'reading').id}", local("07:30"), 1)
    tap(engine, "w2", f"c:m:{occurrence(engine, 'pump').id}", local("07:40"), 2)
    tap(engine, "w2", f"t:2h:{occurrence(engine, 'valves').id}", local("08:45"), 3)
    escalation.advance(engine, s, local("08:10"))
    assert act(engine, s, "tl", f"e:a:{occurrence(engine, 'nj-duty').id}", local("08:15")).recorded
    v2 = occurrence(engine, "v2").id
    act(engine, s, "wh", f"e:x:{v2}", local("08:20"))
    with_reason = replies.typed(
        engine, s, replies.Incoming(CHATS["wh"], 4, None, local("08:21")), "bins were emptied"
    )
    assert with_reason is not None and with_reason.recorded
    return ids(engine)


TEAM_ROW = "Team: ✅ 1 · ⛔ 1 · 🕒 1 · excused 0 · absent 0 · no reply 2"
VACANT_ROW = "Vacant Team: ✅ 0 · ⛔ 0 · 🕒 0 · excused 1 · absent 0 · no reply 1"
SHOP_ROW = "Workshop: ✅ 1 · ⛔ 1 · 🕒 1 · excused 1 · absent 1 · no reply 4"
PLANT_ROW = "Plant: ✅ 1 · ⛔ 1 · 🕒 1 · excused 1 · absent 1 · no reply 4"
PUMP = "• Wanda Two — 1. Service the pump: ⛔ blocked, unowned"
VALVES = "• Wanda Two — 2. Check the valves: 🕒 later, by 10:45, unowned"
STOCK = "• Nina Never — 1. Count the stock: open, held by Tina Lead"
REPORT = "• Tina Lead — 1. Team report: open, unowned"
SWEEP = "• Victor Three — 1. Sweep the hall: open, unowned"


def test_team_board_counts_per_unit_rolled_up_with_holders(engine: Engine, tmp_path: Path) -> None:
    person = day_of_mixed_fortunes(engine, tmp_path)
    s = settings()

    tina = board.team(engine, s, person["tl"], "en", NOW).splitlines()
    assert tina[:3] == ["Today, Tue, Nov 17:", TEAM_ROW, "Open items:"]
    assert tina[3:5] == [PUMP, VALVES]  # blocked first, then late, then open past due
    assert sorted(tina[5:]) == sorted([STOCK, REPORT])

    walter = board.team(engine, s, person["wh"], "en", NOW).splitlines()
    assert walter[:5] == ["Today, Tue, Nov 17:", SHOP_ROW, "  " + TEAM_ROW, "  " + VACANT_ROW,
                          "Open items:"]  # fmt: skip
    assert walter[5:7] == [PUMP, VALVES]
    assert sorted(walter[7:]) == sorted([STOCK, REPORT, SWEEP])
    assert "Walter Head" not in "\n".join(walter)  # his report is not due yet

    expected_top = ["Today, Tue, Nov 17:", PLANT_ROW, "  " + SHOP_ROW, "    " + TEAM_ROW,
                    "    " + VACANT_ROW, "Open items:"]  # fmt: skip
    for who in ("pm", "adm"):  # the plant manager, and an admin who leads nothing
        assert board.team(engine, s, person[who], "en", NOW).splitlines()[:6] == expected_top
    deputy = board.team(engine, s, person["wd"], "en", NOW).splitlines()
    assert deputy[1] == SHOP_ROW  # the deputy sees the workshop like its head

    refusal = "You do not lead a unit, so there is no team board for you."
    assert board.team(engine, s, person["w1"], "en", NOW) == refusal
    assert board.overdue(engine, s, person["w1"], "en", NOW) == refusal


def test_overdue_lists_past_due_items_nobody_holds(engine: Engine, tmp_path: Path) -> None:
    person = day_of_mixed_fortunes(engine, tmp_path)
    s = settings()

    tina = board.overdue(engine, s, person["tl"], "en", NOW).splitlines()
    assert tina[0] == "Past due and unowned:"
    assert sorted(tina[1:]) == sorted([PUMP, REPORT])  # taken, promised or done: not here
    walter = board.overdue(engine, s, person["wh"], "en", NOW).splitlines()
    assert sorted(walter[1:]) == sorted([PUMP, REPORT, SWEEP])

    later = local("11:00")  # past the promise of 10:45: the valves are overdue too
    tina_later = board.overdue(engine, s, person["tl"], "en", later).splitlines()
    assert VALVES in tina_later

    early = local("07:50")  # nothing due yet but the block, which is due at 08:00
    assert board.overdue(engine, s, person["tl"], "en", early) == (
        "Nothing is past due and unowned."
    )
