"""Hub -> app events: the tracer's marks become `transcript`, `reply`, `state` and `timer` messages.

The tracer already sees every stage of a turn, so listening to it keeps the pipeline unaware of
WebRTC. Device events come from an async iterator the caller hands over (e.g. `device_events`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from edge_runtime.trace import Mark
from edge_runtime.webrtc.messages import event

Send = Callable[[dict[str, Any]], None]

# Turn phases as the app shows them.
_STATES = {
    "wake": "listening",
    "speech_start": "hearing",
    "endpoint": "thinking",
    "committed": "thinking",  # a command acted on at a short pause, before its endpoint (#18)
    "first_audio": "speaking",
    "playback_stop": "idle",
    "interrupt": "interrupted",
}


class TurnEvents:
    """A Tracer listener: one mark in, at most one message out (synchronous, never blocks)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self._committed = False  # the turn's endpoint, still to come, is no new phase

    def __call__(self, mark: Mark) -> None:
        data = mark.data
        if mark.event in ("committed", "endpoint"):
            skip, self._committed = self._committed and mark.event == "endpoint", mark.event == "committed"
            if skip:
                return
        if mark.event == "stt":
            if data.get("error"):
                self.send(event("error", code=data["error"], message="speech recognition failed"))
            else:
                self.send(event("transcript", text=data.get("text", ""), final=True, stt_ms=data.get("ms")))
        elif mark.event == "skill":
            extra = data.get("data") or {}
            self.send(event("reply", text=data.get("reply", ""), intent=data.get("intent"), route=extra.get("route")))
            if not data.get("reply"):
                self.send(event("state", state="idle", reason="no-reply"))
        elif mark.event == "timer_alert":
            self.send(event("timer", event="ringing", timer_id=data.get("timer_id"), repeat=data.get("repeat")))
        elif mark.event == "turn_done" and data.get("spoken") is False:
            self.send(event("state", state="idle", reason="silent"))
        elif (state := _STATES.get(mark.event)) is not None:
            reason = data.get("reason")
            self.send(event("state", state=state, **({"reason": reason} if reason else {})))


def _as_dict(item: Any) -> dict[str, Any]:
    if hasattr(item, "to_dict"):
        item = item.to_dict()
    return dict(item) if isinstance(item, dict) else {"value": str(item)}


async def forward_devices(source: AsyncIterator[Any], send: Send) -> None:
    """Device state changes as `device` messages; the device's own event type goes in `event`."""
    try:
        async for item in source:
            data = _as_dict(item)
            send(event("device", event=data.pop("type", "state"), **data))
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
