"""Speech-to-text runtimes: faster-whisper (default) and vosk (grammars, small devices)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.engine import Engine
from models.errors import SttError
from models.registry import Registry

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class SttResult:
    text: str
    language: str
    audio_s: float
    compute_s: float

    @property
    def rtf(self) -> float:
        return self.compute_s / self.audio_s if self.audio_s else 0.0


class STT(Engine):
    """Transcribes one utterance of 16 kHz mono float32 audio."""

    error_type = SttError
    kind = "stt"

    def __init__(self, *, language: str, timeout_s: float | None = 30.0) -> None:
        super().__init__(timeout_s=timeout_s)
        self.language = language

    def transcribe(self, audio: np.ndarray) -> SttResult:
        if audio.dtype != np.float32 or audio.ndim != 1:
            raise SttError(f"STT needs mono float32 audio, got {audio.dtype} with shape {audio.shape}")
        audio_s = len(audio) / SAMPLE_RATE
        if len(audio) == 0:
            return SttResult("", self.language, 0.0, 0.0)
        started = time.perf_counter()
        try:
            text = self._call_with_timeout(self._transcribe, audio, what="transcribe")
        except Exception as err:
            raise self._fail(err, "transcribe") from err
        self._timed(started)
        return SttResult(text.strip(), self.language, audio_s, time.perf_counter() - started)

    async def atranscribe(self, audio: np.ndarray) -> SttResult:
        return await self._acall(self.transcribe, audio)

    def _transcribe(self, audio: np.ndarray) -> str:
        raise NotImplementedError


class WhisperSTT(STT):
    """faster-whisper, greedy decoding: commands are short, beam search costs 2-3x for nothing."""

    def __init__(
        self,
        registry: Registry,
        model_id: str = "stt-whisper-tiny-en",
        *,
        language: str = "en",
        threads: int = 2,
        compute_type: str = "int8",
        timeout_s: float | None = 30.0,
    ) -> None:
        super().__init__(language=language, timeout_s=timeout_s)
        from faster_whisper import WhisperModel

        path = registry.path(model_id)
        try:
            self._model = WhisperModel(str(path), device="cpu", compute_type=compute_type, cpu_threads=threads)
        except Exception as err:
            raise SttError(f"could not load Whisper model from {path}: {err}") from err

    def _transcribe(self, audio: np.ndarray) -> str:
        # Whisper drops a first word that starts at sample 0; a little lead-in silence fixes it.
        pad = np.zeros(SAMPLE_RATE // 5, dtype=np.float32)
        segments, _ = self._model.transcribe(
            np.concatenate([pad, audio, pad]),
            language=self.language,
            beam_size=1,
            vad_filter=False,
            without_timestamps=True,
            condition_on_previous_text=False,
        )
        return " ".join(s.text.strip() for s in segments)


class VoskSTT(STT):
    """Kaldi via vosk. A grammar limits the vocabulary: the fast, robust path for commands."""

    def __init__(
        self,
        registry: Registry,
        model_id: str = "stt-vosk-ko",
        *,
        language: str = "ko",
        grammar: Sequence[str] | None = None,
        timeout_s: float | None = 30.0,
    ) -> None:
        super().__init__(language=language, timeout_s=timeout_s)
        import vosk

        vosk.SetLogLevel(-1)
        self._vosk = vosk
        path = registry.path(model_id)
        try:
            self._model = vosk.Model(str(path))
        except Exception as err:
            raise SttError(f"could not load vosk model from {path}: {err}") from err
        self.grammar = list(grammar) if grammar else None

    def _transcribe(self, audio: np.ndarray) -> str:
        if self.grammar:
            rec = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE, json.dumps(self.grammar, ensure_ascii=False))
        else:
            rec = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        rec.AcceptWaveform(pcm)
        return str(json.loads(rec.FinalResult()).get("text", ""))
