"""Text-to-speech runtime: Piper, one audio chunk per sentence so playback starts early."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import ClassVar

import numpy as np

from models.engine import Engine
from models.errors import TtsError
from models.lane import Lane
from models.registry import Registry


class TTS(Engine):
    """Yields float32 mono audio at `sample_rate`, one chunk per sentence.

    One voice serves every pipeline (several WebRTC sessions at once), but Piper phonemizes with
    espeak-ng, whose state is process-global: each step of a stream runs on the engine's lane
    (models/lane.py), so two replies interleave sentence by sentence instead of corrupting each other.
    """

    error_type = TtsError
    kind = "tts"
    sample_rate: int = 22050

    # Short replies come back day after day ("Turned on the Kitchen Light."): their audio is kept and
    # replayed at once. Longer texts are rarely said twice; the bound keeps the cache a few MB.
    cache_chars: ClassVar[int] = 80

    def __init__(self, *, max_waiting: int | None = None, lane: Lane | None = None) -> None:
        super().__init__(max_waiting=max_waiting, lane=lane)
        self.last_first_audio_s = 0.0
        self.cache_entries = 128  # 0: synthesize every time (a benchmark of the model itself)
        self.cache_hits = 0
        self._lock = threading.Lock()  # the kept replies only: the model's steps run on the lane
        self._spoken: OrderedDict[str, list[np.ndarray]] = OrderedDict()

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        text = text.strip()
        if not text:
            return
        if (cached := self._cached(text)) is not None:
            self.last_first_audio_s = 0.0
            yield from cached
            return
        started = time.perf_counter()
        first = True
        kept: list[np.ndarray] | None = [] if len(text) <= self.cache_chars else None
        try:
            chunks = self._synthesize(text)
            while True:
                chunk = self._run(next, chunks, None, what="synthesize speech")
                if chunk is None:
                    break
                if first:
                    self.last_first_audio_s = time.perf_counter() - started
                    first = False
                if kept is not None:
                    chunk.setflags(write=False)  # replayed later: nobody may change it in place
                    kept.append(chunk)
                yield chunk
        except Exception as err:
            raise self._fail(err, "synthesize speech") from err
        finally:
            self._timed(started)
        if kept:  # only a reply synthesized to its end: an interrupted one never reaches here
            self._keep(text, kept)

    def _cached(self, text: str) -> list[np.ndarray] | None:
        with self._lock:
            chunks = self._spoken.get(text)
            if chunks is not None:
                self._spoken.move_to_end(text)
                self.cache_hits += 1
            return chunks

    def forget(self) -> None:
        """Drop every kept reply (a new voice, or a benchmark's cold start)."""
        with self._lock:
            self._spoken.clear()

    def _keep(self, text: str, chunks: list[np.ndarray]) -> None:
        with self._lock:
            self._spoken[text] = chunks
            while len(self._spoken) > self.cache_entries:
                self._spoken.popitem(last=False)

    def synthesize_all(self, text: str) -> np.ndarray:
        chunks = list(self.synthesize(text))
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)

    def _synthesize(self, text: str) -> Iterator[np.ndarray]:
        raise NotImplementedError


class PiperTTS(TTS):
    def __init__(
        self,
        registry: Registry,
        model_id: str = "tts-joe-medium",
        *,
        length_scale: float | None = None,
        deterministic: bool = False,
        lane: Lane | None = None,
    ) -> None:
        super().__init__(lane=lane)
        from piper.config import SynthesisConfig
        from piper.voice import PiperVoice

        path = registry.path(model_id)
        config = path.with_name(path.name + ".json")
        try:
            self._voice = PiperVoice.load(path, config_path=config if config.exists() else None)
        except Exception as err:
            raise TtsError(f"could not load Piper voice from {path}: {err}") from err
        self.sample_rate = int(self._voice.config.sample_rate)
        # Piper samples phoneme durations and prosody noise; zero noise gives the same audio
        # every time (reproducible test speech) at some cost in naturalness.
        noise = 0.0 if deterministic else None
        self._config = SynthesisConfig(length_scale=length_scale, noise_scale=noise, noise_w_scale=noise)

    def _synthesize(self, text: str) -> Iterator[np.ndarray]:
        for chunk in self._voice.synthesize(text, syn_config=self._config):
            yield chunk.audio_float_array
