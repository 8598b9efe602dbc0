"""tap cost: occurrences are found by the nudge message that lists them

Every answer re-renders the nudge message that lists its duty, reading that message's
occurrences by ``nudge_outbox_id``; without an index that read scanned every occurrence
(milliseconds per tap on a plant of thousands).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("occurrence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_occurrence_nudge_outbox_id"), ["nudge_outbox_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("occurrence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_occurrence_nudge_outbox_id"))
