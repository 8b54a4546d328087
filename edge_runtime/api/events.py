"""The hub's event stream for apps: transcripts, replies, device state changes, timers.

Each subscriber has a bounded queue; a slow app loses its oldest events (and is told how many),
never the hub's memory or another app's stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


class Subscription:
    def __init__(self, limit: int) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=limit)
        self.dropped = 0

    def offer(self, event: dict[str, Any]) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def next(self) -> dict[str, Any]:
        event = await self.queue.get()
        if self.dropped:
            event = {**event, "dropped_before": self.dropped}
            self.dropped = 0
        return event


class EventBus:
    def __init__(self, per_subscriber: int = 1000) -> None:
        self.per_subscriber = per_subscriber
        self.subscribers: set[Subscription] = set()

    def publish(self, type_: str, **data: Any) -> None:
        """The hub's own notices (paired, revoked, linked, settings)."""
        event = {"type": type_, "at": time.time(), **data}
        for sub in list(self.subscribers):
            sub.offer(event)

    def publish_event(self, event: Any, **where: Any) -> None:
        """A typed app event (edge_runtime.app_events), as `HubEvent` in /openapi.json: the event's
        own fields, then where it came from (`conversation`, `source`) and when (`at`)."""
        self.publish(event.type, **event.wire(), **where)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        sub = Subscription(self.per_subscriber)
        self.subscribers.add(sub)
        try:
            yield sub
        finally:
            self.subscribers.discard(sub)
