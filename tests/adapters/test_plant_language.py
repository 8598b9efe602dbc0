"""A changed ``[plant] language`` reaches the people who read the plant's default at the next
start (not only at the next import); nobody whose language the org file named, who chose one
with /language or brought one from Telegram is touched."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from sqlmodel import col, select

from models.tables import Person
from tests.adapters.harness import harness
from tests.adapters.org import CHATS, CONFIG, ORG, START, W1, WALT


async def test_the_next_start_brings_default_people_to_the_new_plant_language(
    tmp_path: Path, template_db: Path
) -> None:
    config = CONFIG + '[plant]\nlanguage = "de"\n'
    async with harness(tmp_path, template_db, START, config_extra=config) as h:
        h.import_org(ORG)
        await h.bind(CHATS)
        with h.session() as session:  # as if imported while the plant still read English
            session.execute(update(Person).values(language="en", language_source="default"))
            for key, source in (("walt", "chosen"), ("tl", "org"), ("w1", "telegram")):
                session.execute(
                    update(Person)
                    .where(col(Person.key) == key)
                    .values(language="ru" if key == "walt" else "en", language_source=source)
                )
            session.commit()
        await h.start_bot()
        with h.session() as session:
            people = {p.key: p.language for p in session.exec(select(Person)).all()}
        assert people["walt"] == "ru" and people["tl"] == "en" and people["w1"] == "en"
        defaults = {k: v for k, v in people.items() if k not in {"walt", "tl", "w1"}}
        assert defaults and set(defaults.values()) == {"de"}
        await h.run_pass("plan", "nudges")
        await h.message(WALT, "ваши задачи на")
        await h.message(W1, "your duties for")
