"""What leaders do, end to end through the sandbox (with Telegram's latency): reassignments
that reach their person with a fresh due time (item 7), a deputy refused on their leader's own
item (item 11), commands and taps in a group chat (item 12), the new assignee named in the
edited escalation (item 13), and reassigning among 30 people by pages and by a typed name or
key (item 14). Policies are in seconds; the virtual clock starts just before the nudges."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from models.tables import AuditEvent, Duty, Notice, Occurrence, Outbox, PendingInput, Person
from tests.e2e.harness import World, world

START = "2026-11-17T06:59:58+01:00"  # a Tuesday; the nudges are due two seconds in
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


def start(w: World, tmp_path: Path, org: str, chats: dict[str, int]) -> None:
    """Import the org, give the people in ``chats`` a started chat, start the bot."""
    w.write_config(CONFIG)
    (tmp_path / "org.toml").write_text(org)
    w.execbot("org", "import", str(tmp_path / "org.toml"))
    for key, chat in chats.items():
        w.client.create_person(key, id=chat, started=True)
    with Session(w.engine) as session:
        for key, chat in chats.items():
            session.execute(
                update(Person).where(col(Person.key) == key).values(telegram_user_id=chat)
            )
        session.commit()
    w.wait_ready(w.start_bot(EXECBOT_CLOCK_START=START))


def message(w: World, chat: int, pattern: str, after: int = 0) -> dict[str, Any]:
    return w.bot_message(chat, pattern, after)


def toasts(w: World, chat: int) -> list[str]:
    return [
        e.get("text") or "" for e in w.client.transcript(chat) if e["kind"] == "callback_answer"
    ]


def toast(w: World, chat: int, pattern: str, seen: int = 0) -> str:
    """The first toast in ``chat`` after the first ``seen`` that matches."""
    return w.wait(
        f"toast {pattern!r}",
        lambda: next((t for t in toasts(w, chat)[seen:] if re.search(pattern, t)), None),
        timeout=20,
    )


def last_id(w: World, chat: int) -> int:
    return max((m["message_id"] for m in w.messages(chat)), default=0)


def occurrence(w: World, duty_key: str, person_key: str) -> Occurrence:
    with Session(w.engine) as session:
        query = (
            select(Occurrence)
            .join(Person, col(Person.id) == col(Occurrence.person_id))
            .where(col(Person.key) == person_key)
        )
        for occ in session.exec(query).all():
            if _duty_key(session, occ.duty_id) == duty_key:
                return occ
    raise AssertionError(f"no occurrence of {duty_key} for {person_key}")


def _duty_key(session: Session, duty_id: int) -> str:
    found = session.get(Duty, duty_id)
    return found.key if found else ""


def reassigned_events(w: World) -> list[AuditEvent]:
    with Session(w.engine) as session:
        query = select(AuditEvent).where(col(AuditEvent.kind) == "occurrence.reassigned")
        return list(session.exec(query.order_by(col(AuditEvent.id))).all())


def local_clock(at: datetime) -> str:
    return at.astimezone(datetime.fromisoformat(START).tzinfo).strftime("%H:%M")


def tap_and_choose(w: World, leader: int, escalation: dict[str, Any], item: str, who: str) -> None:
    """Reassign from an escalation message: tap Reassign, then the person's name."""
    mark = last_id(w, leader)
    w.client.tap(leader, escalation["message_id"], label="1 Reassign")
    chooser = message(w, leader, rf"^Reassign 1\. {item} to:", after=mark)
    seen = len(toasts(w, leader))
    w.client.tap(leader, chooser["message_id"], label=who)
    toast(w, leader, rf"to {who}; they get it now", seen)


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


