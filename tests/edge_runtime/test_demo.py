"""The demo's recording of what it said is the audio the hub heard (issue #18)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from edge_runtime import demo
from edge_runtime.engines import Engines
from edge_runtime.settings import EdgeSettings
from tests.speech import Voices


def test_the_demo_wav_is_clipped_as_the_hub_hears_it_not_wrapped(
    settings: EdgeSettings, engines: Engines, voices: Voices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Piper normalizes each sentence to a peak of 1.0, and resampling it to 16 kHz overshoots a
    # little; here by 20 %, so that the overshoot is certain. The hub clips it (ArraySource); a
    # plain int16 cast wrapped it into full-scale clicks in demo-input.wav, so the bare model run
    # on that WAV was given different audio from the hub's.
    def loud(_: Engines, text: str) -> np.ndarray:
        speech = voices.piper(text)
        return (speech * 1.2 / np.abs(speech).max()).astype(np.float32)

    monkeypatch.setattr(demo, "speak", loud)
    turns = asyncio.run(demo.run_demo(settings, engines, tmp_path, script=("What time is it?",)))
    pcm, _ = sf.read(str(tmp_path / "demo-input.wav"), dtype="int16")
    jumps = np.abs(np.diff(pcm.astype(np.int32)))
    assert np.abs(pcm.astype(np.int32)).max() >= 32767, (pcm.min(), pcm.max())  # it was loud enough
    assert jumps.max() < 40000, jumps.max()  # a wrapped sample jumps by ~65000
    assert [t.intent for t in turns] == ["time"], turns
