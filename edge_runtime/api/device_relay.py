"""Device state changes, relayed from the device layer to the apps' event stream (as over WebRTC)."""

from __future__ import annotations

import asyncio
from typing import Any

from edge_runtime.api.events import EventBus
from edge_runtime.app_events import device_change


class DeviceRelay:
    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    async def run(self, queue: asyncio.Queue[Any]) -> None:
        """Publishes each device event taken from `queue` until cancelled."""
        while True:
            event = await queue.get()
            self.bus.publish_event(device_change(event))
