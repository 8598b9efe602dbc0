"""replies: one update may answer several duties ("done 1 3")

A reply's update id was unique on its own, so a typed line naming two numbers failed on its
second row. It is now unique together with the occurrence: an update delivered again still
stores nothing twice.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 11:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_constraint("uq_reply_telegram_update_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_reply_telegram_update_id_occurrence_id", ["telegram_update_id", "occurrence_id"]
        )


def downgrade() -> None:
    # Lines that answered several duties keep their first row's update id only.
    op.execute(
        "UPDATE reply SET telegram_update_id = NULL WHERE telegram_update_id IS NOT NULL"
        " AND id NOT IN (SELECT MIN(id) FROM reply WHERE telegram_update_id IS NOT NULL"
        " GROUP BY telegram_update_id)"
    )
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_constraint("uq_reply_telegram_update_id_occurrence_id", type_="unique")
        batch_op.create_unique_constraint("uq_reply_telegram_update_id", ["telegram_update_id"])
