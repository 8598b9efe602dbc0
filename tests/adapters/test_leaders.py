"""What leaders do, in-process with the Bot API's latency: reassignments that reach their
person with a fresh due time (item 7), a deputy refused on their leader's own item (item 11),
commands and taps in a group chat (item 12, with Telegram's limits on), the new assignee named
in the edited escalation (item 13), and reassigning among 30 people by pages and by a typed
name or key (item 14). Policies are in seconds; the fake clock starts at the 07:00 nudges and
the test runs each pass where ``execbot run``'s one-second tick would have.

One module over 400 lines: the four items share one org, one config and the helpers that
drive a leader's chat; split, each part would repeat them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from models.tables import AuditEvent, Duty, Notice, Occurrence, Outbox, PendingInput, Person
from tests.adapters.harness import Harness, harness

START = datetime.fromisoformat("2026-11-17T07:00:00+01:00")  # a Tuesday, the nudge time
LATENCY = (0.1, 0.3)

CONFIG = """
[escalation]
group_window = "0s"
quiet_hours = ""
[escalation.policies.standard]
reminders = []
levels = [
  { after = "1s", notify = "next" },
  { after = "1h", notify = "next" },
]
ack_timeout = "1h"
"""

UNITS = """
[[units]]
key = "shop"
name = "Workshop"
kind = "workshop"
leader = "wh"

[[units]]
key = "team"
name = "Team"
kind = "team"
parent = "shop"
leader = "tl"
deputy = "dp"

[[people]]
key = "wh"
name = "Walter Head"
unit = "shop"
post = "workshop head"

[[people]]
key = "tl"
name = "Tina Lead"
unit = "team"
post = "team leader"
"""


def person(key: str, name: str, unit: str = "team") -> str:
    return f'[[people]]\nkey = "{key}"\nname = "{name}"\nunit = "{unit}"\npost = "operator"\n'


def duty(key: str, title: str, assignee: str, due: str) -> str:
    return (
        f'[[duties]]\nkey = "{key}"\ntitle = "{title}"\nassignee = "{assignee}"\n'
        f'nudge = "07:00"\ndue = "{due}"\n'
    )


@asynccontextmanager
async def started(
    root: Path, template: Path, org: str, chats: dict[str, int], *, paced: bool = False
) -> AsyncIterator[Harness]:
    """The org imported, the people in ``chats`` in a started chat, the bot at 07:00 with the
    plan and nudge passes run."""
    async with harness(
        root, template, START, config_extra=CONFIG, paced=paced, latency=LATENCY
    ) as h:
        h.import_org(org)
        await h.bind(chats)
        await h.start_bot()
        await h.run_pass("plan", "nudges")
        yield h
        assert not h.errors.records, h.errors.records


async def escalate(h: Harness, seconds: float) -> None:
    """The clock past the due time and level 1 (after 1 s): the escalation pass climbs."""
    h.clock.advance(seconds=seconds)
    await h.run_pass("escalation")


def occurrence(h: Harness, duty_key: str, person_key: str) -> Occurrence:
    with h.session() as session:
        query = (
            select(Occurrence)
            .join(Person, col(Person.id) == col(Occurrence.person_id))
            .join(Duty, col(Duty.id) == col(Occurrence.duty_id))
            .where(col(Person.key) == person_key, col(Duty.key) == duty_key)
        )
        found = session.exec(query).first()
    if found is None:
        raise AssertionError(f"no occurrence of {duty_key} for {person_key}")
    return found


def reassigned_events(h: Harness) -> list[AuditEvent]:
    with h.session() as session:
        query = select(AuditEvent).where(col(AuditEvent.kind) == "occurrence.reassigned")
        return list(session.exec(query.order_by(col(AuditEvent.id))).all())


def local_clock(at: datetime) -> str:
    return at.astimezone(START.tzinfo).strftime("%H:%M")


def buttons(m: dict[str, Any]) -> list[str]:
    return [b["text"] for row in m.get("buttons") or [] for b in row]


async def current(h: Harness, chat: int, message_id: int, pattern: str) -> dict[str, Any]:
    """The message once its (edited) text matches ``pattern``."""

    async def probe() -> dict[str, Any] | None:
        return next(
            (
                m
                for m in await h.messages(chat)
                if m["message_id"] == message_id and re.search(pattern, m["text"] or "")
            ),
            None,
        )

    return await h.until(f"message {message_id} to match {pattern!r}", probe)


async def tap_and_choose(
    h: Harness, leader: int, escalation: dict[str, Any], item: str, who: str
) -> None:
    """Reassign from an escalation message: tap Reassign, then the person's name."""
    mark = await h.last_id(leader)
    await h.people.tap(leader, escalation["message_id"], label="1 Reassign")
    chooser = await h.message(leader, rf"^Reassign 1\. {item} to:", after=mark)
    seen = len(await h.toasts(leader))
    await h.people.tap(leader, chooser["message_id"], label=who)
    await h.toast(leader, rf"to {who}; they get it now", seen)


