"""A person's language at import, on SQLite and PostgreSQL: the org file's and the HR CSV's
matched to the catalogues and stored as the catalogue spells it; an unknown one is an import
error naming file, row and value with the languages there are; a language the files name wins
over the person's own choice, and one they do not name keeps Telegram's or the chosen one, else
becomes the plant's default."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.render import texts
from bot.services.org_import import import_org
from models.tables import AuditEvent, Person
from tests.catalogues import catalogues as catalogues  # the fixture
from tests.conftest import NOW

UNITS = '[[units]]\nkey = "plant"\nname = "Plant"\nkind = "plant"\n'


def person(key: str, language: str | None = None) -> str:
    line = f'language = "{language}"\n' if language is not None else ""
    return f'[[people]]\nkey = "{key}"\nname = "{key.title()}"\nunit = "plant"\npost = "op"\n{line}'


def org_file(tmp_path: Path, *people: str, name: str = "org.toml") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([UNITS, *people]), encoding="utf-8")
    return path


def languages_of(engine: Engine) -> dict[str, tuple[str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(Person)).all()
        return {p.key: (p.language, p.language_source) for p in rows}


def set_source(engine: Engine, key: str, language: str, source: str) -> None:
    with Session(engine) as session:
        session.execute(
            update(Person)
            .where(col(Person.key) == key)
            .values(language=language, language_source=source)
        )
        session.commit()


def test_named_languages_are_stored_as_the_catalogue_spells_them(
    catalogues: Path, engine: Engine, tmp_path: Path
) -> None:
    path = org_file(
        tmp_path, person("anna", "zh-cn"), person("boris", "ru-RU"), person("carl", "EN"),
        person("dora"),
    )  # fmt: skip
    result = import_org(engine, [path], NOW, dry_run=False, default_language="ru")
    assert result.problems == [], result.report()
    assert languages_of(engine) == {
        "anna": ("zh-Hans", "org"),
        "boris": ("ru", "org"),
        "carl": ("en", "org"),
        "dora": ("ru", "default"),
    }
    again = import_org(engine, [path], NOW, dry_run=False, default_language="ru")
    assert again.problems == [] and not again.written  # "zh-cn" again is no change


def test_an_unknown_language_is_an_error_naming_file_row_value_and_the_languages(
    catalogues: Path, engine: Engine, tmp_path: Path
) -> None:
    spoken = ", ".join(texts.languages())
    assert spoken == ", ".join(sorted(p.stem for p in catalogues.glob("*.toml")))
    toml = org_file(tmp_path, person("anna", "en"), person("boris", "fr"))
    people = tmp_path / "people.csv"
    people.write_text(
        "Employee ID,Full Name,Department,Position,Language\n"
        "carl,Carl,plant,op,ru\n"
        "dora,Dora,plant,op,klingon\n"
        "emil,Emil,plant,op,\n",
        encoding="utf-8",
    )
    result = import_org(engine, [toml], NOW, dry_run=False)
    assert [str(p) for p in result.problems] == [
        f"{toml}: people[2], language: 'fr' is not a language execbot speaks ({spoken})"
    ]
    units = org_file(tmp_path, name="units.toml")
    result = import_org(engine, [units, people], NOW, dry_run=False)
    assert [str(p) for p in result.problems] == [
        f"{people}: row 3, language: 'klingon' is not a language execbot speaks ({spoken})"
    ]
    assert "rejected: 1 problem, nothing was written" in result.report()
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Person)).one() == 0
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == 0


def test_a_named_language_wins_and_an_unnamed_one_keeps_telegrams_or_the_choice(
    catalogues: Path, engine: Engine, tmp_path: Path
) -> None:
    keys = ("tg", "chose", "dflt", "org")
    first = org_file(tmp_path, *(person(key, "en") for key in keys))
    assert import_org(engine, [first], NOW, dry_run=False).written
    set_source(engine, "tg", "ru", "telegram")  # as /start with language_code "ru" does
    set_source(engine, "chose", "zh-Hans", "chosen")  # as a /language tap does
    set_source(engine, "dflt", "en", "default")

    silent = org_file(tmp_path, *(person(key) for key in keys), name="silent.toml")
    result = import_org(engine, [silent], NOW, dry_run=False, default_language="ru")
    assert result.problems == [], result.report()
    assert languages_of(engine) == {
        "tg": ("ru", "telegram"),
        "chose": ("zh-Hans", "chosen"),
        "dflt": ("ru", "default"),
        "org": ("ru", "default"),  # the file no longer names it: the plant's default
    }
    assert "~ person org: language: 'en' -> 'ru'; language_source: 'org' -> 'default'" in (
        result.report()
    )

    named = org_file(tmp_path, *(person(key, "en") for key in keys), name="named.toml")
    assert import_org(engine, [named], NOW, dry_run=False, default_language="ru").written
    assert languages_of(engine) == {key: ("en", "org") for key in keys}
