"""Frame processors and the pipeline that links them (after pipecat).

A processor has one job: `process_frame` receives a frame and `push_frame`s results.
Fast processors run inline. Slow ones (`QueuedProcessor`) own a queue and a task so the
audio path never waits on a model; system frames skip that queue and cancel the work in
flight, which is what makes barge-in immediate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from enum import Enum

from edge_runtime.frames import Frame, Interrupt, SystemFrame

log = logging.getLogger(__name__)


class Direction(Enum):
    DOWNSTREAM = "down"
    UPSTREAM = "up"


DOWN = Direction.DOWNSTREAM
UP = Direction.UPSTREAM


class FrameProcessor:
    def __init__(self) -> None:
        self._next: FrameProcessor | None = None
        self._prev: FrameProcessor | None = None

    @property
    def name(self) -> str:
        return type(self).__name__

    def link(self, nxt: FrameProcessor) -> None:
        self._next = nxt
        nxt._prev = self

    async def start(self) -> None:
        """Called once before the first frame."""

    async def stop(self) -> None:
        """Called once when the pipeline shuts down."""

    def busy(self) -> bool:
        return False

    async def queue_frame(self, frame: Frame, direction: Direction = DOWN) -> None:
        await self.process_frame(frame, direction)

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        await self.push_frame(frame, direction)

    async def push_frame(self, frame: Frame, direction: Direction = DOWN) -> None:
        target = self._next if direction is DOWN else self._prev
        if target is not None:
            await target.queue_frame(frame, direction)


class QueuedProcessor(FrameProcessor):
    """Processes data frames on its own task; system and upstream frames go straight in."""

    def __init__(self) -> None:
        super().__init__()
        self._queue: asyncio.Queue[tuple[Frame, Direction]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._working = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def busy(self) -> bool:
        return self._working or not self._queue.empty()

    async def queue_frame(self, frame: Frame, direction: Direction = DOWN) -> None:
        if direction is UP or isinstance(frame, SystemFrame):
            if isinstance(frame, Interrupt):
                await self._cancel_work()
            await self.process_frame(frame, direction)
        else:
            self._queue.put_nowait((frame, direction))

    async def _cancel_work(self) -> None:
        """Drop queued frames and cancel the one in progress; the task restarts empty."""
        while not self._queue.empty():
            self._queue.get_nowait()
        if self._task is not None and self._working:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._working = False
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while True:
            frame, direction = await self._queue.get()
            self._working = True
            try:
                await self.process_frame(frame, direction)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("processor.failed", extra={"processor": self.name, "frame": frame.type})
            finally:
                self._working = False


class Pipeline:
    """Links processors in order. Frames enter at the head; the tail is the output."""

    def __init__(self, processors: Sequence[FrameProcessor]) -> None:
        if not processors:
            raise ValueError("a pipeline needs at least one processor")
        self.processors = list(processors)
        for a, b in zip(self.processors, self.processors[1:], strict=False):
            a.link(b)

    async def start(self) -> None:
        for p in self.processors:
            await p.start()

    async def stop(self) -> None:
        for p in reversed(self.processors):
            await p.stop()

    async def push(self, frame: Frame) -> None:
        await self.processors[0].queue_frame(frame, DOWN)

    def busy(self) -> bool:
        return any(p.busy() for p in self.processors)

    async def wait_idle(self, poll_s: float = 0.001) -> None:
        """Until no processor has work queued or in flight (lockstep runs over files)."""
        await asyncio.sleep(0)
        while self.busy():
            await asyncio.sleep(poll_s)
