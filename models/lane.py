"""The one way a model's work is run: on its own thread, one call at a time, in arrival order.

Native engines care which thread drives them (models/threads.py) and a model instance is not safe
for concurrent calls, so each engine (or each cloud model worker) has one lane. A lane is an
`Executor`, so `run_in_executor` and `iterate_in_thread` use it as they would any pool, but it
refuses work past `max_waiting` calls queued or running (EngineBusy, at once, rather than queued
behind minutes of work), and its `call`/`acall` stop waiting after `timeout_s` (EngineTimeout;
a native call cannot be interrupted, so it finishes on the lane and still counts until then).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, ParamSpec, TypeVar

from models.errors import EngineBusy, EngineTimeout

T = TypeVar("T")
P = ParamSpec("P")


class Lane(Executor):
    def __init__(self, name: str, *, timeout_s: float | None = None, max_waiting: int | None = None) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.max_waiting = max_waiting
        self.waiting = 0  # calls queued or running
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._thread: int | None = None

    def _started(self) -> ThreadPoolExecutor:
        with self._lock:  # two sessions' first calls must not make two threads
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix=self.name, initializer=self._mark)
            return self._pool

    def _mark(self) -> None:
        self._thread = threading.get_ident()

    @property
    def on_lane(self) -> bool:
        """Whether the caller is the lane's own thread (its work must then run inline, not queue)."""
        return self._thread == threading.get_ident()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        pool = self._started()
        with self._lock:
            if self.max_waiting is not None and self.waiting >= self.max_waiting:
                raise EngineBusy(f"the {self.name} model is busy", hint="retry shortly")
            self.waiting += 1
        try:
            future = pool.submit(fn, *args, **kwargs)
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Any) -> None:
        with self._lock:
            self.waiting -= 1

    def call(self, fn: Callable[..., T], *args: Any, what: str = "answer", who: str | None = None) -> T:
        """fn(*args) on the lane, from a thread that may block; inline when already on it."""
        if self.on_lane:
            return fn(*args)
        try:
            return self.submit(fn, *args).result(timeout=self.timeout_s)
        except FutureTimeout:
            raise self._late(what, who) from None

    async def acall(self, fn: Callable[..., T], *args: Any, what: str = "answer", who: str | None = None) -> T:
        """fn(*args) on the lane, awaited: one thread per call, the lane's."""
        future = asyncio.wrap_future(self.submit(fn, *args))
        try:
            return await asyncio.wait_for(future, self.timeout_s)
        except TimeoutError:
            raise self._late(what, who) from None

    def _late(self, what: str, who: str | None) -> EngineTimeout:
        return EngineTimeout(f"{who or self.name} did not {what} within {self.timeout_s:g} s")

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
