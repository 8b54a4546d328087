"""The base classes own policy: validation, timeouts, errors, metrics."""

from __future__ import annotations

import numpy as np
import pytest

from models.errors import EngineTimeout, SttError, VadError, WakeError
from tests.fakes.engines import FakeSTT


def test_stt_timeout_is_a_clear_error() -> None:
    stt = FakeSTT("late", fake_delay_s=0.5, timeout_s=0.05)
    with pytest.raises(EngineTimeout) as exc:
        stt.transcribe(np.zeros(1600, dtype=np.float32))
    assert exc.value.code == "ENGINE_TIMEOUT"
    assert stt.metrics.errors == 1


def test_stt_backend_errors_are_wrapped_with_a_code() -> None:
    stt = FakeSTT(fake_exception=RuntimeError("decoder exploded"))
    with pytest.raises(SttError) as exc:
        stt.transcribe(np.zeros(1600, dtype=np.float32))
    assert exc.value.code == "STT_ERROR" and "decoder exploded" in exc.value.message


def test_stt_rejects_wrong_sample_format_and_counts_calls() -> None:
    stt = FakeSTT("hello")
    with pytest.raises(SttError):
        stt.transcribe(np.zeros(1600, dtype=np.int16))
    assert stt.transcribe(np.zeros(0, dtype=np.float32)).text == ""
    assert stt.calls == 0  # empty audio never reaches the backend
    assert stt.transcribe(np.zeros(1600, dtype=np.float32)).text == "hello"
    assert stt.metrics.calls == 1


def test_wake_and_vad_validate_frames(engines) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WakeError):
        engines.wake.process(np.zeros(1000, dtype=np.int16))
    with pytest.raises(VadError):
        engines.vad.probability(np.zeros(512, dtype=np.int16))
    with pytest.raises(WakeError):
        from models.wake import OpenWakeWord

        OpenWakeWord(None, ("hey_siri",))  # type: ignore[arg-type]
