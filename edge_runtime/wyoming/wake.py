"""`wake`: detect -> audio-start, audio-chunk... -> detection (each time), audio-stop -> not-detected.

A satellite streams for as long as it listens, so nothing is kept but the 80 ms frame being
filled. Each stream borrows an openWakeWord instance for the wake words it asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from wyoming.event import Event
from wyoming.wake import Detection, NotDetected

from edge_runtime.audio.convert import Reblocker, to_int16
from edge_runtime.wyoming.audio import RATE, Decoder, Format
from edge_runtime.wyoming.errors import BadEvent, OutOfOrder, Unsupported
from edge_runtime.wyoming.pool import Pool
from models.wake import WakeWord

Send = Callable[[Event], Awaitable[None]]
Names = tuple[str, ...]


class WakeStream:
    def __init__(self, pool: Pool[WakeWord], available: Names, send: Send) -> None:
        self.pool, self.available, self.send = pool, available, send
        self.names: Names | None = None
        self.wake: WakeWord | None = None
        self.decoder: Decoder | None = None
        self._frames: Reblocker | None = None
        self._detected = 0
        self._at = 0  # 16 kHz samples scored so far

    async def detect(self, data: dict[str, Any]) -> None:
        names = data.get("names")
        if names is None:
            self.names = self.available
            return
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not names:
            raise BadEvent("'names' must be a list of wake word names")
        unknown = [n for n in names if n not in self.available]
        if unknown:
            raise Unsupported(f"no wake word {unknown[0][:40]!r} on this hub; it has {', '.join(self.available)}")
        self.names = tuple(sorted(set(names)))

    async def start(self, data: dict[str, Any]) -> None:
        if self.names is None:
            raise OutOfOrder("wake audio needs a detect event first")
        fmt = Format.of(data)
        await self._release()
        self.wake = await self.pool.take(self.names)
        self.decoder, self._frames = Decoder(fmt), Reblocker(self.wake.frame_samples)
        self._detected, self._at = 0, 0

    async def chunk(self, data: dict[str, Any], payload: bytes | None) -> None:
        if self.decoder is None:
            await self.start(data)
        assert self.decoder is not None and self._frames is not None and self.wake is not None
        frames = self._frames.push(to_int16(self.decoder.decode(data, payload)))
        if not frames:
            return
        for name, end in await asyncio.to_thread(self._score, self.wake, frames, self._at):
            self._detected += 1
            await self.send(Detection(name=name, timestamp=1000 * end // RATE).event())
        self._at += sum(len(f) for f in frames)

    async def stop(self) -> None:
        if self.decoder is not None and not self._detected:
            await self.send(NotDetected().event())
        await self._release()

    async def close(self) -> None:
        await self._release()

    async def _release(self) -> None:
        if self.wake is not None and self.names is not None:
            self.pool.give(self.wake, self.names)
        self.wake, self.decoder, self._frames = None, None, None

    @staticmethod
    def _score(wake: WakeWord, frames: list[np.ndarray], at: int) -> list[tuple[str, int]]:
        found = []
        for frame in frames:
            at += len(frame)
            score = wake.process(frame)
            if score is not None:
                found.append((score.name, at))
        return found
