"""A blocking iterator consumed from asyncio, driven by one thread from start to end.

Native engines care which thread calls them: llama.cpp's OpenMP workers belong to the thread
that runs a model, and a model driven from a second thread ran at half speed (SmolLM2: 56-85 vs
138-160 tokens/s). So an engine pins itself to one executor thread, and streams run there.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import Executor
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


async def iterate_in_thread(
    make: Callable[[], Iterator[T]], *, executor: Executor | None = None, name: str = "engine"
) -> AsyncGenerator[T, None]:
    """Items of `make()` as they are produced, on `executor` (else a new thread). Closing early
    stops the producer after its current item."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    stop = threading.Event()

    def produce() -> None:
        try:
            items = make()
            for item in items:
                loop.call_soon_threadsafe(queue.put_nowait, item)
                if stop.is_set():
                    close = getattr(items, "close", None)
                    if close is not None:
                        close()
                    break
            loop.call_soon_threadsafe(queue.put_nowait, _DONE)
        except BaseException as err:  # handed to the consumer as the stream's error
            loop.call_soon_threadsafe(queue.put_nowait, err)

    if executor is not None:
        finished: asyncio.Future[None] = loop.run_in_executor(executor, produce)
    else:
        worker = threading.Thread(target=produce, name=name, daemon=True)
        worker.start()
        finished = asyncio.ensure_future(asyncio.to_thread(worker.join))
    try:
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        await finished
