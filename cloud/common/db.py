"""The database: PostgreSQL (asyncpg) in production, SQLite (WAL) as the embedded default.

The schema is owned by Alembic migrations (cloud/migrations); `migrate()` brings any
database to head at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from cloud.common.errors import DatabaseUnavailable

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
log = logging.getLogger("cloud.db")


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    # A connect timeout of 5 s, not asyncpg's 60: a host that is gone makes requests wait that long.
    engine = create_async_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_timeout=10, connect_args={"timeout": 5}
    )

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        # asyncpg raises plain OSErrors when the server is gone, which SQLAlchemy passes on unwrapped:
        # name them here, so the API answers 503 DATABASE_UNAVAILABLE rather than 500 INTERNAL.
        try:
            return dialect.connect(*cargs, **cparams)
        except (OSError, TimeoutError) as err:
            raise DatabaseUnavailable() from err

    return engine


async def migrate(engine: AsyncEngine) -> None:
    from alembic import command
    from alembic.config import Config

    def upgrade(connection: Any) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several processes start at once behind a load balancer: one migrates, the rest wait.
            await conn.execute(text("SELECT pg_advisory_xact_lock(7274551)"))
        await conn.run_sync(upgrade)


async def session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request. Its clean-up runs after the answer is sent, so a failure there (a
    connection that died meanwhile) is logged, never raised: nothing could answer it any more."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessions
    s = maker()
    try:
        yield s
    finally:
        try:
            await s.close()
        except Exception as err:
            log.warning("db.session_close_failed", extra={"error": type(err).__name__})


SessionDep = Annotated[AsyncSession, Depends(session)]
