"""Wake word runtime: openWakeWord on ONNX (tflite breaks with numpy 2)."""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass

import numpy as np

from models.engine import Engine
from models.errors import WakeError
from models.registry import Registry

FRAME_SAMPLES = 1280  # 80 ms at 16 kHz: openWakeWord's native hop
WAKE_WORDS = ("hey_jarvis", "alexa", "hey_mycroft", "hey_rhasspy")


@dataclass(frozen=True)
class WakeScore:
    name: str
    score: float


class WakeWord(Engine):
    """Scores 80 ms frames; reports a detection once per utterance of the wake phrase."""

    error_type = WakeError
    kind = "wake"
    frame_samples = FRAME_SAMPLES

    def __init__(self, *, threshold: float = 0.5, refractory_frames: int = 6) -> None:
        super().__init__()
        if not 0.0 < threshold < 1.0:
            raise WakeError(f"wake threshold must be between 0 and 1, got {threshold}")
        self.threshold = threshold
        self.refractory_frames = refractory_frames
        self._cooldown = 0
        self._armed = True

    def process(self, pcm16: np.ndarray) -> WakeScore | None:
        if pcm16.dtype != np.int16 or pcm16.shape != (self.frame_samples,):
            raise WakeError(f"wake word needs {self.frame_samples} int16 samples, got {pcm16.dtype}{pcm16.shape}")
        started = time.perf_counter()
        try:
            best = self._process(pcm16)
        except Exception as err:
            raise self._fail(err, "score a frame") from err
        finally:
            self._timed(started)
        if self._cooldown > 0:
            self._cooldown -= 1
            return None
        if not self._armed:
            # Re-arm only once the score has fallen well away: one phrase, one detection.
            self._armed = best.score < self.threshold / 3
            return None
        if best.score >= self.threshold:
            self._cooldown = self.refractory_frames
            self._armed = False
            self._reset()
            return best
        return None

    def reset(self) -> None:
        self._cooldown = 0
        self._armed = True
        self._reset()

    def _process(self, pcm16: np.ndarray) -> WakeScore:
        raise NotImplementedError

    def _reset(self) -> None:
        raise NotImplementedError


class OpenWakeWord(WakeWord):
    def __init__(
        self,
        registry: Registry,
        wake_words: tuple[str, ...] = ("hey_jarvis",),
        *,
        threshold: float = 0.5,
    ) -> None:
        super().__init__(threshold=threshold)
        unknown = [w for w in wake_words if w not in WAKE_WORDS]
        if unknown:
            raise WakeError(f"unknown wake word {unknown}; choose from {', '.join(WAKE_WORDS)}", code="WAKE_UNKNOWN")
        paths = [str(registry.path(f"wake-{w.replace('_', '-')}")) for w in wake_words]
        melspec = registry.path("wake-melspectrogram")
        embedding = registry.path("wake-embedding")
        from openwakeword.model import Model

        # It prints its model paths; stdout belongs to our results (--json, --stdout PCM).
        with contextlib.redirect_stdout(io.StringIO()):
            self._model = Model(
                wakeword_models=paths,
                inference_framework="onnx",
                melspec_model_path=str(melspec),
                embedding_model_path=str(embedding),
            )
        # openWakeWord keys predictions by file stem ("hey_jarvis_v0.1"); users know "hey_jarvis".
        self._names = {key: key.split("_v0")[0] for key in self._model.models}

    def _process(self, pcm16: np.ndarray) -> WakeScore:
        scores = self._model.predict(pcm16)
        key = max(scores, key=lambda k: scores[k])
        return WakeScore(self._names.get(key, key), float(scores[key]))

    def _reset(self) -> None:
        self._model.reset()
