"""Timers kept in SQLite (edge_runtime/skills/timer_store.py): a hub that stops, or crashes, and
starts again has every timer back, due at the same wall-clock time. Each "restart" here is a new
TimerManager on a new clock whose wall time went on while the monotonic clock began again."""

from __future__ import annotations

import asyncio
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge_runtime.skills.timer_store import TimerStore
from edge_runtime.skills.timers import MISSED_AFTER_S, Timer, TimerManager
from tests.fakes.clock import FakeClock

START = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


class Hub:
    """One life of the hub: its clock, its timers on the store, what rang and which commands ran."""

    def __init__(self, path: Path, at: datetime) -> None:
        self.clock = FakeClock(at)
        self.rang: list[tuple[str, float]] = []
        self.ran: list[str] = []
        self.timers = TimerManager(self.clock, self._ring, repeats=1)
        self.timers.on_command = self._command
        self.store = TimerStore(path)
        self.back = self.timers.keep_in(self.store)

    async def _ring(self, timer: Timer, repeat: int) -> None:
        self.rang.append((timer.label, self.clock.now().timestamp() - START.timestamp()))

    async def _command(self, timer: Timer) -> None:
        assert timer.command is not None
        self.ran.append(timer.command)


def test_timers_come_back_after_a_crash_due_at_the_same_time(tmp_path: Path) -> None:
    db = tmp_path / "data" / "timers.sqlite3"

    async def scenario() -> None:
        first = Hub(db, START)
        assert first.back == []
        first.timers.start(600, name="pizza", area="kitchen")
        eggs = first.timers.start(300)
        later = first.timers.start(900, command="turn off the kitchen light")
        paused = first.timers.start(120, name="tea")
        await first.clock.advance(30)
        first.timers.add(eggs, 60)  # 270 s left, 330 now: due at 360 s
        first.timers.pause(paused)  # 90 s left, kept while paused
        cancelled = first.timers.start(200, name="gone")
        first.timers.cancel([cancelled])
        # kill -9: nothing is closed, no task finishes; 100 s pass before the hub is back.
        second = Hub(db, START + timedelta(seconds=130))
        assert sorted((t.label, t.paused) for t in second.back) == [
            ("fifteen minute", False),
            ("five minute", False),
            ("pizza", False),
            ("tea", True),
        ]
        left = {t.label: round(second.timers.remaining(t)) for t in second.timers.active()}
        assert left == {"five minute": 230, "pizza": 470, "tea": 90, "fifteen minute": 770}
        assert [t.area for t in second.timers.find(name="pizza")] == ["kitchen"]
        await second.clock.advance(800)
        # Each rang once, at its wall-clock time; the delayed command ran once; the paused one waits.
        assert second.rang == [("five minute", 360.0), ("pizza", 600.0)]
        assert second.ran == ["turn off the kitchen light"]
        new = second.timers.start(60)
        assert new.id > later.id  # ids go on, so "the third timer" means one timer
        await second.timers.close()  # a clean stop keeps them too
        third = Hub(db, START + timedelta(seconds=1000))
        assert sorted(t.label for t in third.back) == ["one minute", "tea"]
        await third.timers.close()
        for hub in (first, second, third):
            hub.store.close()

    asyncio.run(scenario())
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600


def test_a_timer_that_ended_while_down_rings_at_once_unless_long_ago(tmp_path: Path) -> None:
    db = tmp_path / "timers.sqlite3"

    async def scenario() -> None:
        first = Hub(db, START)
        first.timers.start(60, name="soon")
        first.timers.start(120, command="turn off the kitchen light")
        first.timers.start(3600, name="hour")
        first.store.close()
        # Back 5 minutes later: "soon" ended 4 minutes ago and rings now; the delayed command too.
        second = Hub(db, START + timedelta(seconds=300))
        await second.clock.advance(0)
        assert second.rang == [("soon", 300.0)] and second.ran == ["turn off the kitchen light"]
        second.store.close()
        # Back long after the hour: that timer is dropped, not rung hours late.
        third = Hub(db, START + timedelta(seconds=3600 + MISSED_AFTER_S + 1))
        await third.clock.advance(5)
        assert third.back == [] and third.rang == [] and third.ran == []
        assert TimerStore(db).load() == []

    asyncio.run(scenario())


def test_a_command_is_forgotten_before_it_runs(tmp_path: Path) -> None:
    """A crash while a delayed command runs must not run it again after the restart."""
    db = tmp_path / "timers.sqlite3"

    async def scenario() -> None:
        first = Hub(db, START)
        seen: list[list[int]] = []

        async def command(timer: Timer) -> None:
            seen.append([row.id for row in TimerStore(db).load()])  # what a restart now would find

        first.timers.on_command = command
        timer = first.timers.start(10, command="unlock nothing")
        await first.clock.advance(10)
        assert seen == [[]] and timer.id not in [row.id for row in first.store.load()]
        first.store.close()

    asyncio.run(scenario())


def test_a_corrupt_store_is_kept_aside_and_the_hub_starts_with_none(tmp_path: Path) -> None:
    db = tmp_path / "timers.sqlite3"
    db.write_bytes(b"not a database " * 300)
    store = TimerStore(db)  # once a DatabaseError that stopped the hub from starting
    assert store.load() == []
    kept = list(tmp_path.glob("timers.sqlite3.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"not a database")  # nothing deleted

    async def scenario() -> None:
        hub = Hub(db, START)
        hub.timers.start(60, name="tea")
        hub.store.close()
        assert [t.label for t in Hub(db, START).back] == ["tea"]  # the fresh store works

    store.close()
    asyncio.run(scenario())
