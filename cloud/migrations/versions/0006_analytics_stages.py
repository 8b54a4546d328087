"""analytics: a turn's latency stage by stage (ms), as the hub's telemetry reports it

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("analytics_events", sa.Column("stages", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("analytics_events", "stages")
