"""The engine's lane owns the policy: one thread per engine, a timeout, and how many calls may wait."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from models.errors import EngineBusy, EngineTimeout
from models.lane import Lane
from tests.fakes.engines import FakeSTT


def test_async_transcription_runs_on_the_engines_one_thread() -> None:
    stt = FakeSTT("hello")
    seen: list[str] = []
    real = stt._transcribe

    def spy(audio: np.ndarray) -> str:
        seen.append(threading.current_thread().name)
        return real(audio)

    stt._transcribe = spy  # type: ignore[method-assign]

    async def twice() -> list[str]:
        audio = np.zeros(1600, dtype=np.float32)
        results = await asyncio.gather(stt.atranscribe(audio), stt.atranscribe(audio, quick=True))
        return [r.text for r in results]

    assert asyncio.run(twice()) == ["hello", "hello"]
    assert len(set(seen)) == 1 and seen[0].startswith("stt")
    assert stt.metrics.calls == 2


def test_past_max_waiting_a_call_is_refused_at_once_with_a_code() -> None:
    lane = Lane("slow", max_waiting=1)
    started = threading.Event()

    def work() -> str:
        started.set()
        time.sleep(0.2)
        return "done"

    first = lane.submit(work)
    started.wait(1)
    with pytest.raises(EngineBusy) as exc:
        lane.call(work)
    assert exc.value.code == "ENGINE_BUSY"
    assert first.result(1) == "done"
    assert lane.call(lambda: "free again") == "free again" and lane.waiting == 0
    lane.shutdown()


def test_an_awaited_call_times_out_with_a_code_and_work_on_the_lane_runs_inline() -> None:
    lane = Lane("stuck", timeout_s=0.05)

    async def late() -> None:
        await lane.acall(time.sleep, 0.3, what="answer", who="Stuck")

    with pytest.raises(EngineTimeout, match=r"Stuck did not answer within 0\.05 s"):
        asyncio.run(late())
    # A call made from the lane's own thread runs there at once instead of queueing behind itself.
    assert lane.submit(lambda: lane.call(lambda: "inline")).result(2) == "inline"
    lane.shutdown()
