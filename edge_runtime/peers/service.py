"""A hub's home: its peers, the wake arbiter, and what hubs ask of each other (announce, stop)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from edge_runtime.peers.arbiter import Arbiter
from edge_runtime.peers.link import PeerLink
from edge_runtime.peers.wire import Announce, PeerMessage, Stop

log = logging.getLogger("companion.peers")
Say = Callable[[str, str, str | None], Awaitable[None]]  # text, from hub, from room


def same_room(a: str | None, b: str | None) -> bool:
    def key(room: str | None) -> str:
        return " ".join((room or "").casefold().replace("'", "").replace("’", "").split())

    return bool(a and b) and key(a) == key(b)


class HomePeers:
    def __init__(self, link: PeerLink, arbiter: Arbiter) -> None:
        self.link, self.arbiter = link, arbiter
        self.on_announce: list[Say] = []
        self.on_stop: list[Callable[[], object]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        link.listeners.append(self._heard)

    @property
    def hub_id(self) -> str:
        return self.link.hub_id

    def rooms(self) -> dict[str, list[str]]:
        """The rooms of the hubs online now (this one included), each with its hubs."""
        found: dict[str, list[str]] = {}
        for hub, room in [(self.hub_id, self.link.room), *((p.hub, p.room) for p in self.link.online())]:
            if room:
                found.setdefault(room, []).append(hub)
        return found

    def listeners_for(self, rooms: list[str] | None) -> list[str]:
        """The other hubs online that an announcement to `rooms` (None: everywhere) reaches."""
        return [p.hub for p in self.link.online() if rooms is None or any(same_room(p.room, r) for r in rooms)]

    def announce(self, text: str, rooms: list[str] | None = None) -> list[str]:
        """Say `text` on the other hubs (in `rooms`); the hubs it reaches."""
        reached = self.listeners_for(rooms)
        if reached:
            self.link.publish(Announce(hub=self.hub_id, text=text, rooms=rooms, room=self.link.room))
        return reached

    def stop_elsewhere(self) -> None:
        """ "Stop" said here also silences a timer ringing on another hub."""
        if self.link.online():
            self.link.publish(Stop(hub=self.hub_id))

    def _heard(self, message: PeerMessage, arrived: float) -> None:
        if isinstance(message, Announce):
            if message.rooms is not None and not any(same_room(self.link.room, r) for r in message.rooms):
                return
            for say in self.on_announce:
                self._spawn(say(message.text, message.hub, message.room))
        elif isinstance(message, Stop):
            for stop in self.on_stop:
                stop()

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("peers.announce_failed")

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
