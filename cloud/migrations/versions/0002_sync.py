"""sync: append-only updates and compacted snapshots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_updates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(length=32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("doc", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "doc", "digest", name="uq_sync_update_digest"),
    )
    op.create_index("ix_sync_updates_user_doc_id", "sync_updates", ["user_id", "doc", "id"])
    op.create_table(
        "sync_snapshots",
        sa.Column("user_id", sa.String(length=32), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("doc", sa.String(length=64), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("upto_id", sa.BigInteger(), nullable=False),
        sa.Column("compactions", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sync_snapshots")
    op.drop_index("ix_sync_updates_user_doc_id", table_name="sync_updates")
    op.drop_table("sync_updates")
