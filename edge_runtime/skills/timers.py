"""Countdown timers, the Home Assistant way: several at once, each maybe named ("pizza") and placed
(the kitchen's), that can be paused, resumed, lengthened, shortened and cancelled one by one or
all together. A timer may carry a command ("turn off the lights"): when it ends the command runs
instead of an alert. Alerts ring until the user says "stop".

Alarms and reminders (skills/alarms.py, skills/reminders.py) are timers too, of another `kind`, due
at a wall-clock time (`at`): they ring, stop and persist the same way, apart from the timers the
timer intents see (`active()` lists timers only unless asked for a kind).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from edge_runtime.clock import Clock
from edge_runtime.skills.numbers import timer_label
from edge_runtime.skills.timer_store import StoredTimer, TimerStore

log = logging.getLogger("edge.timers")
# A timer that ended while the hub was down rings when it is back, unless it ended longer ago than this.
MISSED_AFTER_S = 600.0


@dataclass
class Timer:
    id: int
    seconds: int  # as asked for: "the 5 minute timer" keeps its name when time is added
    due: float  # clock.monotonic() when it rings (while running)
    label: str = ""
    name: str | None = None
    area: str | None = None
    command: str | None = None  # run when the timer ends, instead of ringing
    kind: str = "timer"  # "timer", "alarm" or "reminder" (whose `name` is what to remind of)
    at: float | None = None  # an alarm's or a reminder's wall-clock due time (Unix time)
    paused_left: float | None = None  # seconds left when paused; None while running
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.label = self.label or (self.name or ("alarm" if self.kind == "alarm" else timer_label(self.seconds)))

    @property
    def paused(self) -> bool:
        return self.paused_left is not None


class TimerManager:
    """Owns the timers; `on_ring(timer, repeat)` speaks each alert, `on_command(timer)` runs a
    timer's command when it ends."""

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
        self.on_command: Callable[[Timer], Awaitable[None]] | None = None
        self.repeats = repeats
        self.interval_s = interval_s
        self._ids = itertools.count(1)
        self._timers: dict[int, Timer] = {}
        self._ringing: dict[int, asyncio.Task[None]] = {}
        self._rung: dict[int, Timer] = {}  # the timers whose alert is ringing now
        self._store: TimerStore | None = None

    def keep_in(self, store: TimerStore) -> list[Timer]:
        """Bring back the timers `store` holds (a restart, or a crash) and keep every change there.
        Returns the timers brought back; one that ended while the hub was down rings now, one that
        ended more than `MISSED_AFTER_S` ago is dropped (logged), and its command is not run."""
        self._store = store
        now = self.clock.now().timestamp()
        back: list[Timer] = []
        for row in store.load():
            self._ids = itertools.count(max(row.id + 1, next(self._ids)))
            timer = Timer(row.id, row.seconds, 0.0, name=row.name, area=row.area, command=row.command, kind=row.kind)
            timer.at = row.due_wall if row.kind != "timer" else None
            if row.paused_left is not None:
                timer.paused_left = row.paused_left
                self._timers[timer.id] = timer
            elif row.due_wall is not None and now - row.due_wall <= MISSED_AFTER_S:
                left = max(0.0, row.due_wall - now)
                timer.due = self.clock.monotonic() + left
                self._timers[timer.id] = timer
                self._schedule(timer, left)
            else:
                store.remove(row.id)
                log.warning("timer.missed", extra={"timer": timer.label, "code": "TIMER_MISSED"})
                continue
            back.append(timer)
        if back:
            log.info("timer.restored", extra={"count": len(back)})
        return back

    def start(
        self,
        seconds: int,
        *,
        name: str | None = None,
        area: str | None = None,
        command: str | None = None,
        kind: str = "timer",
        at: float | None = None,
    ) -> Timer:
        """A timer that ends in `seconds`, or (an alarm, a reminder) at the Unix time `at`."""
        left = float(seconds) if at is None else max(0.0, at - self.clock.now().timestamp())
        due = self.clock.monotonic() + left
        timer = Timer(next(self._ids), seconds, due, name=name, area=area, command=command, kind=kind, at=at)
        self._timers[timer.id] = timer
        self._schedule(timer, left)
        self._save(timer)
        return timer

    def active(self, kind: str | None = "timer") -> list[Timer]:
        """The running (and paused) timers of one kind (None: of every kind), soonest first."""
        return sorted((t for t in self._timers.values() if kind in (None, t.kind)), key=lambda t: self.remaining(t))

    def remaining(self, timer: Timer) -> float:
        if timer.paused_left is not None:
            return timer.paused_left
        return max(0.0, timer.due - self.clock.monotonic())

    def find(self, *, name: str | None = None, area: str | None = None, seconds: int | None = None) -> list[Timer]:
        """The timers a request means: by name, by room, or by the time they were set for."""
        out = self.active()
        if name:
            out = [t for t in out if t.name and t.name.lower() == name.lower().strip()]
        if area:
            out = [t for t in out if t.area and t.area.lower() == area.lower()]
        if seconds:
            out = [t for t in out if t.seconds == seconds]
        return out

    def add(self, timer: Timer, seconds: float) -> None:
        """Lengthen (or, negative, shorten) a timer; one shortened past zero ends now."""
        left = max(0.0, self.remaining(timer) + seconds)
        if timer.paused:
            timer.paused_left = left
        else:
            self._cancel_task(timer)
            timer.due = self.clock.monotonic() + left
            self._schedule(timer, left)
        self._save(timer)

    def pause(self, timer: Timer) -> bool:
        if timer.paused:
            return False
        timer.paused_left = self.remaining(timer)
        self._cancel_task(timer)
        self._save(timer)
        return True

    def resume(self, timer: Timer) -> bool:
        if timer.paused_left is None:
            return False
        left, timer.paused_left = timer.paused_left, None
        timer.due = self.clock.monotonic() + left
        self._schedule(timer, left)
        self._save(timer)
        return True

    def cancel(self, timers: list[Timer] | None = None) -> list[Timer]:
        chosen = self.active() if timers is None else timers
        for t in chosen:
            self._cancel_task(t)
            self._timers.pop(t.id, None)
            self._forget(t)
        return chosen

    @property
    def ringing(self) -> bool:
        return bool(self._ringing)

    def ringing_now(self) -> list[Timer]:
        """The timers, alarms and reminders whose alert is ringing."""
        return list(self._rung.values())

    def silence(self) -> int:
        """Stop every alert that is ringing; returns how many were."""
        count = len(self._ringing)
        for task in self._ringing.values():
            task.cancel()
        self._ringing.clear()
        self._rung.clear()
        return count

    async def close(self) -> None:
        """Stop counting; the store keeps the timers for the next start."""
        self.silence()
        tasks = [t.task for t in self._timers.values() if t.task is not None]
        for t in self._timers.values():
            self._cancel_task(t)
        self._timers.clear()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _schedule(self, timer: Timer, seconds: float) -> None:
        timer.task = asyncio.create_task(self._countdown(timer, seconds), name=f"timer-{timer.id}")

    def _cancel_task(self, timer: Timer) -> None:
        if timer.task is not None and timer.task is not asyncio.current_task():
            timer.task.cancel()
        timer.task = None

    def _save(self, timer: Timer) -> None:
        if self._store is None:
            return
        due: float | None = self.clock.now().timestamp() + self.remaining(timer) if timer.at is None else timer.at
        due = None if timer.paused else due
        row = StoredTimer(
            timer.id, timer.seconds, due, timer.paused_left, timer.name, timer.area, timer.command, timer.kind
        )
        self._store.save(row)

    def _forget(self, timer: Timer) -> None:
        if self._store is not None:
            self._store.remove(timer.id)

    async def _countdown(self, timer: Timer, seconds: float) -> None:
        await self.clock.sleep(seconds)
        self._timers.pop(timer.id, None)
        self._forget(timer)  # before acting: a crash from here on loses the alert, never repeats the command
        if timer.command is not None and self.on_command is not None:
            await self.on_command(timer)
            return
        self._ringing[timer.id] = asyncio.current_task()  # type: ignore[assignment]
        self._rung[timer.id] = timer
        try:
            for repeat in range(self.repeats):
                await self._on_ring(timer, repeat)
                if repeat + 1 < self.repeats:
                    await self.clock.sleep(self.interval_s)
        finally:
            self._ringing.pop(timer.id, None)
            self._rung.pop(timer.id, None)
