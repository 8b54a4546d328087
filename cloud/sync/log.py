"""The durable update log in the cloud's database: append-only rows, compacted into a snapshot."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from cloud.tables import SyncSnapshot, SyncUpdate, now
from sync import shape
from sync.protocol import squash
from sync.server import merge


class PostgresLog:
    """Idempotent by digest (a resent update is stored once). Every `compact_every` updates fold
    into the snapshot in one transaction, so the history stays bounded however long a user lives."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, compact_every: int = 64) -> None:
        self.sessions = sessions
        self.compact_every = compact_every

    async def append(self, user_id: str, doc: str, update: bytes, device_id: str | None) -> bool:
        digest = hashlib.sha256(update).hexdigest()
        async with self.sessions() as session:
            session.add(SyncUpdate(user_id=user_id, doc=doc, digest=digest, data=update, device_id=device_id))
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return False
            pending = await session.scalar(select(func.count()).select_from(SyncUpdate).where(_mine(user_id, doc)))
        if (pending or 0) >= self.compact_every:
            await self.compact(user_id, doc)
        return True

    async def load(self, user_id: str, doc: str) -> bytes:
        async with self.sessions() as session:
            snapshot = await session.get(SyncSnapshot, (user_id, doc))
            rows = await session.scalars(
                select(col(SyncUpdate.data)).where(_mine(user_id, doc)).order_by(col(SyncUpdate.id))
            )
            return merge(snapshot.data if snapshot else None, *rows)

    async def compact(self, user_id: str, doc: str) -> int:
        """Folds the updates into the snapshot. Rows are locked so two processes do not fold twice."""
        async with self.sessions() as session, session.begin():
            snapshot = await session.get(SyncSnapshot, (user_id, doc), with_for_update=True)
            query = select(col(SyncUpdate.id), col(SyncUpdate.data)).where(_mine(user_id, doc))
            rows = (await session.execute(query.order_by(col(SyncUpdate.id)).with_for_update(skip_locked=True))).all()
            if not rows:
                return 0
            merged = squash(snapshot.data if snapshot else b"", *[r.data for r in rows])
            if snapshot is None:
                session.add(SyncSnapshot(user_id=user_id, doc=doc, data=merged, upto_id=rows[-1].id, compactions=1))
            else:
                snapshot.data, snapshot.upto_id, snapshot.updated_at = merged, rows[-1].id, now()
                snapshot.compactions += 1
            await session.execute(delete(SyncUpdate).where(col(SyncUpdate.id).in_([r.id for r in rows])))
            return len(rows)

    async def stats(self, user_id: str, doc: str) -> dict[str, Any]:
        async with self.sessions() as session:
            snapshot = await session.get(SyncSnapshot, (user_id, doc))
            size = func.coalesce(func.sum(func.length(col(SyncUpdate.data))), 0)
            count, size = (await session.execute(select(func.count(), size).where(_mine(user_id, doc)))).one()
        return {
            "snapshot_bytes": len(snapshot.data) if snapshot else 0,
            "updates": int(count),
            "log_bytes": int(size),
            "compactions": snapshot.compactions if snapshot else 0,
        }


class CheckedLog:
    """The log, refusing updates that would give the document a shape its readers cannot use."""

    def __init__(self, log: PostgresLog) -> None:
        self.inner = log

    async def append(self, user_id: str, doc: str, update: bytes, device_id: str | None) -> bool:
        forgets = shape.check(await self.inner.load(user_id, doc), update)  # SYNC_BAD_SHAPE: nothing stored
        stored = await self.inner.append(user_id, doc, update, device_id)
        if stored and forgets:  # a forgotten face's numbers go from the history now (Yjs drops deleted content)
            await self.inner.compact(user_id, doc)
        return stored

    async def load(self, user_id: str, doc: str) -> bytes:
        return await self.inner.load(user_id, doc)

    async def stats(self, user_id: str, doc: str) -> dict[str, Any]:
        return await self.inner.stats(user_id, doc)


def _mine(user_id: str, doc: str) -> Any:
    return (col(SyncUpdate.user_id) == user_id) & (col(SyncUpdate.doc) == doc)
