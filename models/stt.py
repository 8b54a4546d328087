"""Speech-to-text runtimes: faster-whisper (default) and vosk (grammars, small devices)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from models.audio import RATE
from models.engine import Engine
from models.errors import SttError
from models.lane import Lane
from models.registry import Registry


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

    def __init__(
        self,
        *,
        language: str,
        timeout_s: float | None = 30.0,
        max_waiting: int | None = None,
        lane: Lane | None = None,
    ) -> None:
        super().__init__(timeout_s=timeout_s, max_waiting=max_waiting, lane=lane)
        self.language = language

    def transcribe(self, audio: np.ndarray, *, prefix: str | None = None, quick: bool = False) -> SttResult:
        """`prefix`: words the audio is known to begin with (a wake phrase); they are decoded
        as given and left out of the text, so the model aligns them instead of guessing.
        `quick`: the engine may trade some accuracy for speed (a guess to act on at a pause)."""
        if self._empty(audio):
            return SttResult("", self.language, 0.0, 0.0)
        started = time.perf_counter()
        try:
            text = self._run(self._work(prefix, quick), audio, what="transcribe")
        except Exception as err:
            raise self._fail(err, "transcribe") from err
        return self._result(text, audio, started)

    async def atranscribe(self, audio: np.ndarray, *, prefix: str | None = None, quick: bool = False) -> SttResult:
        """As `transcribe`, awaited; the work takes the engine's thread and no other."""
        if self._empty(audio):
            return SttResult("", self.language, 0.0, 0.0)
        started = time.perf_counter()
        try:
            text = await self._arun(self._work(prefix, quick), audio, what="transcribe")
        except Exception as err:
            raise self._fail(err, "transcribe") from err
        return self._result(text, audio, started)

    def _empty(self, audio: np.ndarray) -> bool:
        if audio.dtype != np.float32 or audio.ndim != 1:
            raise SttError(f"STT needs mono float32 audio, got {audio.dtype} with shape {audio.shape}")
        return len(audio) == 0

    def _work(self, prefix: str | None, quick: bool) -> Callable[[np.ndarray], str]:
        if prefix or quick:
            return lambda a: self._transcribe_after(a, prefix or "", quick)
        return self._transcribe

    def _result(self, text: str, audio: np.ndarray, started: float) -> SttResult:
        self._timed(started)
        return SttResult(text.strip(), self.language, len(audio) / RATE, time.perf_counter() - started)

    def _transcribe(self, audio: np.ndarray) -> str:
        raise NotImplementedError

    def _transcribe_after(self, audio: np.ndarray, prefix: str, quick: bool = False) -> str:
        """Engines that cannot be told the opening words transcribe it all."""
        return self._transcribe(audio)


def hears(languages: Sequence[str], language: str) -> bool:
    """Whether a model of these manifest `languages` transcribes `language` ("*": any)."""
    return "*" in languages or language in languages


def stt_model_for(registry: Registry, model_id: str, language: str) -> str:
    """The STT model for `language`: `model_id` if it hears it, else the first STT entry of the
    manifest that does. English-only tiny.en and a German hub (`--locale de`): Whisper base."""
    chosen = registry.entry(model_id)
    if not chosen.languages or hears(chosen.languages, language):
        return model_id
    for e in registry.entries(optional=True):
        if e.role == chosen.role and hears(e.languages, language):
            return e.id
    raise SttError(
        f"no speech-to-text model in the manifest hears '{language}' ({model_id} hears {', '.join(chosen.languages)})",
        code="STT_LANGUAGE_UNSUPPORTED",
        hint="point an entry at your own model: `companion models use ID PATH`",
    )


