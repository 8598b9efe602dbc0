"""language source: where a person's language came from

``person.language`` is the language a person reads; ``language_source`` says where it came
from, so an import knows what it may change: "org" (the org file or HR CSV named it),
"telegram" (Telegram's language_code at /start), "chosen" (/language) or "default" (the
plant's ``[plant] language``).

Existing people: before this revision the only way to a language was the org file, whose
default was "en". A language other than "en" was therefore named there: "org". An "en" may have
been named or defaulted, which the rows cannot tell; "default" is the reading that lets
Telegram's language or the plant's language apply, and the next import that names "en" for
that person makes it "org" again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite has it, with a default): a batch copy of ``person`` would drop a
    # table that others reference, which SQLite refuses with foreign keys on.
    op.add_column(
        "person",
        sa.Column(
            "language_source", sa.String(length=10), nullable=False, server_default="default"
        ),
    )
    op.execute("UPDATE person SET language_source = 'org' WHERE language <> 'en'")


def downgrade() -> None:
    op.drop_column("person", "language_source")  # SQLite 3.35+ drops a column in place
