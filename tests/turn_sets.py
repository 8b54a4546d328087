"""Issue #18's turn sets, shared by its tests and bench/voice_turns.py: one WAV through the whole
hub in lockstep (the same WAV, the same result), ours or the pipeline before #18."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from device_drivers.simulator import Simulator, device_from
from edge_runtime.audio.sources import ArraySource
from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.clock import SystemClock
from edge_runtime.devices import DeviceHub
from edge_runtime.engines import Engines
from edge_runtime.hub import VoiceHub, build_hub
from edge_runtime.loop import AudioLoop
from edge_runtime.pipeline.gate import WakeGate
from edge_runtime.settings import EdgeSettings
from edge_runtime.trace import Tracer

RATE = 16000
HOME = [
    {"id": "kitchen_light", "name": "Kitchen Light", "kind": "light", "convention": "ha", "area": "Kitchen"},
    {"id": "hall_light", "name": "Hallway Light", "kind": "light", "convention": "ha", "area": "Hallway"},
    {"id": "0x01", "name": "Bedroom Lamp", "kind": "light", "convention": "z2m"},
    {"id": "garage", "name": "Garage Door", "kind": "cover", "convention": "ha", "area": "Garage"},
    {"id": "front-door", "name": "Front Door", "kind": "lock", "convention": "homie"},
]


def silence(s: float) -> np.ndarray:
    return np.zeros(int(s * RATE), dtype=np.float32)


def trim(a: np.ndarray) -> np.ndarray:
    loud = np.nonzero(np.abs(a) > 0.01)[0]
    return a[loud[0] : loud[-1] + 1] if len(loud) else a


def words(text: str) -> list[str]:
    nums = {"10": "ten", "30": "thirty", "30%": "thirty"}
    return [nums.get(w, w) for w in re.findall(r"[a-z0-9%']+", text.lower())]


def noisy(audio: np.ndarray, dbfs: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (audio + rng.normal(0.0, 10 ** (dbfs / 20), len(audio))).astype(np.float32)


@dataclass
class Heard:
    """What one run of the pipeline made of a WAV: the transcripts the brain got, in order."""

    transcripts: list[str] = field(default_factory=list)
    committed: bool = False  # acted on at a short pause, before the endpoint
    continuations: int = 0
    early: bool = False  # the committed transcript's quick pass began one VAD frame into the pause
    replies: list[str] = field(default_factory=list)
    played: list[str] = field(default_factory=list)  # each reply's kind as TTS took it: answer, earcon, ...


def present(hub: VoiceHub, engines: Engines) -> None:
    """Make a built hub the pipeline before issue #18 (the gate keeps no recent audio)."""
    for p in hub.pipeline.processors:
        if isinstance(p, WakeGate):
            p.recent = deque(maxlen=0)


async def hear(
    settings: EdgeSettings,
    engines: Engines,
    audio: np.ndarray,
    *,
    old: bool = False,
    devices: DeviceSkill | None = None,
    realtime: bool = False,
) -> Heard:
    """One WAV through the whole pipeline, in lockstep or paced by the wall clock."""
    tracer = Tracer()
    window = getattr(engines.stt, "window_s", None)
    if old:
        settings = settings.model_copy(update={"commit_on_meaning": False})
        engines.stt.window_s = None  # type: ignore[attr-defined]
    engines.wake.reset()
    hub = build_hub(settings, engines, SystemClock(), tracer=tracer, devices=devices)
    if old:
        present(hub, engines)
    loop = AudioLoop(hub, None, realtime=realtime, lockstep=not realtime)
    await hub.start()
    try:
        await loop.run(ArraySource(np.concatenate([audio, silence(1.0)])).blocks())
        await loop.finish()
    finally:
        await hub.stop()
        if old:
            engines.stt.window_s = window  # type: ignore[attr-defined]
    out = Heard()
    for m in tracer.all("stt"):
        out.transcripts.append(m.data["text"])
        out.committed |= bool(m.data.get("committed"))
        out.early |= bool(m.data.get("early"))
        out.continuations += bool(m.data.get("continuation"))
    out.replies = [m.data["reply"] for m in tracer.all("skill") if m.data.get("reply")]
    out.played = [str(m.data["kind"]) for m in tracer.all("tts_start")]
    return out


async def with_home(broker_url: str, db: Path) -> tuple[Simulator, DeviceHub, DeviceSkill]:
    sim = Simulator(broker_url, [device_from(d) for d in HOME]).__enter__()
    hub = await DeviceHub(broker_url, db).start()
    await hub.settle(quiet_s=0.3)
    hub.registry.edit("Bedroom Lamp", area="Bedroom")
    return sim, hub, DeviceSkill(hub)
