"""Cloud notifications said aloud (#21): a linked hub holds the cloud's notification socket
(`/v1/notify/ws`, the hub's `notify` scope), and says a notification that asks for it.

A notification is spoken only when its `data` says `"speak": true`; then on the hubs it names
(`"hubs": [hub ids]`), in the rooms it names (`"rooms": [...]`), or, naming neither, on every linked
hub of the user. Every hub gets every notification on its own socket and decides for itself: nothing
passes between hubs. The words come from the title and the body; nothing else is read aloud."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from edge_runtime.peers.service import same_room

log = logging.getLogger("companion.notify")
Say = Callable[[str, str, str | None], Awaitable[None]]  # text, from, from room
MAX_WORDS = 400  # characters said at most: a notification is not an audiobook


def spoken(message: dict[str, Any], hub_id: str, room: str | None) -> str | None:
    """What this hub should say for a pushed message, or None."""
    if message.get("type") != "notification":
        return None
    data = message.get("data")
    if not isinstance(data, dict) or data.get("speak") is not True:
        return None
    hubs, rooms = data.get("hubs"), data.get("rooms")
    if isinstance(hubs, list) and hubs and hub_id not in hubs:
        return None
    if isinstance(rooms, list) and rooms and not any(same_room(room, str(r)) for r in rooms):
        return None
    title, body = str(message.get("title") or "").strip(), str(message.get("body") or "").strip()
    text = f"{title.rstrip('.')}. {body}" if title and body else title or body
    return text[:MAX_WORDS] or None


class SpokenNotifications:
    """Keeps the socket open (reconnecting with backoff) until `stop`; says what `spoken` picks."""

    def __init__(
        self,
        base_url: str,
        token: Callable[[], Awaitable[str]],
        hub_id: str,
        room: str | None,
        say: Say,
        *,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.url = base_url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/") + "/v1/notify/ws"
        self.token, self.hub_id, self.room, self.say = token, hub_id, room, say
        self.max_backoff_s = max_backoff_s
        self.connected = asyncio.Event()
        self.said = 0

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                await self._connection(stop)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the cloud away, a refused token, a broken socket: try again later
                log.info("notify.disconnected", extra={"error": type(err).__name__})
            self.connected.clear()
            try:
                await asyncio.wait_for(stop.wait(), backoff * random.uniform(0.8, 1.2))
            except TimeoutError:
                backoff = min(self.max_backoff_s, backoff * 2)

    async def _connection(self, stop: asyncio.Event) -> None:
        import websockets

        token = await self.token()
        async with websockets.connect(
            self.url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10
        ) as ws:
            reader = asyncio.create_task(self._read(ws))
            stopper = asyncio.create_task(stop.wait())
            try:
                done, _ = await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                reader.cancel()
                stopper.cancel()
                await asyncio.gather(reader, stopper, return_exceptions=True)
            if reader in done and reader.exception() is not None:
                raise reader.exception()  # type: ignore[misc]

    async def _read(self, ws: Any) -> None:
        async for raw in ws:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(message, dict):
                continue
            if message.get("type") == "ready":
                self.connected.set()
            elif (text := spoken(message, self.hub_id, self.room)) is not None:
                self.said += 1
                log.info("notify.spoken", extra={"notification": message.get("id")})
                await self.say(text, "cloud", None)
