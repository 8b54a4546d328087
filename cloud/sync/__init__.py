"""sync: each user's profile and memory document (sync/server.py), stored in PostgreSQL and fanned
out through Redis pub/sub, so replicas connected to different cloud processes see each other."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import HTTPConnection

from cloud.common.auth import connection_principal
from cloud.common.fanout import make_fanout
from cloud.common.service import Service
from cloud.sync.log import CheckedLog, PostgresLog
from sync.server import Backend, Peer, sync_router


async def authenticate(conn: HTTPConnection) -> Peer:
    principal = await connection_principal(conn, "sync")
    return Peer(principal.user_id, principal.device_id)


async def start(app: FastAPI) -> None:
    log = PostgresLog(app.state.sessions, compact_every=app.state.settings.sync_compact_every)

    async def whole_document(channel: str, _lost_at: float) -> list[bytes]:
        """After a lost subscription, the document as stored, as if from another replica (an origin
        no session has): an update applied twice changes nothing, so nothing published meanwhile is missed."""
        _, user_id, doc = channel.split(":", 2)  # sync:{user}:{doc} (sync/server.py)
        return [bytes(16) + await log.load(user_id, doc)]

    app.state.sync = Backend(CheckedLog(log), make_fanout(app.state.settings.redis_url, catch_up=whole_document))


async def stop(app: FastAPI) -> None:
    await app.state.sync.fanout.close()


service = Service("sync", sync_router(lambda conn: conn.app.state.sync, authenticate), start, stop)
