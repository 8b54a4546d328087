"""sync: each user's profile and memory document (sync/server.py), stored in PostgreSQL and fanned
out through Redis pub/sub, so replicas connected to different cloud processes see each other."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import HTTPConnection

from cloud.common.errors import ApiError
from cloud.common.service import Service
from cloud.common.tokens import read_access
from cloud.sync.fanout import make_fanout
from cloud.sync.log import PostgresLog
from sync.server import Backend, Peer, sync_router


async def authenticate(conn: HTTPConnection) -> Peer:
    """A bearer token in the Authorization header, or `?access_token=` for browsers' WebSockets.
    Users hold every scope; a hub or an app needs `sync`. Revoked devices are refused."""
    state = conn.app.state
    header = conn.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else conn.query_params.get("access_token", "")
    if not token:
        raise ApiError("sync needs a bearer token", code="TOKEN_MISSING", status=401)
    principal = read_access(state.signing_key, token)
    if principal.device_id and await state.store.get(f"revoked:{principal.device_id}"):
        raise ApiError("this device's access has been revoked", code="TOKEN_REVOKED", status=401)
    if principal.device_id and "sync" not in principal.scopes:
        raise ApiError("this token lacks the 'sync' scope", code="SCOPE_MISSING", status=403)
    return Peer(principal.user_id, principal.device_id)


async def start(app: FastAPI) -> None:
    log = PostgresLog(app.state.sessions, compact_every=app.state.settings.sync_compact_every)
    app.state.sync = Backend(log, make_fanout(app.state.settings.redis_url))


async def stop(app: FastAPI) -> None:
    await app.state.sync.fanout.close()


service = Service("sync", sync_router(lambda conn: conn.app.state.sync, authenticate), start, stop)
