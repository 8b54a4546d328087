"""Brain benchmark: local intent latency (ours vs bare hassil, on a 100-device home: issue #16's
house padded with lights and switches),
the small LLM's tokens per second through our engine vs bare llama-cpp in the same run, tool-call
latency, and end of speech to the device's confirmation for "turn on the kitchen light" through
the whole voice pipeline, paced in real time.

    make bench-brain    # or: .venv/bin/python -m bench.brain [--runs 7] [--intents-only]

Prints Markdown tables and writes bench/results/brain.json.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import loaded_engines, machine, median, table, write_json
from bench.devices import hub_at
from bench.turns import STAGES, ms, realtime_turn
from device_drivers.mosquitto import Mosquitto
from device_drivers.simulator import Simulator, device_from
from edge_runtime.audio.convert import resample
from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.brain.tools import call_tool, grounded
from edge_runtime.devices.registry import DeviceRegistry
from edge_runtime.engines import Engines
from edge_runtime.settings import EdgeSettings
from models.llm import LlamaLLM
from models.registry import Registry
from models.tts import PiperTTS
from tests.eval.home import HOUSE, home_config, running_home
from tests.eval.run import house_cases

HOME = [
    {"id": "kitchen_light", "name": "Kitchen Light", "kind": "light", "convention": "ha", "area": "Kitchen"},
    {"id": "0x01", "name": "Bedroom Lamp", "kind": "light", "convention": "z2m"},
    {"id": "thermostat", "name": "Thermostat", "kind": "climate", "convention": "ha", "area": "Hallway"},
    {"id": "front-door", "name": "Front Door", "kind": "lock", "convention": "homie"},
    {"id": "blinds", "name": "Blinds", "kind": "cover", "convention": "ha", "area": "Living Room"},
]


PAD_WORDS = ("Spot", "Pendant", "Strip", "Sconce", "Bulb", "Outlet")


def hundred_devices() -> dict[str, Any]:
    """Issue #16's house (58 devices) padded to 100 with lights and switches in its rooms."""
    config = home_config(HOUSE)
    devices, areas = list(config["devices"]), sorted({d["area"] for d in config["devices"]})
    for i in range(100 - len(devices)):
        area, word = areas[i % len(areas)], PAD_WORDS[i // len(areas)]
        kind = "switch" if word == "Outlet" else "light"
        devices.append({"id": f"pad_{i}", "name": f"{area} {word}", "kind": kind, "convention": "ha", "area": area})
    return {**config, "devices": devices}


def _p99(values: list[float]) -> float:
    return 1000 * sorted(values)[int(0.99 * (len(values) - 1))]


def intent_latency(skill: DeviceSkill, rounds: int, sentences: list[str]) -> dict[str, float]:
    """Ours (the whole local path) and bare hassil.recognize, interleaved sentence by sentence."""
    from hassil import recognize

    engine = skill.engine
    ours, bare = [], []
    for _ in range(rounds):
        for text in sentences:
            t0 = time.perf_counter()
            skill.match(text)  # the brain's local path: splitting, numbers, name repair, planning
            ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            recognize(text, engine.intents, slot_lists=engine.slot_lists())
            bare.append(time.perf_counter() - t0)
    return {
        "devices": len(skill.devices.registry.records),
        "sentences": len(sentences),
        "rounds": rounds,
        "ours_ms": round(1000 * median(ours), 3),
        "bare_ms": round(1000 * median(bare), 3),
        "ours_p99_ms": round(_p99(ours), 3),
        "bare_p99_ms": round(_p99(bare), 3),
        "ours_max_ms": round(1000 * max(ours), 3),
    }


def local_sentences() -> list[str]:
    """The house's local-route sentences (hand-written and expanded from HA's templates) that stand alone."""
    cases = house_cases()
    return [c["text"] for c in cases if c["route"] == "local-intent" and not c.get("after") and not c.get("room")]


async def intents_only(rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "broker").start()
        try:
            async with running_home(broker.url, Path(tmp) / "house.sqlite3", config=hundred_devices()) as home:
                assert home.brain.devices is not None
                return intent_latency(home.brain.devices, rounds, local_sentences())
        finally:
            broker.stop()


def print_intents(i: dict[str, Any]) -> None:
    print(
        table(
            f"Local intent latency ({i['sentences']} sentences x {i['rounds']}, {i['devices']} devices, ms)",
            ["path", "median", "p99"],
            [
                [
                    "ours: DeviceSkill.match (recognition, best parse, numbers, repair, planning)",
                    i["ours_ms"],
                    i["ours_p99_ms"],
                ],
                ["bare hassil.recognize (first parse), same intents and slot lists", i["bare_ms"], i["bare_p99_ms"]],
            ],
        )
    )


async def voice_to_confirmation(
    settings: EdgeSettings, engines: Engines, skill: DeviceSkill, audio: np.ndarray, sim: Simulator
) -> dict[str, float] | None:
    light = sim.devices["kitchen_light"]
    light.state["on"] = False  # each run turns it on anew
    sim.nodes[0].publish_state(light)
    await asyncio.sleep(0.2)
    marks = await realtime_turn(settings, engines, audio, devices=skill)
    if marks is None or marks["skill"].data["data"].get("route") != "local-intent":
        return None
    endpoint, stt, skill_mark, first = (marks[s] for s in STAGES)
    speech_end = endpoint.data["speech_end_wall"]
    return {
        "to_confirmation_ms": ms(skill_mark, speech_end),
        "endpoint_wait_ms": ms(endpoint, speech_end),
        "stt_after_endpoint_ms": ms(stt, endpoint),
        "intent_and_confirm_ms": ms(skill_mark, stt),
        "to_first_audio_ms": ms(first, speech_end),
    }


STORY = [{"role": "user", "content": "Write a long story about a dragon who learns to bake bread."}]


def llm_throughput(llm: LlamaLLM, runs: int, max_tokens: int) -> dict[str, float]:
    """Tokens per second, ours (LlamaLLM.astream consumed from asyncio as the brain does) vs bare
    llama-cpp create_chat_completion on the same model object and thread, interleaved."""

    async def ours_once() -> tuple[int, float, float]:
        started = time.perf_counter()
        first, n = 0.0, 0
        async for _ in llm.astream(STORY, max_tokens=max_tokens, temperature=0.0):
            n += 1
            first = first or time.perf_counter() - started
        return n, time.perf_counter() - started, first

    def bare_once() -> tuple[int, float, float]:
        started = time.perf_counter()
        first, n = 0.0, 0
        for piece in llm.llama.create_chat_completion(
            messages=STORY, max_tokens=max_tokens, temperature=0.0, stream=True
        ):
            if piece["choices"][0]["delta"].get("content"):
                n += 1
                first = first or time.perf_counter() - started
        return n, time.perf_counter() - started, first

    ours, bare = [], []
    for _ in range(runs):  # bare runs on the model's own thread too: one thread drives it, as a bare user would
        ours.append(asyncio.run(ours_once()))
        bare.append(llm.thread.submit(bare_once).result())
    ours_tps = median([n / s for n, s, _ in ours])
    bare_tps = median([n / s for n, s, _ in bare])
    return {
        "runs": runs,
        "tokens": ours[0][0],
        "ours_tps": round(ours_tps, 1),
        "bare_tps": round(bare_tps, 1),
        "ratio": round(bare_tps / ours_tps, 3),
        "ours_first_token_ms": round(1000 * median([f for *_, f in ours]), 1),
        "bare_first_token_ms": round(1000 * median([f for *_, f in bare]), 1),
    }


def tool_call_latency(llm: LlamaLLM, registry: DeviceRegistry, runs: int) -> dict[str, float]:
    texts = ["it's too dark in the garage", "i want the kids fan running", "kill the printer plug"]
    times, valid = [], 0
    for _ in range(runs):
        for text in texts:
            candidates = grounded(text, registry)
            started = time.perf_counter()
            valid += call_tool(llm, text, candidates).valid
            times.append(time.perf_counter() - started)
    return {"median_ms": round(1000 * median(times), 1), "valid": valid, "calls": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--llm-runs", type=int, default=5)
    parser.add_argument("--llm-tokens", type=int, default=128)
    parser.add_argument("--intents-only", action="store_true", help="only the local intent latency")
    args = parser.parse_args()
    if args.intents_only:
        intents = asyncio.run(intents_only(args.rounds))
        print_intents(intents)
        command = ".venv/bin/python -m bench.brain --intents-only"
        print(f"\nwrote {write_json('brain_intents', {'machine': machine(), 'command': command, 'intents': intents})}")
        return
    settings = EdgeSettings()
    registry = Registry()
    engines = loaded_engines(settings, registry)
    llm = LlamaLLM(registry)
    llm.warm_up()
    voice = PiperTTS(registry, deterministic=True)

    def say(text: str) -> np.ndarray:
        return resample(voice.synthesize_all(text), voice.sample_rate, 16000) * 0.8

    audio = np.concatenate(
        [
            np.zeros(8000, np.float32),
            say("Hey Jarvis."),
            np.zeros(4800, np.float32),
            say("Turn on the kitchen light."),
            np.zeros(32000, np.float32),
        ]
    )

    async def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            broker = Mosquitto(Path(tmp) / "broker").start()
            try:
                async with running_home(broker.url, Path(tmp) / "eval.sqlite3", llm=llm) as home:
                    tools = tool_call_latency(llm, home.devices.registry, 3)
                intents = await intents_only(args.rounds)
                with Simulator(broker.url, [device_from(d) for d in HOME]) as sim:
                    devices = await hub_at(broker.url, Path(tmp) / "d.sqlite3").start()
                    await devices.settle(quiet_s=0.3)
                    skill = DeviceSkill(devices)
                    turns = [
                        await voice_to_confirmation(settings, engines, skill, audio, sim) for _ in range(args.runs)
                    ]
                    await devices.stop()
            finally:
                broker.stop()
        ok = [t for t in turns if t]
        keys = ok[0].keys() if ok else []
        return {
            "intents": intents,
            "tool_calls": tools,
            "voice": {"runs": args.runs, "answered": len(ok), **{k: median([t[k] for t in ok]) for k in keys}},
        }

    throughput = llm_throughput(llm, args.llm_runs, args.llm_tokens)
    results: dict[str, Any] = {
        "machine": machine(),
        "command": "make bench-brain (.venv/bin/python -m bench.brain)",
        "llm": throughput,
        **asyncio.run(run()),
    }
    i, v, g, t = results["intents"], results["voice"], results["llm"], results["tool_calls"]
    print(
        table(
            f"Small LLM (SmolLM2-135M Q4_1, 2 threads), {g['tokens']} tokens x {g['runs']} runs, interleaved",
            ["path", "tokens/s", "first token ms"],
            [
                [
                    "ours: LlamaLLM.astream from asyncio, as the brain streams it",
                    g["ours_tps"],
                    g["ours_first_token_ms"],
                ],
                ["bare llama-cpp create_chat_completion(stream=True)", g["bare_tps"], g["bare_first_token_ms"]],
                ["ratio bare/ours", g["ratio"], ""],
            ],
        )
    )
    print()
    print(
        table(
            "Tool call (JSON schema with registry enums) incl. grammar, median ms",
            ["median", "valid/calls"],
            [[t["median_ms"], f"{t['valid']}/{t['calls']}"]],
        )
    )
    print()
    print_intents(i)
    print()
    print(
        table(
            f"'Hey Jarvis, turn on the kitchen light', real-time paced (median of {v['answered']}/{v['runs']}, ms)",
            [
                "end of speech to confirmation",
                "endpoint wait",
                "STT after endpoint",
                "intent + MQTT + echo",
                "end of speech to first reply audio",
            ],
            [
                [
                    v.get("to_confirmation_ms"),
                    v.get("endpoint_wait_ms"),
                    v.get("stt_after_endpoint_ms"),
                    v.get("intent_and_confirm_ms"),
                    v.get("to_first_audio_ms"),
                ]
            ],
        )
    )
    print(f"\nwrote {write_json('brain', results)}")


if __name__ == "__main__":
    main()
