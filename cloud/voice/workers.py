"""The voice service's model workers: Whisper, and the Piper voices, load on first use on their
worker's thread, so a process that never hears a request never loads them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from cloud.common.worker import ModelWorker


async def start(app: FastAPI) -> None:
    """Workers only: no model loads here."""
    from models.registry import Registry
    from models.stt import WhisperSTT

    settings = app.state.settings
    registry = Registry()
    app.state.voice_registry = registry
    # Whisper runs on its worker's own lane: inline on that one thread, under the worker's timeout.
    stt: ModelWorker[WhisperSTT] = ModelWorker(
        "stt",
        lambda: WhisperSTT(
            registry,
            settings.voice_stt_model,
            language=settings.voice_stt_language,
            threads=settings.voice_threads,
            lane=stt.lane,
        ),
        max_pending=settings.model_max_pending,
        timeout_s=60.0,
    )
    app.state.voice_stt = stt
    # One thread for every Piper voice: espeak-ng, which Piper phonemizes with, keeps
    # process-global state, so two voices must not speak at once either.
    app.state.voice_tts = ModelWorker("tts", dict, max_pending=settings.model_max_pending)


def speak(app: FastAPI, voice: str, text: str) -> Callable[[dict[str, Any]], tuple[bytes, int, float]]:
    """What the TTS worker runs: load `voice` once, then WAV bytes, sample rate and seconds."""
    from models.audio import encode_wav
    from models.tts import PiperTTS

    registry = app.state.voice_registry
    lane = app.state.voice_tts.lane  # the voices speak on the worker's own thread, inline

    def run(voices: dict[str, Any]) -> tuple[bytes, int, float]:
        if voice not in voices:
            voices[voice] = PiperTTS(registry, voice, lane=lane)
        tts = voices[voice]
        audio = tts.synthesize_all(text)
        return encode_wav(audio, tts.sample_rate), tts.sample_rate, len(audio) / tts.sample_rate

    return run


async def stop(app: FastAPI) -> None:
    for worker in (getattr(app.state, "voice_stt", None), getattr(app.state, "voice_tts", None)):
        if worker is not None:
            worker.close()
