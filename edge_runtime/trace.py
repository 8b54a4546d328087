"""Per-turn timestamps, so one turn's latency can be broken down stage by stage."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Mark:
    event: str
    wall: float  # perf_counter seconds
    data: dict[str, Any] = field(default_factory=dict)


class Tracer:
    """Collects marks from every processor. Bounded, so a hub can run for months."""

    def __init__(self, maxlen: int = 4096) -> None:
        self.marks: deque[Mark] = deque(maxlen=maxlen)
        self.listeners: list[Callable[[Mark], None]] = []

    def mark(self, event: str, **data: Any) -> None:
        mark = Mark(event, time.perf_counter(), data)
        self.marks.append(mark)
        for listener in self.listeners:
            listener(mark)

    def last(self, event: str) -> Mark | None:
        for m in reversed(self.marks):
            if m.event == event:
                return m
        return None

    def all(self, event: str) -> list[Mark]:
        return [m for m in self.marks if m.event == event]

    def clear(self) -> None:
        self.marks.clear()

    def between_ms(self, start: str, end: str) -> float | None:
        a, b = self.last(start), self.last(end)
        if a is None or b is None:
            return None
        return round(1000 * (b.wall - a.wall), 1)
