"""The client side of sync (hub or Python app): one session logic, carried by WebSocket (live)
or HTTP (batch). Resumable: every session starts from state vectors, so nothing is resent that
the other side has; idempotent: an update applied twice changes nothing."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from sync import protocol
from sync.errors import SyncError
from sync.protocol import Kind
from sync.replica import Replica

log = logging.getLogger(__name__)
TokenSource = Callable[[], Awaitable[str]]


class SyncSession:
    """What to say and how to answer, whatever the transport."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.inflight: dict[bytes, list[int]] = {}  # digest of a sent update -> its outbox rows
        self.received = 0
        self.acked = 0

    def opening(self) -> list[bytes]:
        return [protocol.step1(self.replica.doc.state_vector()), *self.outgoing()]

    def outgoing(self) -> list[bytes]:
        """The outbox, merged into one update (rows already in flight are resent: harmless)."""
        pending = self.replica.pending()
        if pending is None:
            return []
        ids, merged = pending
        self.inflight[protocol.digest(merged)] = ids
        return [protocol.update(merged)]

    def handle(self, data: bytes) -> list[bytes]:
        """One message in; the replies to send."""
        digest = protocol.read_ack(data)
        if digest is not None:
            ids = self.inflight.pop(digest, None)
            if ids:
                self.replica.acknowledged(ids)
                self.acked += len(ids)
            return []
        if protocol.is_awareness(data):
            return []
        message = protocol.decode(data)
        if message.kind is Kind.STEP1:
            return [protocol.step2(self.replica.doc.diff(message.payload))]
        protocol.check_update(message.payload)
        self.replica.receive(message.payload)
        self.received += 1
        return []


async def sync_http(
    replica: Replica,
    base_url: str,
    token: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout_s: float = 15.0,
) -> dict[str, Any]:
    """One batch round: our state vector and outbox up, what we lack and the acknowledgements down."""
    session = SyncSession(replica)
    started = time.perf_counter()
    body = b"".join(session.opening())
    async with httpx.AsyncClient(base_url=base_url, transport=transport, timeout=timeout_s) as http:
        try:
            response = await http.post(
                f"/v1/sync/{replica.name}",
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"},
            )
        except httpx.HTTPError as err:
            raise SyncError(f"cannot reach the sync service ({type(err).__name__})", code="SYNC_UNREACHABLE") from err
    if response.status_code != 200:
        raise _refused(response)
    for data in protocol.split(response.content):
        session.handle(data)
    result = {
        "sent_bytes": len(body),
        "received_bytes": len(response.content),
        "acknowledged": session.acked,
        "pending": len(replica.store.outbox(replica.name)),
        "ms": round(1000 * (time.perf_counter() - started), 1),
    }
    replica.store.note(replica.name, "synced", transport="http", **result)
    return result


def _refused(response: httpx.Response) -> SyncError:
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    code = error.get("code", "SYNC_REFUSED") if isinstance(error, dict) else "SYNC_REFUSED"
    return SyncError(f"the sync service answered {response.status_code}: {error.get('message', '')}", code=code)


class LiveSync:
    """Keeps a WebSocket open: local changes go up as they happen, others' come down. Reconnects
    with backoff; the outbox keeps whatever could not be sent."""

    def __init__(self, replica: Replica, base_url: str, token: TokenSource, *, max_backoff_s: float = 30.0) -> None:
        self.replica = replica
        self.url = base_url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/")
        self.url += f"/v1/sync/{replica.name}/ws"
        self.token = token
        self.max_backoff_s = max_backoff_s
        self.connected = asyncio.Event()
        self.session: SyncSession | None = None
        self.answered = False  # the service spoke on the last connection (more than accepting it)
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()

        def local_change(_: bytes) -> None:
            loop.call_soon_threadsafe(self._wake.set)

        self.replica.listeners.append(local_change)
        backoff = 0.5
        try:
            while not stop.is_set():
                try:
                    await self._connection(stop)
                except (TimeoutError, OSError, SyncError) as err:
                    self.replica.store.note(self.replica.name, "disconnected", error=str(err))
                except Exception as err:  # websockets' own errors: the link broke; try again
                    self.replica.store.note(self.replica.name, "disconnected", error=type(err).__name__)
                if self.answered:  # a link that worked: retry soon, whatever an outage long past grew
                    backoff, self.answered = 0.5, False
                self.connected.clear()
                try:
                    await asyncio.wait_for(stop.wait(), backoff * random.uniform(0.8, 1.2))
                except TimeoutError:
                    backoff = min(self.max_backoff_s, backoff * 2)
        finally:
            self.replica.listeners.remove(local_change)

    async def _connection(self, stop: asyncio.Event) -> None:
        import websockets

        token = await self.token()
        async with websockets.connect(
            self.url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=2**24, open_timeout=10
        ) as ws:
            session = self.session = SyncSession(self.replica)
            for data in session.opening():
                await ws.send(data)
            self.connected.set()
            self.replica.store.note(self.replica.name, "connected", transport="websocket")

            async def reader() -> None:
                async for data in ws:
                    if isinstance(data, str):
                        raise SyncError("a text frame on the sync socket", code="SYNC_BAD_MESSAGE")
                    self.answered = True
                    for reply in session.handle(data):
                        await ws.send(reply)

            async def writer() -> None:
                while True:
                    await self._wake.wait()
                    self._wake.clear()
                    for data in session.outgoing():
                        await ws.send(data)

            tasks = [asyncio.create_task(reader()), asyncio.create_task(writer()), asyncio.create_task(stop.wait())]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
