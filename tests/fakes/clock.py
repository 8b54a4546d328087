from __future__ import annotations

import asyncio
from datetime import datetime, timedelta


class FakeClock:
    """A clock that moves only when a test calls `advance`; sleepers wake in due order."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._mono = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._mono + seconds, fut))
        await fut

    async def advance(self, seconds: float) -> None:
        for _ in range(5):  # let new tasks reach their first sleep
            await asyncio.sleep(0)
        target = self._mono + seconds
        while True:
            due = sorted(((t, f) for t, f in self._sleepers if t <= target and not f.done()), key=lambda p: p[0])
            if not due:
                break
            t, fut = due[0]
            self._step_to(t)
            fut.set_result(None)
            for _ in range(5):  # let the woken task run (and maybe sleep again)
                await asyncio.sleep(0)
        self._step_to(target)
        self._sleepers = [(t, f) for t, f in self._sleepers if not f.done()]

    def _step_to(self, mono: float) -> None:
        self._now += timedelta(seconds=mono - self._mono)
        self._mono = mono
