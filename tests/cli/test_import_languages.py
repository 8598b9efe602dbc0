"""``execbot org import`` and languages: a person the files give no language gets the config's
``[plant] language``; an unknown one is refused with file, row, value and the languages there
are; a ``[plant] language`` execbot does not speak stops the command before anything is read."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from bot.render import texts
from bot.store.engine import make_engine
from models.tables import Person
from tests.cli.runner import execbot

ORG = """
[[units]]
key = "plant"
name = "Plant"
kind = "plant"

[[people]]
key = "anna"
name = "Anna"
unit = "plant"
post = "operator"

[[people]]
key = "li"
name = "Li"
unit = "plant"
post = "operator"
language = "{li}"
"""


def languages(db_url: str) -> dict[str, tuple[str, str]]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            people = session.exec(select(Person)).all()
            return {p.key: (p.language, p.language_source) for p in people}
    finally:
        engine.dispose()


def test_the_plant_language_and_an_unknown_one(tmp_path: Path, db_url: str) -> None:
    spoken = texts.languages()
    default = next(lang for lang in spoken if lang != "en") if len(spoken) > 1 else "en"
    config = f'[database]\nurl = "{db_url}"\n[plant]\nlanguage = "{default.lower()}"\n'
    (tmp_path / "config.toml").write_text(config)
    (tmp_path / "org.toml").write_text(ORG.format(li="Klingon"))
    result = execbot(tmp_path, "org", "import", "org.toml")
    assert result.returncode == 1, result.stdout + result.stderr
    expected = f"'Klingon' is not a language execbot speaks ({', '.join(spoken)})"
    assert f"org.toml: people[2], language: {expected}" in result.stdout, result.stdout

    (tmp_path / "org.toml").write_text(ORG.format(li="EN-us"))
    result = execbot(tmp_path, "org", "import", "org.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert languages(db_url) == {"anna": (default, "default"), "li": ("en", "org")}

    (tmp_path / "config.toml").write_text(config.replace(default.lower(), "tlh"))
    result = execbot(tmp_path, "org", "import", "org.toml")
    assert result.returncode != 0
    assert "[plant] language: 'tlh' is not a language execbot speaks" in (
        result.stdout + result.stderr
    )
