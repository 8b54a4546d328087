"""What every connection shares: the hub's loaded engines and brain, the per-stream model pools, the info."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from wyoming.info import Info

from edge_runtime.settings import EdgeSettings
from edge_runtime.wyoming.handle import Conversations
from edge_runtime.wyoming.info import Offer, build_info, installed, voice_language, voice_name
from edge_runtime.wyoming.pool import Pool
from models.registry import Registry
from models.stt import STT
from models.tts import TTS
from models.vad import Vad
from models.wake import WAKE_WORDS, WakeWord

if TYPE_CHECKING:
    from edge_runtime.brain.router import Brain


class SpeechEngines(Protocol):
    """What the server takes from the hub's loaded engines (`edge_runtime.engines.Engines` is one)."""

    stt: STT
    tts: TTS


@dataclass
class Services:
    info: Info
    stt: STT | None = None
    tts: TTS | None = None
    voice: str = ""  # the voice's name in `info`
    voice_aliases: tuple[str, ...] = ()
    voice_language: str = "en"
    vads: Pool[Vad] | None = None
    wakes: Pool[WakeWord] | None = None
    wake_words: tuple[str, ...] = ()
    brain: Brain | None = None
    conversations: Conversations | None = None
    max_audio_s: float = 30.0
    vad_threshold: float = 0.5


def services_from(
    settings: EdgeSettings,
    engines: SpeechEngines,
    registry: Registry,
    brain: Brain | None = None,
    *,
    pool_size: int | None = None,
) -> Services:
    """STT and TTS are the hub's own loaded engines; wake word and VAD instances are per stream."""
    from models.vad import SileroVad
    from models.wake import OpenWakeWord

    keep = pool_size or settings.wyoming_max_clients
    words = tuple(w for w in WAKE_WORDS if installed(registry, f"wake-{w.replace('_', '-')}"))
    threshold = settings.wake_threshold
    if settings.stt_engine == "whisper":  # the entry the engines loaded for the hub's language
        from models.stt import stt_model_for

        stt_model = stt_model_for(registry, settings.stt_model, engines.stt.language)
    else:
        stt_model = settings.vosk_model
    offer = Offer(
        stt_model=stt_model,
        stt_language=engines.stt.language,
        tts_voice=settings.tts_voice,
        wake_words=words,
        brain_language=brain.language if brain is not None else None,
    )
    path = registry.path(settings.tts_voice)
    return Services(
        info=build_info(registry, offer),
        stt=engines.stt,
        tts=engines.tts,
        voice=voice_name(path),
        voice_aliases=(settings.tts_voice,),
        voice_language=voice_language(path, engines.stt.language),
        vads=Pool(lambda _: SileroVad(registry), keep=keep),
        wakes=Pool(lambda names: OpenWakeWord(registry, names, threshold=threshold), keep=keep),
        wake_words=words,
        brain=brain,
        conversations=Conversations(brain.language) if brain is not None else None,
        max_audio_s=settings.max_held_s,
        vad_threshold=settings.vad_threshold,
    )
