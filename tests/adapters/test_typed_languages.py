"""Typed replies in the person's language: a Russian-speaking worker types «готово 1» and
«проблема 2 жду клапан»; both are recorded (the second as waiting on others, the note kept as
typed) and confirmed in Russian. English's words keep working for them."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from models.tables import Person, Reply
from tests.adapters.harness import Harness
from tests.adapters.org import WALT, morning


async def test_a_russian_worker_types_answers_in_russian(h: Harness) -> None:
    with Session(h.engine) as session:
        session.execute(
            update(Person)
            .where(col(Person.key) == "walt")
            .values(language="ru", language_source="org")
        )
        session.commit()
    await morning(h)
    await h.message(WALT, "ваши задачи на")
    await h.people.send_text(WALT, "готово 1")
    await h.message(WALT, r"^Принято: 1\. Close the valve — выполнено\.$")
    await h.people.send_text(WALT, "Проблема 2 жду клапан")
    await h.message(WALT, r"^Принято: 2\. Fix the pump — проблема \(")
    await h.people.send_text(WALT, "later 3 15:30")
    await h.message(WALT, r"^Принято: 3\. Clean the filter")
    with Session(h.engine) as session:
        rows = session.exec(select(Reply).order_by(col(Reply.id))).all()
    assert [(r.kind, r.category, r.text) for r in rows] == [
        ("done", None, None),
        ("blocked", "waiting", "жду клапан"),
        ("later", None, None),  # the promised time is in new_due_at
    ]
