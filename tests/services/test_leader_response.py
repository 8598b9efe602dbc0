"""Leader response per level (bot/store/response.py, models/response.py) on SQLite and
PostgreSQL: from an escalation's message reaching a leader to that leader's first action on
the item after it; reminders, unsent notices, other people's actions, actions before the
message and items outside the period do not count. Expected values computed by hand."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.store.response import leader_response
from models.response import Response, levels, nearest_rank, summarise
from models.tables import AuditEvent, Leadership, Notice, Outbox
from tests.services.test_figures import Plant, z

DAY, OTHER_DAY = date(2026, 10, 20), date(2026, 10, 30)


def test_a_leaders_level_is_the_shallowest_unit_they_lead_or_deputise() -> None:
    parents = {1: None, 2: 1, 3: 2}
    assert levels(parents, [(7, 3)]) == {7: 2}
    assert levels(parents, [(7, 3), (7, 2), (8, 1)]) == {7: 1, 8: 0}


def test_nearest_rank_takes_a_measured_value() -> None:
    assert nearest_rank([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert nearest_rank([1.0, 2.0, 3.0, 4.0], 0.9) == 4.0
    assert nearest_rank([5.0], 0.9) == 5.0
    assert summarise([(1, None)]) == {1: Response(0, 1, None, None)}


def test_median_and_p90_per_level(engine: Engine) -> None:
    p = Plant()
    p.add_unit("plant", None)
    p.add_unit("ws", "plant")
    p.add_unit("team", "ws")
    for key, unit in (("pm", "plant"), ("head", "ws"), ("lead", "team"), ("w", "team")):
        p.add_person(key, unit)
    for _ in range(6):  # occurrences 1-6 on DAY, 7 on another day
        p.item("w", DAY, z(10, 20, 6), "open")
    p.item("w", OTHER_DAY, z(10, 30, 6), "open")
    p.store(engine)
    lead, head, pm, worker = (p.person[k] for k in ("lead", "head", "pm", "w"))
    leadership = [
        {"unit_id": p.unit["plant"], "role": "leader", "person_id": pm},
        {"unit_id": p.unit["ws"], "role": "leader", "person_id": head},
        {"unit_id": p.unit["team"], "role": "leader", "person_id": lead},
    ]
    # (occurrence, recipient, kind, sent at or None)
    notices = [
        (1, lead, "escalate", z(10, 20, 8)),  # acted 08:10 -> 600 s
        (2, lead, "block", z(10, 20, 9)),  # resolved 09:30 -> 1800 s
        (3, lead, "escalate", z(10, 20, 10)),  # nobody of hers acts: unanswered
        (4, lead, "escalate", z(10, 20, 11)),  # acted 10:59 (before) and 11:05 -> 300 s
        (5, head, "escalate", z(10, 20, 12)),  # excused 14:00 -> 7200 s
        (5, worker, "remind", z(10, 20, 5)),  # a reminder: not counted
        (6, head, "escalate", None),  # not sent yet: not counted
        (7, lead, "escalate", z(10, 30, 8)),  # another day: outside the period
    ]
    actions = [
        (1, lead, "escalation.acked", z(10, 20, 8, 10)),
        (2, lead, "block.resolved", z(10, 20, 9, 30)),
        (3, head, "escalation.acked", z(10, 20, 10, 5)),  # someone else's action
        (3, lead, "occurrence.opened", z(10, 20, 10, 6)),  # not a leader's action
        (4, lead, "escalation.renudged", z(10, 20, 10, 59)),
        (4, lead, "occurrence.reassigned", z(10, 20, 11, 5)),
        (5, head, "occurrence.excused", z(10, 20, 14)),
        (5, head, "escalation.acked", z(10, 20, 15)),  # a second action: the first counts
        (7, lead, "escalation.acked", z(10, 30, 8, 1)),
    ]
    with engine.begin() as conn:
        conn.execute(insert(Leadership), leadership)
        for index, (occ, recipient, kind, sent) in enumerate(notices, start=1):
            conn.execute(
                insert(Outbox),
                [{"id": index, "chat_id": recipient, "kind": "notice", "payload": {},
                  "state": "sent" if sent else "pending", "created_at": z(10, 20, 5),
                  "next_attempt_at": z(10, 20, 5), "sent_at": sent}],
            )  # fmt: skip
            conn.execute(
                insert(Notice),
                [{"occurrence_id": occ, "recipient_id": recipient, "step": f"l{index}",
                  "kind": kind, "deliver_at": z(10, 20, 5), "state": "sent",
                  "outbox_id": index, "created_at": z(10, 20, 5)}],
            )  # fmt: skip
        conn.execute(
            insert(AuditEvent),
            [{"at": at, "kind": kind, "actor_person_id": actor, "subject": f"occurrence:{occ}",
              "data": {}} for occ, actor, kind, at in actions],
        )  # fmt: skip
    with Session(engine) as session:
        found = leader_response(session, DAY, DAY)
    assert found == {
        2: Response(  # Tina, the team's leader: 300, 600, 1800 s, and one unanswered
            answered=3,
            unanswered=1,
            median=timedelta(seconds=600),  # the 2nd of 3
            p90=timedelta(seconds=1800),  # the 3rd of 3
        ),
        1: Response(1, 0, timedelta(seconds=7200), timedelta(seconds=7200)),  # Hans, the head
    }
    with Session(engine) as session:
        week = leader_response(session, DAY, OTHER_DAY)
    assert week[2] == Response(4, 1, timedelta(seconds=300), timedelta(seconds=1800))  # + 60 s
