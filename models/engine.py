"""What every engine shares: its lane, timeouts, metrics and error wrapping (the policy, not the I/O)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from models.errors import CompanionError, EngineError
from models.lane import Lane

T = TypeVar("T")


@dataclass
class EngineMetrics:
    """Call counts and recent durations; cheap enough for every 80 ms audio frame."""

    calls: int = 0
    errors: int = 0
    total_s: float = 0.0
    recent_s: deque[float] = field(default_factory=lambda: deque(maxlen=256))

    def record(self, seconds: float) -> None:
        self.calls += 1
        self.total_s += seconds
        self.recent_s.append(seconds)

    @property
    def mean_ms(self) -> float:
        return 1000 * self.total_s / self.calls if self.calls else 0.0

    def snapshot(self) -> dict[str, float]:
        return {"calls": self.calls, "errors": self.errors, "mean_ms": round(self.mean_ms, 3)}


class Engine:
    """Base of every model runtime: it owns the policy (the lane its work runs on, a timeout, how
    many calls may wait, metrics, coded errors); subclasses implement only their `_impl` methods.
    Per-frame engines (wake, VAD, vision) run inline on their caller; slow ones use `_run`/`_arun`."""

    error_type: ClassVar[type[EngineError]] = EngineError
    kind: ClassVar[str] = "engine"

    def __init__(
        self, *, timeout_s: float | None = None, max_waiting: int | None = None, lane: Lane | None = None
    ) -> None:
        """`lane`: run on one already shared (a cloud model worker's), with its timeout and bound."""
        self.metrics = EngineMetrics()
        self.lane = lane or Lane(self.kind, timeout_s=timeout_s, max_waiting=max_waiting)

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def timeout_s(self) -> float | None:
        return self.lane.timeout_s

    def _fail(self, err: Exception, what: str) -> CompanionError:
        self.metrics.errors += 1
        if isinstance(err, CompanionError):
            return err
        return self.error_type(f"{self.name} failed to {what}: {err}")

    def _run(self, fn: Callable[..., T], *args: Any, what: str) -> T:
        """fn(*args) on the engine's lane, so a stuck model cannot hang its caller past the timeout."""
        return self.lane.call(fn, *args, what=what, who=self.name)

    async def _arun(self, fn: Callable[..., T], *args: Any, what: str) -> T:
        """The same, awaited: the call takes the lane's thread only, not one more to wait on it."""
        return await self.lane.acall(fn, *args, what=what, who=self.name)

    def _inline(self, fn: Callable[..., T], *args: Any, what: str) -> T:
        """fn(*args) on the caller's thread (a per-frame engine's work is too short for a lane),
        timed, and a failure coded as the engine's."""
        started = time.perf_counter()
        try:
            return fn(*args)
        except Exception as err:
            raise self._fail(err, what) from err
        finally:
            self._timed(started)

    def _timed(self, started: float) -> None:
        self.metrics.record(time.perf_counter() - started)
