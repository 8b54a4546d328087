"""Brain benchmark: local intent latency (ours vs bare hassil), and end of speech to the device's
confirmation for "turn on the kitchen light" through the whole voice pipeline, paced in real time.

    make bench-brain    # or: .venv/bin/python -m bench.brain [--runs 7]

Prints Markdown tables and writes bench/results/brain.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import machine, median, table, write_json
from bench.turns import STAGES, ms, realtime_turn
from device_drivers.mosquitto import Mosquitto
from device_drivers.simulator import Simulator, device_from
from edge_runtime.audio.convert import resample
from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.devices import DeviceHub
from edge_runtime.engines import Engines
from edge_runtime.settings import EdgeSettings
from models.registry import Registry
from models.tts import PiperTTS

HOME = [
    {"id": "kitchen_light", "name": "Kitchen Light", "kind": "light", "convention": "ha", "area": "Kitchen"},
    {"id": "0x01", "name": "Bedroom Lamp", "kind": "light", "convention": "z2m"},
    {"id": "thermostat", "name": "Thermostat", "kind": "climate", "convention": "ha", "area": "Hallway"},
    {"id": "front-door", "name": "Front Door", "kind": "lock", "convention": "homie"},
    {"id": "blinds", "name": "Blinds", "kind": "cover", "convention": "ha", "area": "Living Room"},
]
SENTENCES = [
    "turn on the kitchen light",
    "set the thermostat to 21 degrees",
    "lock the front door",
    "is the front door locked?",
    "open the blinds halfway",
    "turn off all the lights in the kitchen",
]


def intent_latency(skill: DeviceSkill, rounds: int) -> dict[str, float]:
    from hassil import recognize

    engine = skill.engine
    ours, bare = [], []
    slots = engine._slot_lists()
    for _ in range(rounds):
        for text in SENTENCES:
            t0 = time.perf_counter()
            engine.recognize(text)
            ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            recognize(text, engine.intents, slot_lists=slots)
            bare.append(time.perf_counter() - t0)
    return {
        "ours_ms": 1000 * median(ours),
        "bare_ms": 1000 * median(bare),
        "ours_p99_ms": 1000 * sorted(ours)[int(0.99 * (len(ours) - 1))],
    }


async def voice_to_confirmation(settings: EdgeSettings, engines: Engines, skill: DeviceSkill, audio: np.ndarray,
                                sim: Simulator) -> dict[str, float] | None:  # fmt: skip
    light = sim.devices["kitchen_light"]
    light.state["on"] = False  # each run turns it on anew
    sim.nodes[0].publish_state(light)
    await asyncio.sleep(0.2)
    marks = await realtime_turn(settings, engines, audio, devices=skill)
    if marks is None or marks["skill"].data["data"].get("route") != "local-intent":
        return None
    endpoint, stt, skill_mark, first = (marks[s] for s in STAGES)
    speech_end = endpoint.data["speech_end_wall"]
    return {"to_confirmation_ms": ms(skill_mark, speech_end), "endpoint_wait_ms": ms(endpoint, speech_end),
            "stt_after_endpoint_ms": ms(stt, endpoint), "intent_and_confirm_ms": ms(skill_mark, stt),
            "to_first_audio_ms": ms(first, speech_end)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    settings = EdgeSettings()
    registry = Registry()
    with contextlib.redirect_stdout(io.StringIO()):
        engines = Engines.load(settings, registry)
        engines.warm_up()
    voice = PiperTTS(registry, deterministic=True)

    def say(text: str) -> np.ndarray:
        return resample(voice.synthesize_all(text), voice.sample_rate, 16000) * 0.8

    audio = np.concatenate([np.zeros(8000, np.float32), say("Hey Jarvis."), np.zeros(4800, np.float32),
                            say("Turn on the kitchen light."), np.zeros(32000, np.float32)])  # fmt: skip

    async def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            broker = Mosquitto(Path(tmp) / "broker").start()
            try:
                with Simulator(broker.url, [device_from(d) for d in HOME]) as sim:
                    devices = await DeviceHub(broker.url, Path(tmp) / "d.sqlite3").start()
                    await devices.settle(quiet_s=0.3)
                    skill = DeviceSkill(devices)
                    intents = intent_latency(skill, args.rounds)
                    turns = [
                        await voice_to_confirmation(settings, engines, skill, audio, sim) for _ in range(args.runs)
                    ]
                    await devices.stop()
            finally:
                broker.stop()
        ok = [t for t in turns if t]
        keys = ok[0].keys() if ok else []
        return {"intents": intents, "voice": {"runs": args.runs, "answered": len(ok),
                                              **{k: median([t[k] for t in ok]) for k in keys}}}  # fmt: skip

    results: dict[str, Any] = {"machine": machine(), "command": "make bench-brain (.venv/bin/python -m bench.brain)",
                               **asyncio.run(run())}  # fmt: skip
    i, v = results["intents"], results["voice"]
    print(table(f"Local intent latency ({len(SENTENCES)} sentences x {args.rounds}, ms)", ["path", "median"],
                [["ours: IntentEngine.recognize (slot lists from the registry + planning)", i["ours_ms"]],
                 ["bare hassil.recognize, same intents and slot lists", i["bare_ms"]],
                 ["ours p99", i["ours_p99_ms"]]]))  # fmt: skip
    print()
    print(table(f"'Hey Jarvis, turn on the kitchen light', real-time paced (median of {v['answered']}/{v['runs']}, ms)",
                ["end of speech to confirmation", "endpoint wait", "STT after endpoint", "intent + MQTT + echo",
                 "end of speech to first reply audio"],
                [[v.get("to_confirmation_ms"), v.get("endpoint_wait_ms"), v.get("stt_after_endpoint_ms"),
                  v.get("intent_and_confirm_ms"), v.get("to_first_audio_ms")]]))  # fmt: skip
    print(f"\nwrote {write_json('brain', results)}")


if __name__ == "__main__":
    main()
