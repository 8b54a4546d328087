"""CPU while the hub listens and nobody speaks: the whole voice pipeline against its bare engines.

    .venv/bin/python -m bench.idle [--seconds 30]

The hub's pipeline (`build_hub`, as `hub up` builds it, no devices) is fed room noise at -60 dBFS in
real time, 80 ms blocks, for `--seconds`; the process's CPU time over wall time is its cost. In the
same run, the same blocks go in real time through the bare engines: openWakeWord alone (what must run
on every block), and openWakeWord with Silero VAD on every 32 ms frame (what an always-on VAD would
add). Prints a Markdown table (paste into docs/BENCHMARKS.md) and writes bench/results/idle.json."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import numpy as np

from bench.common import loaded_engines, machine, table, write_json
from edge_runtime.audio.sources import BLOCK
from edge_runtime.clock import SystemClock
from edge_runtime.hub import build_hub
from edge_runtime.loop import AudioLoop
from edge_runtime.settings import EdgeSettings
from models.audio import RATE
from models.registry import Registry


def noise(seconds: float, seed: int = 18) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    pcm = np.clip(rng.normal(0, 10 ** (-60 / 20), int(seconds * RATE)) * 32767, -32768, 32767).astype(np.int16)
    return [pcm[i : i + BLOCK] for i in range(0, len(pcm) - BLOCK + 1, BLOCK)]


async def pipeline_cpu(engines: Any, settings: EdgeSettings, blocks: list[np.ndarray]) -> float:
    hub = build_hub(settings, engines, SystemClock(settings.timezone))
    await hub.start()
    loop = AudioLoop(hub, None, realtime=True, lockstep=False)

    async def source() -> Any:
        for block in blocks:
            yield block

    try:
        cpu, wall = time.process_time(), time.perf_counter()
        await loop.run(source())
        return (time.process_time() - cpu) / (time.perf_counter() - wall)
    finally:
        await hub.stop()


def bare_cpu(engines: Any, blocks: list[np.ndarray], *, vad: bool) -> float:
    engines.wake.reset()
    frame = engines.vad.frame_samples
    cpu, wall = time.process_time(), time.perf_counter()
    started = wall
    for n, block in enumerate(blocks):
        engines.wake.process(block)
        if vad:
            audio = block.astype(np.float32) / 32768
            for i in range(0, len(audio) - frame + 1, frame):
                engines.vad.probability(audio[i : i + frame])
        time.sleep(max(0.0, started + (n + 1) * BLOCK / RATE - time.perf_counter()))
    return (time.process_time() - cpu) / (time.perf_counter() - wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    settings = EdgeSettings(llm_enabled=False)
    engines = loaded_engines(settings, Registry())
    blocks = noise(args.seconds)
    ours = asyncio.run(pipeline_cpu(engines, settings, blocks))
    wake = bare_cpu(engines, blocks, vad=False)
    both = bare_cpu(engines, blocks, vad=True)
    rows = [
        ["the hub's pipeline, listening (wake gate; VAD only after a wake)", f"{100 * ours:.1f} %"],
        ["bare openWakeWord on every block, same run", f"{100 * wake:.1f} %"],
        ["bare openWakeWord + Silero VAD on every frame, same run", f"{100 * both:.1f} %"],
    ]
    print(table(f"CPU while listening to silence, {args.seconds:.0f} s real time (% of one core)", ["", "CPU"], rows))
    path = write_json(
        "idle",
        {"machine": machine(), "seconds": args.seconds, "pipeline": ours, "bare_wake": wake, "bare_wake_vad": both},
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
