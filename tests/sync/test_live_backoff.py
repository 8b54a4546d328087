"""LiveSync's retry wait: it grows while the sync service cannot be reached (or accepts and says
nothing, as when it refuses the token), and starts short again after a connection on which the
service spoke, so a link that drops hours after an outage comes back at once, not after 30 s."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from sync import LiveSync, Replica


class Scripted(LiveSync):
    """Connections that fail `fails` times, then one that comes up and drops; the attempt times."""

    def __init__(self, replica: Replica, fails: int, stop: asyncio.Event, *, spoke: bool) -> None:
        super().__init__(replica, "http://127.0.0.1:9", self._token)
        self.fails, self.stop, self.spoke = fails, stop, spoke
        self.attempts: list[float] = []

    async def _token(self) -> str:
        return "token"

    async def _connection(self, stop: asyncio.Event) -> None:
        self.attempts.append(time.monotonic())
        if len(self.attempts) <= self.fails:
            raise OSError("unreachable")
        if len(self.attempts) == self.fails + 1:
            self.connected.set()
            self.answered = self.spoke  # up (the service spoke, or closed at once), then the link breaks
            raise OSError("connection reset")
        self.stop.set()


@pytest.mark.parametrize("spoke", [True, False])
def test_the_retry_wait_starts_short_again_after_a_connection_that_worked(tmp_path: Path, spoke: bool) -> None:
    replica = Replica.open(tmp_path / "hub.sqlite3")

    async def run() -> list[float]:
        stop = asyncio.Event()
        link = Scripted(replica, 3, stop, spoke=spoke)
        await asyncio.wait_for(link.run(stop), 30)
        return link.attempts

    attempts = asyncio.run(run())
    waits = [b - a for a, b in itertools.pairwise(attempts)]
    # 0.5, 1, 2 s (each +-20 %) while unreachable; then 0.5 s again after a connection on which the
    # service spoke (it was 4 s before), and 4 s after one it closed without a word (a refused token).
    assert len(waits) == 4 and waits[2] > 1.5, waits
    assert waits[3] < 1.5 if spoke else waits[3] > 3.0, waits
    events = [e["event"] for e in replica.store.log("main")]
    assert events == ["disconnected"] * 4, events