class WhisperSTT(STT):
    """faster-whisper, greedy decoding: commands are short, beam search costs 2-3x for nothing.

    `window_s=None` encodes Whisper's fixed 30 s window. A number encodes only the audio plus
    lead-in, at least that many seconds (CTranslate2 takes fewer mel frames): the encoder's cost
    then follows the audio. Below about 5 s the decoder loops, so the output is also capped by
    the audio's length. `quick_window_s` is the window of a quick call (bench/stt_window.py
    measures the accuracy cost of each).
    """

    def __init__(
        self,
        registry: Registry,
        model_id: str = "stt-whisper-tiny-en",
        *,
        language: str = "en",
        threads: int = 2,
        compute_type: str = "int8",
        timeout_s: float | None = 30.0,
        window_s: float | None = None,
        quick_window_s: float | None = 10.0,
        lane: Lane | None = None,
    ) -> None:
        super().__init__(language=language, timeout_s=timeout_s, lane=lane)
        from faster_whisper import WhisperModel

        path = registry.path(model_id)
        try:
            self._model = WhisperModel(str(path), device="cpu", compute_type=compute_type, cpu_threads=threads)
        except Exception as err:
            raise SttError(f"could not load Whisper model from {path}: {err}") from err
        for w in (window_s, quick_window_s):
            if w is not None and not 1.0 <= w <= 30.0:
                raise SttError(f"the Whisper window must be 1-30 s, got {w}", code="STT_BAD_WINDOW")
        self.window_s = window_s
        self.quick_window_s = quick_window_s

    def _transcribe(self, audio: np.ndarray) -> str:
        return self._transcribe_after(audio, "")

    def _transcribe_after(self, audio: np.ndarray, prefix: str, quick: bool = False) -> str:
        # Whisper drops a first word that starts at sample 0; a little lead-in silence fixes it.
        pad = np.zeros(RATE // 5, dtype=np.float32)
        padded = np.concatenate([pad, audio, pad])
        window = self.quick_window_s if quick else self.window_s
        if window is None or len(padded) >= 30 * RATE:
            segments, _ = self._model.transcribe(
                padded,
                language=self.language,
                beam_size=1,
                # Greedy only: faster-whisper's fallback resamples a hard clip at rising temperatures,
                # at random, so the same audio could give another transcript on the next run.
                temperature=0.0,
                vad_filter=False,
                without_timestamps=True,
                condition_on_previous_text=False,
                prefix=prefix or None,
            )
            text = " ".join(s.text.strip() for s in segments)
        else:
            text = self._short(padded, window, prefix)
        return _after(text, prefix)

    def _short(self, audio: np.ndarray, window_s: float, prefix: str = "") -> str:
        """One encoder pass over the audio (at least `window_s`), greedy, length-capped."""
        from faster_whisper.tokenizer import Tokenizer

        model = self._model
        # Zero samples to the window, as Whisper pads to its 30 s: the same log-mel floor.
        samples = max(round(window_s * RATE), len(audio))
        features = model.feature_extractor(np.pad(audio, (0, samples - len(audio))), padding=0)
        features = features[:, : samples // 320 * 2]
        multilingual = model.model.is_multilingual
        language = self.language if multilingual else "en"
        tokenizer = Tokenizer(model.hf_tokenizer, multilingual, task="transcribe", language=language)
        prompt = model.get_prompt(tokenizer, [], without_timestamps=True, prefix=prefix or None)
        # About 3 words a second of speech; a loop is cut off by the cap.
        cap = 10 + int(8 * len(audio) / RATE)
        result = model.model.generate(
            model.encode(features),
            [prompt],
            beam_size=1,
            max_length=len(prompt) + cap,
            suppress_blank=True,
            suppress_tokens=[-1],
        )
        tokens = [t for t in result[0].sequences_ids[0] if t < tokenizer.eot]
        return first_pass(tokenizer.decode(tokens))


def _after(text: str, prefix: str) -> str:
    """The text after the forced prefix, which the decoder returns with it."""
    text, prefix = text.strip(), prefix.strip()
    if prefix and text.startswith(prefix):
        rest = text[len(prefix) :].lstrip(" ,.!?;:-")
        return rest[:1].upper() + rest[1:]
    return text


def first_pass(text: str) -> str:
    """Cut a short-window loop ("Stop! Stop! Stop!") at the point where the text starts over."""
    words = text.split()
    for k in range(1, len(words) // 2 + 1):
        n = min(3, k, len(words) - k)
        if [_bare(w) for w in words[k : k + n]] == [_bare(w) for w in words[:n]]:
            return " ".join(words[:k])
    return text


def _bare(word: str) -> str:
    return word.strip(".,!?;:").lower()


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
        lane: Lane | None = None,
    ) -> None:
        super().__init__(language=language, timeout_s=timeout_s, lane=lane)
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
            rec = self._vosk.KaldiRecognizer(self._model, RATE, json.dumps(self.grammar, ensure_ascii=False))
        else:
            rec = self._vosk.KaldiRecognizer(self._model, RATE)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        rec.AcceptWaveform(pcm)
        return str(json.loads(rec.FinalResult()).get("text", ""))