def test_item7_two_reassignments_in_the_minute_of_the_nudge_both_reach_the_person(
    tmp_path: Path,
) -> None:
    """Two items reassigned to Victor within a minute, in the minute of his own 07:00 nudge:
    three nudges reach him, each reassigned item due 15 s (the duty's window) after its
    reassignment, and neither climbs before that."""
    with world(tmp_path, latency=LATENCY) as w:
        start(w, tmp_path, ORG_7, {"w1": W1, "w2": W2, "w3": W3, "tl": TL, "wh": WH})
        own = message(w, W3, r"your duties for[\s\S]*Check the valves")
        reading = message(w, TL, r"Willy One — 1\. Read the meters: no answer")
        pump = message(w, TL, r"Wanda Two — 1\. Service the pump: no answer")

        tap_and_choose(w, TL, reading, "Read the meters of Willy One", "Victor Three")
        tap_and_choose(w, TL, pump, "Service the pump of Wanda Two", "Victor Three")

        events = reassigned_events(w)
        assert [e.data["to"] for e in events] == ["w3", "w3"]
        minute_end = datetime.fromisoformat("2026-11-17T07:01:00+01:00")
        assert all(e.at < minute_end for e in events), "not in the minute of Victor's nudge"
        nudges = {}
        for (key, title), event in zip(
            [("reading", "Read the meters"), ("pump", "Service the pump")], events, strict=True
        ):
            due = event.at + WINDOW
            nudges[key] = message(
                w, W3, rf"your duties for[\s\S]*\d\. {title} \(due {local_clock(due)}\)"
            )
            occ = occurrence(w, key, "w3")
            assert occ.due_at == due  # the duty's own window, from the reassignment
            assert occ.nudge_state == "queued" and occ.nudge_outbox_id is not None
            assert occ.next_step_at is not None and occ.next_step_at >= due + timedelta(seconds=1)
            with Session(w.engine) as session:
                sent = session.get(Outbox, occ.nudge_outbox_id)
                assert sent is not None and sent.telegram_message_id is not None
                early = session.exec(
                    select(Notice).where(
                        col(Notice.occurrence_id) == occ.id, col(Notice.created_at) < due
                    )
                ).all()
            assert early == []  # no climb before the new due time
        assert len({own["message_id"], *(m["message_id"] for m in nudges.values())}) == 3

        # Item 13 on the way: the leader's messages name the new assignee.
        for item in (reading, pump):
            edited = current(w, TL, item["message_id"], "reassigned to")
            assert "reassigned to Victor Three" in edited["text"]


# --- item 11: a deputy acts for the leader below the leader, never on the leader's items ------

ORG_11 = (
    UNITS
    + person("dp", "Dora Deputy")
    + person("w1", "Willy One")
    + duty("report", "Write the shift report", "tl", "+2s")
    + duty("reading", "Read the meters", "w1", "+2s")
)


def test_item11_a_worker_deputy_is_refused_on_the_leaders_own_item(tmp_path: Path) -> None:
    with world(tmp_path, latency=LATENCY) as w:
        start(w, tmp_path, ORG_11, {"w1": W1, "dp": DP, "tl": TL, "wh": WH})
        message(w, WH, r"Tina Lead — 1\. Write the shift report: no answer")
        message(w, TL, r"Willy One — 1\. Read the meters: no answer")
        own, member = occurrence(w, "report", "tl"), occurrence(w, "reading", "w1")
        w.client.send_command(DP, "help")
        helped = message(w, DP, "^")  # any live message of Dora's chat carries a forged tap

        refusal = "Only the leaders above Tina Lead, and admins, can act on this item."
        for code in "axnr":  # a modified client sends what no button of hers offers
            seen = len(toasts(w, DP))
            w.client.tap(DP, helped["message_id"], data=f"e:{code}:{own.id}", forge=True)
            assert toast(w, DP, ".", seen) == refusal
        after = occurrence(w, "report", "tl")
        assert (after.status, after.acked_by) == ("open", None)

        # On Willy's item she stands in for Tina: the excuse goes through.
        mark = last_id(w, DP)
        w.client.tap(DP, helped["message_id"], data=f"e:x:{member.id}", forge=True)
        ask = message(w, DP, r"^Why is 1\. Read the meters of Willy One excused\?", after=mark)
        w.client.reply_to(DP, ask["message_id"], "the night shift did it")
        message(w, DP, r"^Excused: 1\. Read the meters of Willy One\.$", after=mark)
        assert occurrence(w, "reading", "w1").status == "excused"
        assert occurrence(w, "report", "tl").status == "open"


