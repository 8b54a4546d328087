"""One model instance behind one thread, for services that run a local model (vision, voice).

A model instance is not safe for concurrent calls, and native engines care which thread drives
them (models/threads.py), so each model gets a single worker thread: it loads the model on first
use (never on the event loop, and only in processes that are asked for it), then runs calls one at
a time in arrival order. Past `max_pending` waiting calls, more are refused with 503 at once
rather than queued behind minutes of work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from cloud.common.errors import ApiError
from models.errors import EngineBusy, EngineError, EngineTimeout, ModelError
from models.lane import Lane

M = TypeVar("M")
R = TypeVar("R")


class ModelWorker(Generic[M]):
    def __init__(
        self, name: str, load: Callable[[], M], *, max_pending: int = 16, timeout_s: float | None = None
    ) -> None:
        self.name = name
        self._load = load
        self._model: M | None = None
        # The lane owns the thread, the timeout and the bound (models.lane), as every engine's does;
        # an engine loaded here may be given it (`lane=`), so its calls run inline on this thread.
        self.lane = Lane(f"model-{name}", timeout_s=timeout_s, max_waiting=max_pending)

    @property
    def max_pending(self) -> int | None:
        return self.lane.max_waiting

    def model(self) -> M:
        """The loaded model (on the calling thread: use from inside `run`, or in a test)."""
        if self._model is None:
            self._model = self._load()
        return self._model

    async def run(self, fn: Callable[[M], R]) -> R:
        """fn(model) on the model's thread. Model and engine failures leave as API errors with
        their codes: a missing or corrupt model is 503, a stuck one 504, a busy one 503 at once."""
        try:
            return await self.lane.acall(lambda: fn(self.model()), what="answer", who=f"the {self.name} model")
        except EngineBusy as err:
            raise ApiError(
                f"the {self.name} model is busy",
                code="MODEL_BUSY",
                status=503,
                headers={"Retry-After": "1"},
                hint="retry shortly",
            ) from err
        except ModelError as err:
            raise ApiError(err.message, code=err.code, status=503, hint=err.hint) from err
        except EngineTimeout as err:
            raise ApiError(err.message, code=err.code, status=504, hint=err.hint) from err
        except EngineError as err:
            raise ApiError(err.message, code=err.code, status=500, hint=err.hint) from err

    def close(self) -> None:
        self.lane.shutdown(wait=False, cancel_futures=True)
