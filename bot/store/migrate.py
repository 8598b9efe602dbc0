"""Schema migrations through Alembic, driven in code (no alembic.ini needed at run time).

``schema_state`` tells whether a database is empty, behind, current, or newer than this code;
``execbot run`` refuses a newer schema rather than write rows an older release does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

import migrations

SCRIPT_LOCATION = str(Path(migrations.__file__).parent)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@dataclass(frozen=True, slots=True)
class SchemaState:
    current: str | None
    head: str
    known: bool  # the current revision is one this code ships

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def newer_than_code(self) -> bool:
        return self.current is not None and not self.known


def schema_state(engine: Engine) -> SchemaState:
    script = ScriptDirectory.from_config(alembic_config())
    current = current_revision(engine)
    known = current is None or any(rev.revision == current for rev in script.walk_revisions())
    return SchemaState(current=current, head=head_revision(), known=known)


class SchemaTooNew(RuntimeError):
    pass


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision``; refuse one whose schema this code does not know."""
    state = schema_state(engine)
    if state.newer_than_code:
        raise SchemaTooNew(newer_schema_message(state))
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def newer_schema_message(state: SchemaState) -> str:
    return (
        f"the database schema is at revision {state.current}, which this execbot does not know "
        f"(its newest is {state.head}): the database was upgraded by a newer execbot. "
        "Run that newer release, or restore a backup made before the upgrade."
    )
