"""analytics: events from hubs, idempotent by event id

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 02:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_events",
        sa.Column("user_id", sa.String(length=32), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("event_id", sa.String(length=64), primary_key=True),
        sa.Column("hub_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("route", sa.String(length=16), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("device", sa.String(length=128), nullable=True),
        sa.Column("transcript", sa.String(length=2000), nullable=True),
    )
    op.create_index("ix_analytics_events_hub_id", "analytics_events", ["hub_id"])
    op.create_index("ix_analytics_events_at", "analytics_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_analytics_events_at", table_name="analytics_events")
    op.drop_index("ix_analytics_events_hub_id", table_name="analytics_events")
    op.drop_table("analytics_events")
