"""The server side of sync: a FastAPI router over any durable update log and any fan-out.

    POST /v1/sync/{doc}       batch: the client's messages in, ours out (application/octet-stream)
    WS   /v1/sync/{doc}/ws    live: the same messages, plus others' updates as they arrive
    GET  /v1/sync/{doc}       status: size, updates since the last compaction

The cloud wires it to PostgreSQL and Redis (cloud/sync); `MemoryLog` and `MemoryFanOut` are the
in-process equivalents. Authentication is the caller's: `authenticate` gets the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pycrdt
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from starlette.requests import HTTPConnection

from sync import protocol
from sync.errors import SyncError
from sync.protocol import EMPTY_UPDATE, Kind

MAX_MESSAGE = 4 * 1024 * 1024
DOC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class Peer:
    """Who is syncing: the user whose document it is, and the device (hub or app), if any."""

    user_id: str
    device_id: str | None = None


class UpdateLog(Protocol):
    async def append(self, user_id: str, doc: str, update: bytes, device_id: str | None) -> bool:
        """Store durably; False if this exact update was stored before (idempotent)."""
        ...

    async def load(self, user_id: str, doc: str) -> bytes:
        """The whole document as one update: the snapshot merged with the updates since."""
        ...

    async def stats(self, user_id: str, doc: str) -> dict[str, Any]: ...


class FanOut(Protocol):
    async def publish(self, channel: str, data: bytes) -> None: ...

    async def close(self) -> None: ...

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[AsyncIterator[bytes]]: ...


Authenticate = Callable[[HTTPConnection], Awaitable[Peer]]


@dataclass
class Backend:
    log: UpdateLog
    fanout: FanOut


BackendFor = Callable[[HTTPConnection], Backend]  # the app's backend, found when a request comes


class MemoryLog:
    """In-process, for one process and tests: the same rules as the PostgreSQL log."""

    def __init__(self, compact_every: int = 64) -> None:
        self.compact_every = compact_every
        self.snapshots: dict[tuple[str, str], bytes] = {}
        self.updates: dict[tuple[str, str], list[bytes]] = defaultdict(list)
        self.seen: set[bytes] = set()
        self.compactions = 0

    async def append(self, user_id: str, doc: str, update: bytes, device_id: str | None) -> bool:
        key = protocol.digest(user_id.encode() + b"/" + doc.encode() + b"/" + update)
        if key in self.seen:
            return False
        self.seen.add(key)
        log = self.updates[(user_id, doc)]
        log.append(update)
        if len(log) >= self.compact_every:
            self.snapshots[(user_id, doc)] = protocol.squash(self.snapshots.get((user_id, doc), b""), *log)
            log.clear()
            self.compactions += 1
        return True

    async def load(self, user_id: str, doc: str) -> bytes:
        return merge(self.snapshots.get((user_id, doc)), *self.updates[(user_id, doc)])

    async def stats(self, user_id: str, doc: str) -> dict[str, Any]:
        snapshot = self.snapshots.get((user_id, doc), b"")
        log = self.updates[(user_id, doc)]
        return {
            "snapshot_bytes": len(snapshot),
            "updates": len(log),
            "log_bytes": sum(map(len, log)),
            "compactions": self.compactions,
        }


def merge(snapshot: bytes | None, *updates: bytes) -> bytes:
    parts = [u for u in (snapshot, *updates) if u]
    if not parts:
        return EMPTY_UPDATE
    return parts[0] if len(parts) == 1 else pycrdt.merge_updates(*parts)


class MemoryFanOut:
    def __init__(self) -> None:
        self.queues: dict[str, set[asyncio.Queue[bytes]]] = defaultdict(set)

    async def publish(self, channel: str, data: bytes) -> None:
        for queue in list(self.queues[channel]):
            queue.put_nowait(data)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.queues[channel].add(queue)

        async def items() -> AsyncIterator[bytes]:
            while True:
                yield await queue.get()

        try:
            yield items()
        finally:
            self.queues[channel].discard(queue)

    async def close(self) -> None:
        self.queues.clear()


class ServerSession:
    """One client's conversation: answers its messages, stores and fans out its updates."""

    def __init__(self, log: UpdateLog, fanout: FanOut, peer: Peer, doc: str) -> None:
        self.log, self.fanout, self.peer, self.doc = log, fanout, peer, doc
        self.origin = uuid.uuid4().bytes  # to skip our own updates when they come back from the fan-out
        self.channel = f"sync:{peer.user_id}:{doc}"

    async def opening(self) -> list[bytes]:
        return [protocol.step1(pycrdt.get_state(await self.log.load(self.peer.user_id, self.doc)))]

    async def handle(self, data: bytes) -> list[bytes]:
        if len(data) > MAX_MESSAGE:
            raise SyncError(f"a sync message of {len(data)} bytes (at most {MAX_MESSAGE})", code="SYNC_TOO_LARGE")
        if protocol.is_awareness(data):
            return []  # presence (cursors, "online"): a stock y-websocket client sends it; not stored
        message = protocol.decode(data)
        if message.kind is Kind.STEP1:
            whole = await self.log.load(self.peer.user_id, self.doc)
            return [protocol.step2(pycrdt.get_update(whole, message.payload))]
        if message.payload == EMPTY_UPDATE:
            return []
        protocol.check_update(message.payload)
        if await self.log.append(self.peer.user_id, self.doc, message.payload, self.peer.device_id):
            await self.fanout.publish(self.channel, self.origin + message.payload)
        return [protocol.ack(message.payload)]  # stored (now or before): the client may forget it


