"""A live microphone whose consumer falls behind: PortAudio's thread must never raise on the loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np

from edge_runtime.audio.sources import MicSource


def test_a_full_queue_drops_the_oldest_block_without_an_error_on_the_loop() -> None:
    """QueueFull was suppressed around call_soon_threadsafe, where it never fires: put_nowait raised later,
    on the event loop, once per block. Now the loop keeps the newest blocks and counts the dropped ones."""
    mic = MicSource(device=0)  # a device index skips the PortAudio lookup; nothing is opened here
    errors: list[dict[str, Any]] = []

    async def scenario() -> list[int]:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: errors.append(context))
        queue: asyncio.Queue[np.ndarray] = asyncio.Queue(maxsize=4)

        def portaudio_thread() -> None:  # what sounddevice's callback does, from its own thread
            for n in range(10):
                loop.call_soon_threadsafe(mic.offer, queue, np.full(4, n, dtype=np.int16))

        thread = threading.Thread(target=portaudio_thread)
        thread.start()
        thread.join()
        await asyncio.sleep(0.05)  # the scheduled callbacks run
        return [int(queue.get_nowait()[0]) for _ in range(queue.qsize())]

    kept = asyncio.run(scenario())
    assert errors == []
    assert kept == [6, 7, 8, 9]  # the newest audio: a stalled loop resumes on what is being said now
    assert mic.dropped == 6
