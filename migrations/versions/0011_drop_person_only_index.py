"""drop ix_occurrence_person_id: ix_occurrence_person_day (person, day) serves its lookups

Every occurrence row written paid for both indexes; the composite one starts with the same
column, so a lookup by person alone uses it. Planning 10,000 people on PostgreSQL spends most of
its time in the server's index work.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("occurrence") as batch_op:
        batch_op.drop_index("ix_occurrence_person_id")


def downgrade() -> None:
    with op.batch_alter_table("occurrence") as batch_op:
        batch_op.create_index("ix_occurrence_person_id", ["person_id"], unique=False)