def sync_router(backend: BackendFor, authenticate: Authenticate, *, prefix: str = "/v1/sync") -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["sync"])

    def bad_doc(doc: str) -> JSONResponse | None:
        if DOC_NAME.match(doc):
            return None
        return _error(404, "SYNC_UNKNOWN_DOC", "document names are lower-case letters, digits, - and _")

    @router.post(
        "/{doc}",
        summary="Batch sync: y-protocols messages in, y-protocols messages out",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    async def batch(doc: str, request: Request) -> Response:
        peer = await authenticate(request)
        if (bad := bad_doc(doc)) is not None:
            return bad
        parts = backend(request)
        session = ServerSession(parts.log, parts.fanout, peer, doc)
        out: list[bytes] = []
        try:
            for data in protocol.split(await request.body()):
                out += await session.handle(data)
        except SyncError as err:
            return _error(413 if err.code == "SYNC_TOO_LARGE" else 400, err.code, err.message)
        out += await session.opening()  # our state vector last: the client learns what we hold
        return Response(b"".join(out), media_type="application/octet-stream")

    @router.get("/{doc}", summary="What the server holds of a document")
    async def status(doc: str, request: Request) -> Any:
        peer = await authenticate(request)
        if (bad := bad_doc(doc)) is not None:
            return bad
        log = backend(request).log
        whole = await log.load(peer.user_id, doc)
        return {"doc": doc, "bytes": len(whole), **await log.stats(peer.user_id, doc)}

    @router.websocket("/{doc}/ws")
    async def live(ws: WebSocket, doc: str) -> None:
        # Accept first, then close with a code: a browser sees only "403" for a refused handshake.
        await ws.accept()
        try:
            peer = await authenticate(ws)
        except Exception as err:  # the caller's auth errors carry a stable code
            await ws.close(
                code=4403 if getattr(err, "status", 401) == 403 else 4401,
                reason=str(getattr(err, "code", "UNAUTHORIZED")),
            )
            return
        if not DOC_NAME.match(doc):
            await ws.close(code=4404, reason="SYNC_UNKNOWN_DOC")
            return
        parts = backend(ws)
        session = ServerSession(parts.log, parts.fanout, peer, doc)
        async with parts.fanout.subscribe(session.channel) as others:
            relay = asyncio.create_task(_relay(ws, session, others))
            try:
                for data in await session.opening():
                    await ws.send_bytes(data)
                while True:
                    data = await ws.receive_bytes()
                    for reply in await session.handle(data):
                        await ws.send_bytes(reply)
            except WebSocketDisconnect:
                pass
            except SyncError as err:
                await ws.close(code=1009 if err.code == "SYNC_TOO_LARGE" else 1003, reason=err.code)
            except KeyError:  # a text frame: receive_bytes finds no "bytes"
                await ws.close(code=1003, reason="SYNC_BAD_MESSAGE")
            finally:
                relay.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relay

    return router


async def _relay(ws: WebSocket, session: ServerSession, others: AsyncIterator[bytes]) -> None:
    async for data in others:
        if data[:16] != session.origin:
            await ws.send_bytes(protocol.update(data[16:]))


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