# --- item 7 and 13: every reassignment reaches its person, with a fresh due time ------------

W1, W2, W3, DP, TL, WH = 701, 702, 703, 706, 704, 705
WINDOW = timedelta(seconds=15)
ORG_7 = (
    UNITS
    + person("dp", "Dora Deputy")
    + person("w1", "Willy One")
    + person("w2", "Wanda Two")
    + person("w3", "Victor Three")
    + duty("reading", "Read the meters", "w1", "+15s")
    + duty("pump", "Service the pump", "w2", "+15s")
    + duty("valves", "Check the valves", "w3", "+10m")
)


async def test_item7_two_reassignments_in_the_minute_of_the_nudge_both_reach_the_person(
    tmp_path: Path, template_db: Path
) -> None:
    """Two items reassigned to Victor within a minute, in the minute of his own 07:00 nudge:
    three nudges reach him, each reassigned item due 15 s (the duty's window) after its
    reassignment, and neither climbs before that."""
    chats = {"w1": W1, "w2": W2, "w3": W3, "tl": TL, "wh": WH}
    async with started(tmp_path, template_db, ORG_7, chats) as h:
        own = await h.message(W3, r"your duties for[\s\S]*Check the valves")
        await escalate(h, 16)  # 07:00:16
        reading = await h.message(TL, r"Willy One — 1\. Read the meters: no answer")
        pump = await h.message(TL, r"Wanda Two — 1\. Service the pump: no answer")

        await tap_and_choose(h, TL, reading, "Read the meters of Willy One", "Victor Three")
        await h.run_pass("nudges", "escalation")  # the tick after the first reassignment
        h.clock.advance(seconds=5)
        await tap_and_choose(h, TL, pump, "Service the pump of Wanda Two", "Victor Three")
        await h.run_pass("nudges", "escalation")
        # The tick every second until just before the later due time: nothing climbs early.
        for _ in range(19):
            h.clock.advance(seconds=1)
            await h.run_pass("nudges", "escalation")

        events = reassigned_events(h)
        assert [e.data["to"] for e in events] == ["w3", "w3"]
        minute_end = datetime.fromisoformat("2026-11-17T07:01:00+01:00")
        assert all(e.at < minute_end for e in events), "not in the minute of Victor's nudge"
        nudges = {}
        for (key, title), event in zip(
            [("reading", "Read the meters"), ("pump", "Service the pump")], events, strict=True
        ):
            due = event.at + WINDOW
            nudges[key] = await h.message(
                W3, rf"your duties for[\s\S]*\d\. {title} \(due {local_clock(due)}\)"
            )
            occ = occurrence(h, key, "w3")
            assert occ.due_at == due  # the duty's own window, from the reassignment
            assert occ.nudge_state == "queued" and occ.nudge_outbox_id is not None
            assert occ.next_step_at is not None and occ.next_step_at >= due + timedelta(seconds=1)

            def sent(outbox_id: int = occ.nudge_outbox_id) -> Outbox | None:
                with h.session() as session:
                    row = session.get(Outbox, outbox_id)
                return row if row is not None and row.telegram_message_id is not None else None

            await h.wait(f"the nudge of {key} recorded as sent", sent)
            with h.session() as session:
                early = session.exec(
                    select(Notice).where(
                        col(Notice.occurrence_id) == occ.id, col(Notice.created_at) < due
                    )
                ).all()
            assert early == []  # no climb before the new due time
        assert len({own["message_id"], *(m["message_id"] for m in nudges.values())}) == 3

        # Item 13 on the way: the leader's messages name the new assignee.
        for item in (reading, pump):
            edited = await current(h, TL, item["message_id"], "reassigned to")
            assert "reassigned to Victor Three" in edited["text"]


# --- item 11: a deputy acts for the leader below the leader, never on the leader's items ------

ORG_11 = (
    UNITS
    + person("dp", "Dora Deputy")
    + person("w1", "Willy One")
    + duty("report", "Write the shift report", "tl", "+2s")
    + duty("reading", "Read the meters", "w1", "+2s")
)


