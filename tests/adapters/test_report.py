"""``/report`` and ``/me`` (handlers/report.py): the supervision figures in chat, checked
against what the people did, counted here by hand.

Friday 13 November: everyone is nudged at 07:00; only Willy answers (done at 07:05, on time
for 07:20). Tuesday 17 November: nudged again; Walt answers his four duties due 09:00: 1 done
at 07:00 (on time), 2 blocked for materials (a process block, still open), 3 "later, by
15:30" then done at 10:00 (a promise kept: on time), 4 left open; Willy answers done at
07:40, twenty minutes late; Wanda stays silent. No escalation pass runs, so every unanswered
item is still open (its climb has not ended). Read at 10:05 on Tuesday:

- this week (Mon 16 - Tue 17), the team: due 6, on time 2 (Walt 1, 3), late 1 (Willy), open 3
  (Walt 2, 4, Wanda), blocked by process 1: rate 2/6 = 33%. Walt 2/4 = 50%, Willy 0/1,
  Wanda 0/1.
- this month (Nov 1 - 17) adds Friday: due 6, on time 1 (Willy), open 5: the team 3/12 = 25%,
  Walt 2/8 = 25%, Willy 1/2 = 50%, Wanda 0/2.
- /me: Walt's month is on time 2, late 0, not done 0, one process block, 25%, and his streak
  2 (his two Tuesday ones done on time; the open ones are not finished and pass over);
  Willy's streak is 0: his latest finished one was late.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col

from bot.render import texts
from models.tables import Person
from tests.adapters.harness import Harness
from tests.adapters.org import NUDGE, TL, W1, W2, WALT, WH

FRIDAY = datetime.fromisoformat("2026-11-13T07:00:00+01:00")
TUESDAY = datetime.fromisoformat("2026-11-17T07:00:00+01:00")
LEGEND = (
    "✅ on time · 🕒 late · ❌ not done · ⏳ open · ⛔ blocked: process/skill/other"
    " · ⚠ block unresolved"
)
WEEK_TEAM = "Team: 33% ✅2 🕒1 ❌0 ⏳3 ⛔1/0/0 ⚠0 · excused 0 · absent 0"
WEEK_PEOPLE = [
    "People:",
    "  Walt Worker: 50% ✅2 🕒0 ❌0 ⏳2 ⛔1/0/0 ⚠0 · excused 0 · absent 0",
    "  Wanda Two: 0% ✅0 🕒0 ❌0 ⏳1 ⛔0/0/0 ⚠0 · excused 0 · absent 0",
    "  Willy One: 0% ✅0 🕒1 ❌0 ⏳0 ⛔0/0/0 ⚠0 · excused 0 · absent 0",
]


async def _history(h: Harness) -> None:
    """The two days above, up to Tuesday 10:05."""
    h.clock.set(FRIDAY)
    await h.start_bot()
    await h.run_pass("plan", "nudges")
    await h.message(W1, NUDGE)
    h.clock.advance(minutes=5)
    await h.people.send_text(W1, "done 1")
    await h.message(W1, r"Recorded: 1\. Read the meters is done\.")

    h.clock.set(TUESDAY)
    await h.run_pass("plan", "nudges")
    mark = await h.last_id(WALT)
    nudge = await h.message(WALT, NUDGE, after=mark)
    await h.message(W2, "Tue, Nov 17")
    await h.people.tap(WALT, nudge["message_id"], label="1 ✅ Done")
    await h.toast(WALT, r"^Recorded: 1\. Close the valve is done\.$")
    await h.people.tap(WALT, nudge["message_id"], label="2 ⛔ Blocked")
    ask = await h.message(WALT, r"Why is 2\. Fix the pump blocked\?", after=mark)
    await h.people.tap(WALT, ask["message_id"], label="Materials or tools")
    await h.toast(WALT, r"Recorded: 2\. Fix the pump is blocked")
    await h.people.tap(WALT, nudge["message_id"], label="3 🕒 Later")
    await h.message(WALT, r"By when will 3\. Clean the filter be done\?", after=mark)
    await h.people.send_text(WALT, "15:30")
    await h.message(WALT, r"will be done by 15:30", after=mark)
    h.clock.advance(minutes=40)  # 07:40: Willy, twenty minutes late
    mark_w1 = await h.last_id(W1)
    await h.people.send_text(W1, "done 1")
    await h.message(W1, r"Recorded: 1\. Read the meters is done\.", after=mark_w1)
    h.clock.set(datetime.fromisoformat("2026-11-17T10:00:00+01:00"))
    await h.people.send_text(WALT, "done 3")
    await h.message(WALT, r"Recorded: 3\. Clean the filter is done\.", after=mark)
    await h.settle()
    h.clock.advance(minutes=5)


async def _ask(h: Harness, chat: int, command: str, pattern: str) -> list[str]:
    mark = await h.last_id(chat)
    await h.people.send_text(chat, command)
    return str((await h.message(chat, pattern, after=mark))["text"]).splitlines()


async def test_report_and_me_count_what_people_did(h: Harness) -> None:
    await _history(h)

    week = await _ask(h, TL, "/report", "^This week")
    assert week == ["This week, Mon, Nov 16 – Tue, Nov 17:", WEEK_TEAM, *WEEK_PEOPLE, LEGEND]
    month = await _ask(h, TL, "/report month", "^This month")
    assert month == [
        "This month, Sun, Nov 1 – Tue, Nov 17:",
        "Team: 25% ✅3 🕒1 ❌0 ⏳8 ⛔1/0/0 ⚠0 · excused 0 · absent 0",
        "People:",
        "  Walt Worker: 25% ✅2 🕒0 ❌0 ⏳6 ⛔1/0/0 ⚠0 · excused 0 · absent 0",
        "  Wanda Two: 0% ✅0 🕒0 ❌0 ⏳2 ⛔0/0/0 ⚠0 · excused 0 · absent 0",
        "  Willy One: 50% ✅1 🕒1 ❌0 ⏳0 ⛔0/0/0 ⚠0 · excused 0 · absent 0",
        LEGEND,
    ]
    # the head (also the admin): the workshop, the team one level down; nobody of the
    # workshop itself had anything due, so no people
    head = await _ask(h, WH, "/report", "^This week")
    assert head == [
        "This week, Mon, Nov 16 – Tue, Nov 17:",
        WEEK_TEAM.replace("Team", "Workshop"),
        "  " + WEEK_TEAM,
        LEGEND,
    ]
    inside = await _ask(h, WH, "/report team", "^This week")
    assert inside == ["This week, Mon, Nov 16 – Tue, Nov 17:", WEEK_TEAM, *WEEK_PEOPLE, LEGEND]
    outside = await _ask(h, TL, "/report shop", "shop")
    assert outside == [
        "The unit “shop” is not one of yours: /report shows only the units you lead and those"
        " below them."
    ]
    unknown = await _ask(h, TL, "/report month nowhere", "nowhere")
    assert unknown == ["There is no unit “nowhere”. Send /report without a key for your own units."]
    refused = await _ask(h, W1, "/report", "/me")
    assert refused == [
        "/report shows the figures of the units a leader leads, so there is none for you."
        " Send /me for your own month."
    ]

    walt = await _ask(h, WALT, "/me", "^Your month")
    assert walt == [
        "Your month, Sun, Nov 1 – Tue, Nov 17:",
        "✅ 2 duties done on time",
        "🕒 0 duties done late",
        "❌ 0 duties not done",
        "⛔ 1 block (process 1, skill 0, other 0)",
        "Execution rate: 25%",
        "🔥 On-time streak: 2 duties in a row",
    ]
    willy = await _ask(h, W1, "/me", "^Your month")
    assert willy[1:3] == ["✅ 1 duty done on time", "🕒 1 duty done late"]
    assert willy[-2:] == ["Execution rate: 50%", "🔥 On-time streak: 0 duties in a row"]
    victor = await _ask(h, 105, "/me", "^Your month")
    assert victor == [
        "Your month, Sun, Nov 1 – Tue, Nov 17:",
        "Nothing was due for you this month yet.",
    ]


async def test_a_russian_leader_reads_the_report_in_russian(h: Harness) -> None:
    with h.session() as session:
        session.execute(
            update(Person)
            .where(col(Person.key) == "tl")
            .values(language="ru", language_source="chosen")
        )
        session.commit()
    await _history(h)
    week = await _ask(h, TL, "/report", "^Эта неделя")
    assert week[0] == "Эта неделя, пн, 16 нояб. – вт, 17 нояб.:"
    assert week[1] == ("Team: 33\u00a0% ✅2 🕒1 ❌0 ⏳3 ⛔1/0/0 ⚠0 · снято 0 · нет на месте 0")
    assert week[2] == "Сотрудники:"
    assert week[-1] == texts.render("ru", "report.legend")
    assert week[-1].startswith("✅ вовремя · 🕒 с опозданием")
    refused = await _ask(h, TL, "/report shop", "shop")
    assert refused == [
        "Подразделение «shop» не ваше: /report показывает только подразделения, которыми вы"
        " руководите, и те, что ниже."
    ]


async def test_a_report_too_long_for_one_message_is_shortened_as_the_board_is(
    bare: Harness,
) -> None:
    """A plant head (Walter, the admin) over 150 workshops: 150 rows do not fit in one
    message, so the rows one level down are left out and counted, as on /team."""
    units = ['[[units]]\nkey = "plant"\nname = "Plant"\nkind = "plant"\nleader = "wh"\n']
    units += [
        f'[[units]]\nkey = "shop{i:03}"\nname = "Workshop number {i:03}"\nkind = "workshop"\n'
        'parent = "plant"\n'
        for i in range(150)
    ]
    person = '[[people]]\nkey = "wh"\nname = "Walter Head"\nunit = "plant"\npost = "head"\n'
    bare.import_org("\n".join([*units, person]))
    await bare.bind({"wh": WH})
    await bare.start_bot()
    text = await _ask(bare, WH, "/report", "^This week")
    assert len("\n".join(text)) <= 4096
    assert text == [
        "This week, Mon, Nov 16 – Tue, Nov 17:",
        "Plant: – ✅0 🕒0 ❌0 ⏳0 ⛔0/0/0 ⚠0 · excused 0 · absent 0",
        "… and 150 units further down (counted in the rows above)",
        LEGEND,
    ]
    shop = await _ask(bare, WH, "/report shop042", "^This week")
    assert shop[1].startswith("Workshop number 042: – ✅0")
