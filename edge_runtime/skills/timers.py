"""Countdown timers that ring with a spoken alert until the user says "stop"."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from edge_runtime.clock import Clock
from edge_runtime.skills.numbers import timer_label


@dataclass
class Timer:
    id: int
    seconds: int
    due: float  # clock.monotonic() when it rings
    label: str = ""
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.label = self.label or timer_label(self.seconds)


class TimerManager:
    """Owns running timers; `on_ring(timer, repeat)` speaks each alert."""

    def __init__(
        self,
        clock: Clock,
        on_ring: Callable[[Timer, int], Awaitable[None]],
        *,
        repeats: int = 3,
        interval_s: float = 6.0,
    ) -> None:
        self.clock = clock
        self._on_ring = on_ring
        self.repeats = repeats
        self.interval_s = interval_s
        self._ids = itertools.count(1)
        self._timers: dict[int, Timer] = {}
        self._ringing: dict[int, asyncio.Task[None]] = {}

    def start(self, seconds: int) -> Timer:
        timer = Timer(next(self._ids), seconds, self.clock.monotonic() + seconds)
        timer.task = asyncio.create_task(self._countdown(timer), name=f"timer-{timer.id}")
        self._timers[timer.id] = timer
        return timer

    def active(self) -> list[Timer]:
        return sorted(self._timers.values(), key=lambda t: t.due)

    def remaining(self, timer: Timer) -> float:
        return max(0.0, timer.due - self.clock.monotonic())

    def cancel(self, timers: list[Timer] | None = None) -> list[Timer]:
        chosen = self.active() if timers is None else timers
        for t in chosen:
            if t.task is not None:
                t.task.cancel()
            self._timers.pop(t.id, None)
        return chosen

    @property
    def ringing(self) -> bool:
        return bool(self._ringing)

    def silence(self) -> int:
        """Stop every alert that is ringing; returns how many were."""
        count = len(self._ringing)
        for task in self._ringing.values():
            task.cancel()
        self._ringing.clear()
        return count

    async def close(self) -> None:
        self.silence()
        for t in self.cancel():
            if t.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await t.task

    async def _countdown(self, timer: Timer) -> None:
        await self.clock.sleep(timer.seconds)
        self._timers.pop(timer.id, None)
        self._ringing[timer.id] = asyncio.current_task()  # type: ignore[assignment]
        try:
            for repeat in range(self.repeats):
                await self._on_ring(timer, repeat)
                if repeat + 1 < self.repeats:
                    await self.clock.sleep(self.interval_s)
        finally:
            self._ringing.pop(timer.id, None)