async def test_item11_a_worker_deputy_is_refused_on_the_leaders_own_item(
    tmp_path: Path, template_db: Path
) -> None:
    chats = {"w1": W1, "dp": DP, "tl": TL, "wh": WH}
    async with started(tmp_path, template_db, ORG_11, chats) as h:
        await escalate(h, 3)
        await h.message(WH, r"Tina Lead — 1\. Write the shift report: no answer")
        await h.message(TL, r"Willy One — 1\. Read the meters: no answer")
        own, member = occurrence(h, "report", "tl"), occurrence(h, "reading", "w1")
        await h.people.send_command(DP, "help")
        helped = await h.message(DP, "^")  # any live message of Dora's chat carries a forged tap

        refusal = "Only the leaders above Tina Lead, and admins, can act on this item."
        for code in "axnr":  # a modified client sends what no button of hers offers
            seen = len(await h.toasts(DP))
            await h.people.tap(DP, helped["message_id"], data=f"e:{code}:{own.id}", forge=True)
            assert await h.toast(DP, ".", seen) == refusal
        after = occurrence(h, "report", "tl")
        assert (after.status, after.acked_by) == ("open", None)

        # On Willy's item she stands in for Tina: the excuse goes through.
        mark = await h.last_id(DP)
        await h.people.tap(DP, helped["message_id"], data=f"e:x:{member.id}", forge=True)
        ask = await h.message(DP, r"^Why is 1\. Read the meters of Willy One excused\?", after=mark)
        await h.people.reply_to(DP, ask["message_id"], "the night shift did it")
        await h.message(DP, r"^Excused: 1\. Read the meters of Willy One\.$", after=mark)
        assert occurrence(h, "reading", "w1").status == "excused"
        assert occurrence(h, "report", "tl").status == "open"


# --- item 12: commands and taps in a group get a one-line pointer at most ------------------------

GROUP = -100777
POINTER = r"^I answer only in a private chat: open https://t\.me/\w+ and write to me there\.$"


async def test_item12_commands_in_a_group_get_a_pointer_and_no_board(
    tmp_path: Path, template_db: Path
) -> None:
    org = UNITS + person("dp", "Dora Deputy") + person("w1", "Willy One")
    org += duty("reading", "Read the meters", "w1", "+2s")
    # Paced: the sandbox enforces Telegram's limits on the group, as in the product.
    async with started(tmp_path, template_db, org, {"w1": W1, "tl": TL}, paced=True) as h:
        await escalate(h, 3)
        await h.message(TL, r"Willy One — 1\. Read the meters: no answer")
        occ = occurrence(h, "reading", "w1")
        await h.people.create_group("Shift A", [TL, W1], id=GROUP)
        private_before = await chat_sizes(h, TL), await chat_sizes(h, W1)

        await h.people.send_command(TL, "team@some_other_bot", chat_id=GROUP)  # not ours
        await h.people.send_text(W1, "done 1", chat_id=GROUP)  # plain text in a group: no answer
        ours = [(TL, "team"), (TL, "overdue"), (W1, "today")]
        for who, command in ours:
            await h.people.send_command(who, command, chat_id=GROUP)
        # Taps in the group (a forwarded escalation or nudge, or a forged button).
        pointer = await h.message(GROUP, POINTER)
        await h.people.tap(
            TL, pointer["message_id"], data=f"e:a:{occ.id}", chat_id=GROUP, forge=True
        )
        await h.people.tap(
            W1, pointer["message_id"], data=f"r:d:{occ.id}", chat_id=GROUP, forge=True
        )
        await h.until("both taps answered", lambda: _count_toasts(h, GROUP, 2))
        # More commands than Telegram lets a bot say in a group at once (3, then 20 a minute):
        # a pointer that hits the group's limit is dropped, never retried or sent elsewhere.
        more = [(TL, "today"), (TL, "week"), (TL, "help"), (W1, "start")]
        for who, command in more:
            await h.people.send_command(who, command, chat_id=GROUP)
        mark = await h.last_id(TL)
        await h.people.send_command(TL, "help")  # updates are handled in order: this one last
        await h.message(TL, "leader", mark)
        private_before = private_before[0] + 2, private_before[1]

        await h.settle()  # the pointers go through the outbox, paced for a group
        assert all(re.match(POINTER, t) for t in await h.toasts(GROUP))
        said = await h.texts(GROUP)
        assert len(ours) <= len(said) <= len(ours) + len(more)
        assert all(re.match(POINTER, t) for t in said)
        after = occurrence(h, "reading", "w1")
        assert (after.status, after.acked_by) == ("open", None)
        assert (await chat_sizes(h, TL), await chat_sizes(h, W1)) == private_before
        assert (await h.people.counters())["unanswered_callback_queries"] == 0


async def chat_sizes(h: Harness, chat: int) -> int:
    """Messages in the chat, the person's and the bot's."""
    return sum(e.get("kind") == "message" for e in await h.people.transcript(chat))


async def _count_toasts(h: Harness, chat: int, count: int) -> bool:
    return len(await h.toasts(chat)) == count


# --- items 13 and 14: 30 people to choose from, by pages and by a typed name or key -------------

