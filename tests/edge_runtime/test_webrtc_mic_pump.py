"""The mic pump ends when its session cancels it, even while the peer's frames keep coming: on Python
3.11 `asyncio.wait_for` could drop a cancel that arrived with a frame, and the session's close then
waited for the pump for ever (the app's DELETE /v1/webrtc/{id} hung)."""

from __future__ import annotations

import asyncio
from typing import Any

from edge_runtime.webrtc.audio import MicPump


class BusyTrack:
    """A peer that always has a frame ready (here not an audio frame, so nothing reaches the pipeline)."""

    kind = "audio"

    def __init__(self) -> None:
        self.frames = 0

    async def recv(self) -> Any:
        await asyncio.sleep(0)
        self.frames += 1
        return object()


def test_a_cancelled_pump_stops_while_frames_keep_coming() -> None:
    async def scenario() -> tuple[int, int]:
        stopped = 0
        track = BusyTrack()
        for _ in range(200):
            pump = MicPump(track, pipeline=None, timeout_s=5)  # type: ignore[arg-type]
            task = asyncio.create_task(pump.run())
            for _ in range(3):
                await asyncio.sleep(0)
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=0.5)
            if not done:  # it went on reading: stop it for good, and count it
                while not task.done():
                    task.cancel()
                    await asyncio.sleep(0)
                continue
            stopped += task.cancelled()
        return stopped, track.frames

    stopped, frames = asyncio.run(scenario())
    assert frames > 200  # the track was being read when each cancel came
    assert stopped == 200, f"{200 - stopped} of 200 pumps went on reading after their session cancelled them"
