"""Hub -> app device events for a WebRTC session. A turn's own events come from the pipeline's
`TurnStream` (edge_runtime.app_events); device events from an async iterator the caller hands over
(e.g. `device_events`), as the same `DeviceChange` model the LAN API sends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from edge_runtime.app_events import device_change

Send = Callable[[dict[str, Any]], None]


async def forward_devices(source: AsyncIterator[Any], send: Send) -> None:
    """Device state changes as `device` messages; the device's own event type goes in `event`."""
    try:
        async for item in source:
            send(device_change(item).wire())
    finally:
        close = getattr(source, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


async def device_events(hub: Any) -> AsyncIterator[Any]:
    """A DeviceHub's events for one session; unsubscribes when the session ends."""
    queue: asyncio.Queue[Any] = hub.events()
    try:
        while True:
            yield await queue.get()
    finally:
        with contextlib.suppress(ValueError):
            hub.listeners.remove(queue)