P = {i: 7000 + i for i in range(1, 31)}
ORG_14 = (
    UNITS.replace('deputy = "dp"\n', "")
    + "".join(person(f"p{i:02d}", f"Person {i:02d}") for i in P)
    + duty("reading", "Read the meters", "p01", "+2s")
    + duty("pump", "Service the pump", "p01", "+2s")
)


async def test_item13_item14_reassign_pages_through_30_people_and_takes_a_typed_key(
    tmp_path: Path, template_db: Path
) -> None:
    chats = {"tl": TL, "wh": WH, "p01": P[1], "p17": P[17], "p30": P[30]}
    async with started(tmp_path, template_db, ORG_14, chats) as h:
        await escalate(h, 3)
        reading = await h.message(TL, r"Person 01 — \d\. Read the meters: no answer")
        pump = await h.message(TL, r"Person 01 — \d\. Service the pump: no answer")
        number = re.search(r"— (\d)\. Read", reading["text"])[1]  # type: ignore[index]

        # Reassign by pages: 30 people (Person 02-30 and Tina), ten a page.
        mark = await h.last_id(TL)
        await h.people.tap(TL, reading["message_id"], label="1 Reassign")
        chooser = await h.message(
            TL, rf"^Reassign {number}\. Read the meters of Person 01 to:", mark
        )
        assert "People 1–10 of 30, page 1 of 3." in chooser["text"]
        assert buttons(chooser) == [f"Person {i:02d}" for i in range(2, 12)] + ["Page 2 ▶"]
        await h.people.tap(TL, chooser["message_id"], label="Page 2 ▶")
        second = await current(h, TL, chooser["message_id"], "page 2 of 3")
        assert buttons(second)[-2:] == ["◀ Page 1", "Page 3 ▶"]
        await h.people.tap(TL, chooser["message_id"], label="Page 3 ▶")
        last = await current(h, TL, chooser["message_id"], r"People 21–30 of 30, page 3 of 3\.")
        assert buttons(last) == [f"Person {i:02d}" for i in range(22, 31)] + [
            "Tina Lead",
            "◀ Page 2",
        ]
        await h.people.tap(TL, chooser["message_id"], label="Person 30")
        await h.settle()
        await h.run_pass("nudges")  # the next tick sends the reassigned duty
        await h.message(P[30], r"your duties for[\s\S]*Read the meters")
        # Item 13: the edited escalation names the new assignee, not the leader who acted.
        edited = await current(h, TL, reading["message_id"], "reassigned to")
        assert "reassigned to Person 30" in edited["text"] and "Tina Lead" not in edited["text"]

        # Forged pages and people are refused.
        mark = await h.last_id(TL)
        await h.people.tap(TL, pump["message_id"], label="1 Reassign")
        pumps = await h.message(TL, r"Service the pump of Person 01 to:", mark)
        with h.session() as session:
            head = session.exec(select(Person).where(col(Person.key) == "wh")).one()
        pump_id = occurrence(h, "pump", "p01").id
        for data, answer in [
            (f"e:g4:{pump_id}", "That page does not exist. Tap Reassign again to see the list."),
            (f"e:g0:{pump_id}", "That page does not exist. Tap Reassign again to see the list."),
            (f"e:p{head.id}:{pump_id}", "That person is not in your units."),
        ]:
            seen = len(await h.toasts(TL))
            await h.people.tap(TL, pumps["message_id"], data=data, forge=True)
            assert await h.toast(TL, ".", seen) == answer

        # Typed: several (the question stays), nobody (it closes), then a key.
        mark = await h.last_id(TL)
        await h.people.send_text(TL, "person 1")
        several = await h.message(TL, r"^Several people fit “person 1”: Person 10 \(p10\), ", mark)
        assert "Person 17 (p17)" in several["text"]
        await h.people.send_text(TL, "Zoe")
        await h.message(TL, r"^Nobody called “Zoe” among the people you can reassign to", mark)
        await h.people.send_text(TL, "P17")
        await h.message(TL, r"^I didn't understand that\.", mark)  # no question open any more
        await h.people.tap(TL, pump["message_id"], label="1 Reassign")
        await h.message(TL, r"Service the pump of Person 01 to:", pumps["message_id"])
        await h.people.send_text(TL, "P17")
        await h.message(
            TL, r"^Reassigned \d\. Service the pump to Person 17; they get it now", mark
        )
        await h.run_pass("nudges")
        await h.message(P[17], r"your duties for[\s\S]*Service the pump")
        edited = await current(h, TL, pump["message_id"], "reassigned to")
        assert "reassigned to Person 17" in edited["text"]
        with h.session() as session:
            assert session.exec(select(PendingInput)).all() == []  # the question is answered