# --- item 12: commands and taps in a group get a one-line pointer at most ------------------------

GROUP = -100777
POINTER = r"^I answer only in a private chat: open https://t\.me/\w+ and write to me there\.$"


def test_item12_commands_in_a_group_get_a_pointer_and_no_board(tmp_path: Path) -> None:
    org = UNITS + person("dp", "Dora Deputy") + person("w1", "Willy One")
    org += duty("reading", "Read the meters", "w1", "+2s")
    with world(tmp_path, latency=LATENCY) as w:
        start(w, tmp_path, org, {"w1": W1, "tl": TL})
        message(w, TL, r"Willy One — 1\. Read the meters: no answer")
        occ = occurrence(w, "reading", "w1")
        w.client.create_group("Shift A", [TL, W1], id=GROUP)
        private_before = len(w.messages(TL)), len(w.messages(W1))

        w.client.send_command(TL, "team@some_other_bot", chat_id=GROUP)  # not ours: no answer
        w.client.send_text(W1, "done 1", chat_id=GROUP)  # plain text in a group: no answer
        ours = [(TL, "team"), (TL, "overdue"), (W1, "today")]
        for who, command in ours:
            w.client.send_command(who, command, chat_id=GROUP)
        # Taps in the group (a forwarded escalation or nudge, or a forged button).
        pointer = message(w, GROUP, POINTER)
        w.client.tap(TL, pointer["message_id"], data=f"e:a:{occ.id}", chat_id=GROUP, forge=True)
        w.client.tap(W1, pointer["message_id"], data=f"r:d:{occ.id}", chat_id=GROUP, forge=True)
        w.wait("both taps answered", lambda: len(toasts(w, GROUP)) == 2)
        # More commands than Telegram lets a bot say in a group at once (3, then 20 a minute):
        # a pointer that hits the group's limit is dropped, never retried or sent elsewhere.
        more = [(TL, "today"), (TL, "week"), (TL, "help"), (W1, "start")]
        for who, command in more:
            w.client.send_command(who, command, chat_id=GROUP)
        mark = last_id(w, TL)
        w.client.send_command(TL, "help")  # updates are handled in order: this one comes last
        message(w, TL, "leader", mark)
        private_before = private_before[0] + 2, private_before[1]

        assert all(re.match(POINTER, t) for t in toasts(w, GROUP))
        said = [m["text"] for m in w.messages(GROUP) if m["from"] == "bot"]
        assert len(ours) <= len(said) <= len(ours) + len(more)
        assert all(re.match(POINTER, t) for t in said)
        after = occurrence(w, "reading", "w1")
        assert (after.status, after.acked_by) == ("open", None)
        assert (len(w.messages(TL)), len(w.messages(W1))) == private_before
        assert w.client.counters()["unanswered_callback_queries"] == 0


# --- items 13 and 14: 30 people to choose from, by pages and by a typed name or key -------------

P = {i: 7000 + i for i in range(1, 31)}
ORG_14 = (
    UNITS.replace('deputy = "dp"\n', "")
    + "".join(person(f"p{i:02d}", f"Person {i:02d}") for i in P)
    + duty("reading", "Read the meters", "p01", "+2s")
    + duty("pump", "Service the pump", "p01", "+2s")
)


