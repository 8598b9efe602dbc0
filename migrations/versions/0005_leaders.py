"""leaders: who a reassigned occurrence went to (the escalation messages name them)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("occurrence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reassigned_to", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_occurrence_reassigned_to_person"), "person", ["reassigned_to"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("occurrence", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_occurrence_reassigned_to_person"), type_="foreignkey"
        )
        batch_op.drop_column("reassigned_to")
