"""Loads every model the hub needs, once, from the registry."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from edge_runtime.settings import EdgeSettings
from models.registry import Registry
from models.stt import STT
from models.tts import TTS
from models.vad import Vad
from models.wake import WakeWord


@dataclass
class Engines:
    wake: WakeWord
    vad: Vad  # endpointing
    barge_vad: Vad  # a second stream state, for speech barge-in during playback
    stt: STT
    tts: TTS
    load_ms: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: EdgeSettings, registry: Registry) -> Engines:
        from models.stt import VoskSTT, WhisperSTT, stt_model_for
        from models.tts import PiperTTS
        from models.vad import SileroVad
        from models.wake import OpenWakeWord

        timings: dict[str, float] = {}

        def timed(name: str, make):
            started = time.perf_counter()
            obj = make()
            timings[name] = round(1000 * (time.perf_counter() - started), 1)
            return obj

        wake = timed("wake", lambda: OpenWakeWord(registry, (settings.wake_word,), threshold=settings.wake_threshold))
        vad = timed("vad", lambda: SileroVad(registry))
        barge_vad = SileroVad(registry)
        stt: STT
        language, timeout = settings.stt_language or settings.language, settings.stt_timeout_s
        if settings.stt_engine == "vosk":
            vosk_language = settings.vosk_language
            stt = timed(
                "stt", lambda: VoskSTT(registry, settings.vosk_model, language=vosk_language, timeout_s=timeout)
            )
        else:
            threads, window, quick = settings.stt_threads, settings.stt_window_s, settings.stt_quick_window_s
            model_id = stt_model_for(registry, settings.stt_model, language)
            stt = timed(
                "stt",
                lambda: WhisperSTT(
                    registry,
                    model_id,
                    language=language,
                    threads=threads,
                    timeout_s=timeout,
                    window_s=window,
                    quick_window_s=quick,
                ),
            )
        tts = timed("tts", lambda: PiperTTS(registry, settings.tts_voice))
        return cls(wake, vad, barge_vad, stt, tts, timings)

    def warm_up(self) -> None:
        """Run each model once: first inferences allocate, and a user's first turn should not pay."""
        import numpy as np

        self.stt.transcribe(np.zeros(16000, dtype=np.float32))
        self.tts.synthesize_all("Ready.")
        self.vad.probability(np.zeros(self.vad.frame_samples, dtype=np.float32))
        self.vad.reset()
        self.wake.process(np.zeros(self.wake.frame_samples, dtype=np.int16))
        self.wake.reset()


def known_wake_words() -> list[str]:
    """Wake words the manifest has a model for: "hey_jarvis" for wake-hey-jarvis."""
    from models.registry import load_manifest

    helpers = {"wake-melspectrogram", "wake-embedding"}
    return sorted(e.id[5:].replace("-", "_") for e in load_manifest() if e.role == "wake" and e.id not in helpers)
