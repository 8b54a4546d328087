"""What every engine shares: metrics, timeouts and error wrapping (the policy, not the I/O)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from models.errors import CompanionError, EngineError, EngineTimeout

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
    """Base of every model runtime. Subclasses implement only their `_impl` methods."""

    error_type: ClassVar[type[EngineError]] = EngineError
    kind: ClassVar[str] = "engine"

    def __init__(self, *, timeout_s: float | None = None) -> None:
        self.timeout_s = timeout_s
        self.metrics = EngineMetrics()
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    @property
    def name(self) -> str:
        return type(self).__name__

    def _fail(self, err: Exception, what: str) -> CompanionError:
        self.metrics.errors += 1
        if isinstance(err, CompanionError):
            return err
        return self.error_type(f"{self.name} failed to {what}: {err}")

    def _call_with_timeout(self, fn: Callable[..., T], *args: Any, what: str) -> T:
        """Run a slow call on the engine's own thread, so a stuck model cannot hang the hub."""
        if self.timeout_s is None:
            return fn(*args)
        with self._executor_lock:  # two sessions' first calls must not make two engine threads
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=self.kind)
        future = self._executor.submit(fn, *args)
        try:
            return future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            raise EngineTimeout(f"{self.name} did not {what} within {self.timeout_s:g} s") from None

    async def _acall(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    def _timed(self, started: float) -> None:
        self.metrics.record(time.perf_counter() - started)
