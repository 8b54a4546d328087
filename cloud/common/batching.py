"""Calls to Redis gathered per turn of the event loop and sent as one command (auto-pipelining).

Under load, many requests reach the same Redis call in one turn of the loop. Each call on its own
costs redis-py's client (a pooled connection, packing, a read) far more CPU than Redis spends on
it; sent together they cost one. Nothing is decided in the process: each item is still answered
by Redis, in the order it was submitted, so batching changes no outcome, only the overhead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from cloud.common.errors import CacheUnavailable

A = TypeVar("A")
R = TypeVar("R")


class Batcher(Generic[A, R]):
    """`await batcher(item)` answers with `run(items)[i]`. One batch is in flight at a time: the
    items submitted meanwhile go in the next, sent as soon as it returns (or, when nothing is in
    flight, once every task already runnable in this turn of the loop has had its say). So a
    batch grows with the load by itself, with no timer, and waits at most one round trip more.
    At most `max_batch` items go in one call."""

    def __init__(self, run: Callable[[list[A]], Awaitable[list[R]]], max_batch: int = 256) -> None:
        self._run = run
        self._max = max_batch
        self._pending: list[tuple[A, asyncio.Future[R]]] = []
        self._busy = False  # a flush is scheduled or a batch is in flight
        self._task: asyncio.Task[None] | None = None  # held: the loop keeps only weak references

    def __call__(self, item: A) -> asyncio.Future[R]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, future))
        if not self._busy:
            self._busy = True
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        if not self._pending:
            self._busy = False
            return
        batch, self._pending = self._pending[: self._max], self._pending[self._max :]
        self._task = asyncio.ensure_future(self._send(batch))
        self._task.add_done_callback(lambda _: self._flush())

    async def _send(self, batch: list[tuple[A, asyncio.Future[R]]]) -> None:
        try:
            results = await self._run([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} got {len(results)} answers")
        except BaseException as err:
            for _, future in batch:
                if future.done():  # a waiter may have gone (its request was cancelled)
                    continue
                if isinstance(err, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(_own(err))
            if isinstance(err, asyncio.CancelledError):
                raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _own(err: BaseException) -> BaseException:
    """Each waiter raises an exception of its own (one instance re-raised by many tasks would gather
    all their tracebacks)."""
    if isinstance(err, CacheUnavailable):
        fresh = CacheUnavailable()
        fresh.__cause__ = err.__cause__
        return fresh
    return err
