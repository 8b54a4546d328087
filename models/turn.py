"""End-of-turn runtime: Smart Turn v3.2 (pipecat's learned turn detector) on onnxruntime.

It hears how an utterance ends (intonation, a trailing "the ...") in the last 8 s of audio and
says how likely the speaker is done. Input as the model was trained: 16 kHz, the last 8 s kept,
shorter audio zero-padded at the front, the waveform normalized to zero mean and unit variance,
then Whisper's 80-bin log-mel spectrogram (faster-whisper's extractor gives the same features
as the transformers one the model was trained with, to about 1e-7). Output: a sigmoid probability;
0.5 is the model's threshold for "complete".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from models.engine import Engine
from models.errors import TurnError
from models.registry import Registry

MODEL_ID = "turn-smart-turn-v3"
RATE = 16000
WINDOW_S = 8
THRESHOLD = 0.5


class TurnDetector(Engine):
    """`complete_probability(audio)`: how likely the turn is over. Cheap enough to run inline (a
    few tens of ms on one core), once per pause rather than per frame."""

    error_type = TurnError
    kind = "turn"

    def __init__(self, registry: Registry, *, threads: int = 1, threshold: float = THRESHOLD) -> None:
        super().__init__()
        import onnxruntime as ort
        from faster_whisper.feature_extractor import FeatureExtractor

        options = ort.SessionOptions()
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = threads
        path = str(registry.path(MODEL_ID))
        self._session: Any = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self._features = FeatureExtractor(feature_size=80, sampling_rate=RATE, chunk_length=WINDOW_S)
        self.threshold = threshold

    def complete_probability(self, audio: np.ndarray) -> float:
        """16 kHz float32 mono in [-1, 1], the utterance so far (its end is what counts)."""
        if audio.ndim != 1:
            raise TurnError(f"the turn detector needs mono audio, got shape {audio.shape}")
        return self._inline(self._probability, audio, what="score a turn")

    def complete(self, audio: np.ndarray) -> bool:
        return self.complete_probability(audio) >= self.threshold

    def _probability(self, audio: np.ndarray) -> float:
        features = self.features(audio)
        (logits,) = self._session.run(None, {"input_features": features[None]})
        return float(np.asarray(logits).reshape(-1)[0])

    def features(self, audio: np.ndarray) -> np.ndarray:
        """(80, 800) float32 log-mel features of the last 8 s, padded with silence at the front."""
        n = WINDOW_S * RATE
        x = np.asarray(audio, dtype=np.float32)[-n:]
        x = np.pad(x, (n - len(x), 0))
        x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        return np.asarray(self._features(x, padding=0), dtype=np.float32)
