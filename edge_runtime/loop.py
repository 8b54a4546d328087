"""The audio clock: feeds input blocks to the pipeline and drains reply audio in step.

Like a full-duplex sound card, every input block is matched by one output block, so the
reply's timeline lines up with the input's. `realtime` paces a file like a live source;
`lockstep` lets the models finish before the next block (deterministic runs over files).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import numpy as np

from edge_runtime.audio.convert import to_float32
from edge_runtime.audio.sinks import AudioSink
from edge_runtime.audio.sources import BLOCK, RATE
from edge_runtime.frames import AudioIn, EndOfStream
from edge_runtime.hub import VoiceHub

BLOCK_S = BLOCK / RATE


class AudioLoop:
    def __init__(
        self,
        hub: VoiceHub,
        sink: AudioSink | None = None,
        *,
        realtime: bool = False,
        lockstep: bool = True,
        pad_silence: bool = True,
    ) -> None:
        self.hub = hub
        self.sink = sink
        self.realtime = realtime
        self.lockstep = lockstep
        self.pad_silence = pad_silence
        self.t = 0.0  # stream time of the next input block
        self._out_block = round(BLOCK_S * hub.output.rate)

    async def tick(self, block: np.ndarray) -> None:
        await self.hub.pipeline.push(AudioIn(to_float32(block), t=self.t))
        if self.lockstep:
            await self.hub.pipeline.wait_idle()
        await self._drain_block()
        self.t += BLOCK_S

    async def _drain_block(self) -> None:
        out = await self.hub.output.pull(self._out_block)
        if self.sink is None:
            return
        if self.pad_silence and len(out) < self._out_block:
            out = np.concatenate([out, np.zeros(self._out_block - len(out), dtype=np.int16)])
        if len(out):
            self.sink.write(out)

    async def run(
        self,
        blocks: AsyncIterator[np.ndarray],
        *,
        until: Callable[[], bool] | None = None,
        max_s: float | None = None,
    ) -> None:
        """Feed every block (or until `until()`); stop when the input ends or max_s passes."""
        started = time.perf_counter()
        n = 0
        async for block in blocks:
            if self.realtime:
                delay = started + n * BLOCK_S - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            await self.tick(block)
            n += 1
            if (until and until()) or (max_s is not None and self.t >= max_s):
                return

    async def finish(self, *, timeout_s: float = 30.0) -> None:
        """End of input: flush the endpointer, let the reply finish, play out what is left."""
        await self.hub.pipeline.push(EndOfStream())
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            await self.hub.pipeline.wait_idle()
            if not self.hub.output.buffered_samples and not self.hub.pipeline.busy():
                break
            await self._drain_block()
            self.t += BLOCK_S
