"""The in-process sliding window both tiers count with: the hub's pairing attempts, and the cloud's
limits when it runs without Redis. One implementation, so both decide a boundary the same way."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

Answer = tuple[bool, float]  # admitted, seconds until a slot frees


class SlidingWindows:
    """Hits per key in a sliding window, on the monotonic clock (or `clock`, for tests). With
    `max_keys`, the least recently seen keys are forgotten first: bounded memory, O(1) per hit."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int | None = None) -> None:
        self.seen: OrderedDict[str, deque[float]] = OrderedDict()
        self.max_keys = max_keys
        self._clock = clock

    def hit(self, key: str, limit: int, window_s: float) -> Answer:
        """Counts one hit against `key` if its window has room; else says how long until it does."""
        now = self._clock()
        hits = self.seen.get(key)
        if hits is None:
            hits = self.seen[key] = deque()
        elif self.max_keys is not None:
            self.seen.move_to_end(key)
        while hits and hits[0] <= now - window_s:
            hits.popleft()
        if len(hits) >= limit:
            return False, hits[0] + window_s - now
        hits.append(now)
        if self.max_keys is not None and len(self.seen) > self.max_keys:
            self.seen.popitem(last=False)
        return True, 0.0
