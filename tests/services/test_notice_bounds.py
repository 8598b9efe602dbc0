"""Escalation messages stay inside Telegram's bounds by construction: whatever the names,
titles and notes hold and however many items a leader gets at once, every message (and every
later edit of it) is at most 4,096 characters with at most 100 buttons, and lists each item
exactly once. Rows are written directly (SQLite stores any length), so the bound does not
rest on the import's limits."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.render.notices import NOTE_LIMIT
from bot.services import notices
from bot.store import migrate
from bot.store.engine import make_engine
from models.occurrence import MOOT
from models.tables import Duty, Notice, Occurrence, Person, Reply, Unit
from models.text_limits import MAX_BUTTONS, TEXT_LIMIT

NOW = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
SETTINGS = Settings.model_validate({"telegram": {"bot_username": "execbot_test"}})
SERIAL = count(1)
STATUSES = ("open", "blocked", "late", "done", "excused")

# Characters as people type them: letters, spaces, newlines, emoji outside the BMP.
ALPHABET = "aZé ß\n-—⛔😀"
LENGTHS = (0, 1, 40, 199, 600, 1000, 2100, 4096, 5000)
Item = tuple[str, str, str, str, str]


def text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.choice(LENGTHS)))


def random_items(seed: int) -> list[Item]:
    """Up to 45 items with names, titles and notes from empty to 5,000 characters."""
    rng = random.Random(seed)
    return [
        (text(rng), text(rng), text(rng), rng.choice(STATUSES), rng.choice(("remind", "esc")))
        for _ in range(rng.choice((1, 4, 15, 16, 31, 45)))
    ]


EXTREMES: list[list[Item]] = [
    [("n" * 5000, "t" * 5000, "x" * 5000, "blocked", "esc")] * 45,  # everything at its longest
    [("Wanda Two", "Service the pump", "w" * 1000, "blocked", "esc")] * 4,  # the reported case
    [("😀" * 4096, "⛔" * 4096, "", "open", "esc")] * 16,
    [("", "", "", "late", "esc")] * 45,  # many short items: the button bound
    [("n" * 5000, "t" * 5000, "", "open", "remind")],
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("bounds") / "execbot.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _add(session: Session, row: object) -> int:
    session.add(row)
    session.flush()
    return int(row.id)  # type: ignore[attr-defined]


def build(session: Session, items: list[Item]) -> list[Notice]:
    """A leader and one notice per item, each about a duty of its own person."""
    serial = next(SERIAL)
    unit = _add(
        session, Unit(key=f"u{serial}", name="Unit", kind="team", created_at=NOW, updated_at=NOW)
    )
    leader = Person(
        key=f"lead{serial}", name="Lead", unit_id=unit, post="lead",
        telegram_user_id=10_000 + serial, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    leader_id = _add(session, leader)
    group = []
    for index, (name, title, note, status, kind) in enumerate(items):
        person = _add(
            session,
            Person(
                key=f"p{serial}-{index}",
                name=name,
                unit_id=unit,
                post="op",
                telegram_user_id=1_000_000 + serial * 100 + index,
                created_at=NOW,
                updated_at=NOW,
            ),
        )
        duty = _add(
            session,
            Duty(
                key=f"d{serial}-{index}",
                title=title,
                person_id=person,
                created_at=NOW,
                updated_at=NOW,
            ),
        )
        occ = Occurrence(
            duty_id=duty, person_id=person, day=date(2026, 11, 17), number=index + 1,
            nudge_at=NOW - timedelta(hours=2), due_at=NOW - timedelta(hours=1), status=status,
            status_at=NOW, blocked_at=NOW if status == "blocked" else None,
            promised_at=NOW if status == "late" else None, created_at=NOW,
        )  # fmt: skip
        occ_id = _add(session, occ)
        if status == "blocked":
            session.add(
                Reply(
                    occurrence_id=occ_id, person_id=person, kind="blocked", category="materials",
                    text=note or None, via="text", created_at=NOW,
                )
            )  # fmt: skip
        recipient = person if kind == "remind" else leader_id
        notice = Notice(
            occurrence_id=occ_id, recipient_id=recipient, step=f"l0@{index}",
            kind="remind" if kind == "remind" else "escalate", deliver_at=NOW, created_at=NOW,
        )  # fmt: skip
        group.append(notice)
        if index % 7 == 3:  # an item notified twice to the same person
            group.append(
                Notice(
                    occurrence_id=occ_id, recipient_id=recipient, step=f"l1@{index}",
                    kind=notice.kind, deliver_at=NOW, created_at=NOW,
                )
            )  # fmt: skip
    session.add_all(group)
    session.flush()
    return group


def check(text: str, markup: dict[str, object] | None) -> None:
    assert 0 < len(text) <= TEXT_LIMIT
    rows = markup["inline_keyboard"] if markup else []
    assert isinstance(rows, list)
    assert sum(len(row) for row in rows) <= MAX_BUTTONS
    for row in rows:
        for button in row:
            assert len(button["callback_data"].encode()) <= 64


@pytest.mark.parametrize(
    "items", [*EXTREMES, *(random_items(seed) for seed in range(25))], ids=lambda _: ""
)
def test_item3_every_escalation_message_fits_telegrams_limits(
    engine: Engine, items: list[Item]
) -> None:
    with Session(engine) as session:
        group = build(session, items)
        by_recipient: dict[int, list[Notice]] = {}
        for notice in group:
            by_recipient.setdefault(notice.recipient_id, []).append(notice)
        for recipient_group in by_recipient.values():
            messages = notices.queue_group(session, SETTINGS, recipient_group, NOW)
            listed: list[int] = []
            for outbox, part in messages:
                check(outbox.payload["text"], outbox.payload["reply_markup"])
                listed.extend(dict.fromkeys(n.occurrence_id for n in part))
            live = {
                n.occurrence_id
                for n in recipient_group
                if session.get(Occurrence, n.occurrence_id).status not in MOOT  # type: ignore[union-attr]
            }
            assert sorted(listed) == sorted(live)  # each live item in exactly one message
            # Edits: the items change (a long note arrives, somebody takes one); the
            # re-rendered message still fits.
            for _, part in messages:
                for notice in part:
                    occ = session.get(Occurrence, notice.occurrence_id)
                    assert occ is not None
                    occ.status, occ.blocked_at = "blocked", NOW
                    session.add(
                        Reply(
                            occurrence_id=occ.id or 0, person_id=occ.person_id, kind="blocked",
                            category="help", text="x" * 5000, via="text", created_at=NOW,
                        )
                    )  # fmt: skip
                session.flush()
                recipient = session.get(Person, part[0].recipient_id)
                assert recipient is not None
                check(*notices.render(session, SETTINGS, recipient, part))
        session.rollback()


def test_item3_a_long_note_is_cut_with_a_mark(engine: Engine) -> None:
    note = "The valve supplier " + "waits for the part " * 60
    with Session(engine) as session:
        [notice] = build(session, [("Wanda Two", "Service the pump", note, "blocked", "esc")])
        [(outbox, _)] = notices.queue_group(session, SETTINGS, [notice], NOW)
        text = outbox.payload["text"]
        quoted = note[: NOTE_LIMIT - 1].rstrip() + "…"
        assert text.endswith(f"⛔ blocked (Materials or tools): {quoted}")
        short = "The valve waits for the part from Keller."
        [notice] = build(session, [("Wanda Two", "Service the pump", short, "blocked", "esc")])
        [(outbox, _)] = notices.queue_group(session, SETTINGS, [notice], NOW)
        assert outbox.payload["text"].endswith(short)  # quoted in full
        session.rollback()
