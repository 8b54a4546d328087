"""One model instance behind one thread, for services that run a local model (vision, voice).

A model instance is not safe for concurrent calls, and native engines care which thread drives
them (models/threads.py), so each model gets a single worker thread: it loads the model on first
use (never on the event loop, and only in processes that are asked for it), then runs calls one at
a time in arrival order. Past `max_pending` waiting calls, more are refused with 503 at once
rather than queued behind minutes of work.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from cloud.common.errors import ApiError
from models.errors import EngineError, EngineTimeout, ModelError

M = TypeVar("M")
R = TypeVar("R")


class ModelWorker(Generic[M]):
    def __init__(self, name: str, load: Callable[[], M], *, max_pending: int = 16) -> None:
        self.name = name
        self._load = load
        self._model: M | None = None
        self._lock = threading.Lock()  # the executor has one thread; the lock makes that a rule
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"model-{name}")
        self._pending = 0
        self.max_pending = max_pending

    def model(self) -> M:
        """The loaded model (on the calling thread: use from inside `run`, or in a test)."""
        if self._model is None:
            self._model = self._load()
        return self._model

    def _call(self, fn: Callable[[M], R]) -> R:
        with self._lock:
            return fn(self.model())

    async def run(self, fn: Callable[[M], R]) -> R:
        """fn(model) on the model's thread. Model and engine failures leave as API errors with
        their codes: a missing or corrupt model is 503, a stuck one 504."""
        if self._pending >= self.max_pending:
            raise ApiError(
                f"the {self.name} model is busy",
                code="MODEL_BUSY",
                status=503,
                headers={"Retry-After": "1"},
                hint="retry shortly",
            )
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, self._call, fn)
        except ModelError as err:
            raise ApiError(err.message, code=err.code, status=503, hint=err.hint) from err
        except EngineTimeout as err:
            raise ApiError(err.message, code=err.code, status=504, hint=err.hint) from err
        except EngineError as err:
            raise ApiError(err.message, code=err.code, status=500, hint=err.hint) from err
        finally:
            self._pending -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