def buttons(m: dict[str, Any]) -> list[str]:
    rows = (m.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


def current(w: World, chat: int, message_id: int, pattern: str) -> dict[str, Any]:
    """The message once its (edited) text matches ``pattern``."""
    return w.wait(
        f"message {message_id} to match {pattern!r}",
        lambda: next(
            (
                m
                for m in w.messages(chat)
                if m["message_id"] == message_id and re.search(pattern, m["text"] or "")
            ),
            None,
        ),
    )


def test_item13_item14_reassign_pages_through_30_people_and_takes_a_typed_key(
    tmp_path: Path,
) -> None:
    chats = {"tl": TL, "wh": WH, "p01": P[1], "p17": P[17], "p30": P[30]}
    with world(tmp_path, latency=LATENCY) as w:
        start(w, tmp_path, ORG_14, chats)
        reading = message(w, TL, r"Person 01 — \d\. Read the meters: no answer")
        pump = message(w, TL, r"Person 01 — \d\. Service the pump: no answer")
        number = re.search(r"— (\d)\. Read", reading["text"])[1]  # type: ignore[index]

        # Reassign by pages: 30 people (Person 02-30 and Tina), ten a page.
        mark = last_id(w, TL)
        w.client.tap(TL, reading["message_id"], label="1 Reassign")
        chooser = message(w, TL, rf"^Reassign {number}\. Read the meters of Person 01 to:", mark)
        assert "People 1–10 of 30, page 1 of 3." in chooser["text"]
        assert buttons(chooser) == [f"Person {i:02d}" for i in range(2, 12)] + ["Page 2 ▶"]
        w.client.tap(TL, chooser["message_id"], label="Page 2 ▶")
        second = current(w, TL, chooser["message_id"], "page 2 of 3")
        assert buttons(second)[-2:] == ["◀ Page 1", "Page 3 ▶"]
        w.client.tap(TL, chooser["message_id"], label="Page 3 ▶")
        last = current(w, TL, chooser["message_id"], r"People 21–30 of 30, page 3 of 3\.")
        assert buttons(last) == [f"Person {i:02d}" for i in range(22, 31)] + [
            "Tina Lead",
            "◀ Page 2",
        ]
        w.client.tap(TL, chooser["message_id"], label="Person 30")
        message(w, P[30], r"your duties for[\s\S]*Read the meters")
        # Item 13: the edited escalation names the new assignee, not the leader who acted.
        edited = current(w, TL, reading["message_id"], "reassigned to")
        assert "reassigned to Person 30" in edited["text"] and "Tina Lead" not in edited["text"]

        # Forged pages and people are refused.
        mark = last_id(w, TL)
        w.client.tap(TL, pump["message_id"], label="1 Reassign")
        pumps = message(w, TL, r"Service the pump of Person 01 to:", mark)
        with Session(w.engine) as session:
            head = session.exec(select(Person).where(col(Person.key) == "wh")).one()
        pump_id = occurrence(w, "pump", "p01").id
        for data, answer in [
            (f"e:g4:{pump_id}", "That page does not exist. Tap Reassign again to see the list."),
            (f"e:g0:{pump_id}", "That page does not exist. Tap Reassign again to see the list."),
            (f"e:p{head.id}:{pump_id}", "That person is not in your units."),
        ]:
            seen = len(toasts(w, TL))
            w.client.tap(TL, pumps["message_id"], data=data, forge=True)
            assert toast(w, TL, ".", seen) == answer

        # Typed: several (the question stays), nobody (it closes), then a key.
        mark = last_id(w, TL)
        w.client.send_text(TL, "person 1")
        several = message(w, TL, r"^Several people fit “person 1”: Person 10 \(p10\), ", mark)
        assert "Person 17 (p17)" in several["text"]
        w.client.send_text(TL, "Zoe")
        message(w, TL, r"^Nobody called “Zoe” among the people you can reassign to", mark)
        w.client.send_text(TL, "P17")
        message(w, TL, r"^I didn't understand that\.", mark)  # no question open any more
        w.client.tap(TL, pump["message_id"], label="1 Reassign")
        message(w, TL, r"Service the pump of Person 01 to:", pumps["message_id"])
        w.client.send_text(TL, "P17")
        message(w, TL, r"^Reassigned \d\. Service the pump to Person 17; they get it now", mark)
        message(w, P[17], r"your duties for[\s\S]*Service the pump")
        edited = current(w, TL, pump["message_id"], "reassigned to")
        assert "reassigned to Person 17" in edited["text"]
        with Session(w.engine) as session:
            assert session.exec(select(PendingInput)).all() == []  # the question is answered
