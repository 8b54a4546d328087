"""The `info` a `describe` gets: what this hub serves, read from the model manifest, nothing assumed.

Home Assistant names its entities after these programs, offers only the languages listed here,
and loads one platform per program that says `installed`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    TtsProgram,
    TtsVoice,
    WakeModel,
    WakeProgram,
)

from models.registry import ModelEntry, Registry, Status

COMPANION = Attribution(name="Companion", url="https://pypi.org/project/companion/")
INTENTS = Attribution(
    name="Companion, with Home Assistant's intent sentences", url="https://github.com/home-assistant/intents"
)


@dataclass(frozen=True)
class Offer:
    """What this server was started with: model ids from the manifest, and languages."""

    stt_model: str | None = None
    stt_language: str = "en"
    tts_voice: str | None = None
    wake_words: tuple[str, ...] = ()
    brain_language: str | None = None  # None: no brain, no `handle`


def companion_version() -> str:
    try:
        return version("companion")
    except PackageNotFoundError:
        return "0"


def attribution(entry: ModelEntry) -> Attribution:
    """Who made the model and where it is from, as the manifest's `source` says."""
    url = entry.source.split()[0]
    who = url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else entry.package
    return Attribution(name=who, url=url)


def voice_name(path: Path) -> str:
    return path.name.removesuffix(".onnx")


def voice_language(path: Path, fallback: str) -> str:
    """Piper's voice config says its language ("en_US"); Home Assistant matches it to its own."""
    config = path.with_name(path.name + ".json")
    try:
        code = json.loads(config.read_text())["language"]["code"]
    except (OSError, ValueError, KeyError, TypeError):
        return fallback
    return str(code)


def installed(registry: Registry, model_id: str) -> bool:
    return registry.check(model_id, deep=False).status in (Status.VERIFIED, Status.CUSTOM)


def build_info(registry: Registry, offer: Offer) -> Info:
    ours = companion_version()
    info = Info()
    if offer.stt_model:
        e = registry.entry(offer.stt_model)
        model = AsrModel(
            name=e.id,
            attribution=attribution(e),
            installed=True,
            version=e.version,
            description=f"{e.description} ({e.package} {e.version}, {e.license})",
            languages=[offer.stt_language],
        )
        info.asr.append(
            AsrProgram(
                name="companion-stt",
                attribution=COMPANION,
                installed=True,
                version=ours,
                description="Companion speech-to-text (faster-whisper), with partial transcripts",
                models=[model],
                supports_transcript_streaming=True,
                requires_external_vad=True,
            )
        )
    if offer.tts_voice:
        e = registry.entry(offer.tts_voice)
        path = registry.path(offer.tts_voice)
        voice = TtsVoice(
            name=voice_name(path),
            attribution=attribution(e),
            installed=True,
            version=e.version,
            description=f"{e.description} ({e.package} {e.version}, {e.license})",
            languages=[voice_language(path, offer.stt_language)],
        )
        info.tts.append(
            TtsProgram(
                name="companion-tts",
                attribution=COMPANION,
                installed=True,
                version=ours,
                description="Companion text-to-speech (Piper), streamed sentence by sentence",
                voices=[voice],
                supports_synthesize_streaming=True,
            )
        )
    wake = [_wake_model(registry, w) for w in offer.wake_words]
    if wake:
        info.wake.append(
            WakeProgram(
                name="companion-wake",
                attribution=COMPANION,
                installed=True,
                version=ours,
                description="Companion wake word detection (openWakeWord, ONNX)",
                models=wake,
            )
        )
    if offer.brain_language:
        brain = HandleModel(
            name="companion-brain",
            attribution=INTENTS,
            installed=True,
            version=ours,
            description="The hub's brain: built-in skills, local intents on its devices, its LLM",
            languages=[offer.brain_language],
        )
        info.handle.append(
            HandleProgram(
                name="companion-assistant",
                attribution=COMPANION,
                installed=True,
                version=ours,
                description="Companion answers, and acts on the hub's devices",
                models=[brain],
                supports_handled_streaming=True,
                supports_home_control=True,
            )
        )
    return info


def _wake_model(registry: Registry, word: str) -> WakeModel:
    e = registry.entry(f"wake-{word.replace('_', '-')}")
    return WakeModel(
        name=word,
        attribution=attribution(e),
        installed=True,
        version=e.version,
        description=f"{e.description} ({e.package} {e.version}, {e.license})",
        languages=["en"],
        phrase=word.replace("_", " "),
    )
