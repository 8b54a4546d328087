"""Alembic environment: run against the connection `cloud.common.db.migrate` hands in."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import cloud.tables  # noqa: F401  (registers every table on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` on the command line: COMPANION_CLOUD_DATABASE_URL, sync driver
    raise SystemExit("run migrations through `companion cloud migrate`")
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
