"""board indexes: a person's occurrences of one day

The leader's board reads the day's occurrences of a subtree's people; with only ``day`` and
``person_id`` indexed on their own, that meant the whole plant's day or every day of each
person. ``(person_id, day)`` finds exactly the rows the board counts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 16:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_occurrence_person_day", "occurrence", ["person_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_occurrence_person_day", table_name="occurrence")
