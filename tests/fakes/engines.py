from __future__ import annotations

import time

import numpy as np

from models.stt import STT


class FakeSTT(STT):
    """Knobs: the transcript to return, an exception to raise, a delay to simulate."""

    def __init__(
        self,
        fake_transcript: str = "",
        *,
        fake_exception: Exception | None = None,
        fake_delay_s: float = 0.0,
        timeout_s: float | None = 5.0,
    ) -> None:
        super().__init__(language="en", timeout_s=timeout_s)
        self.fake_transcript = fake_transcript
        self.fake_exception = fake_exception
        self.fake_delay_s = fake_delay_s
        self.calls = 0

    def _transcribe(self, audio: np.ndarray) -> str:
        self.calls += 1
        if self.fake_delay_s:
            time.sleep(self.fake_delay_s)
        if self.fake_exception is not None:
            raise self.fake_exception
        return self.fake_transcript
