"""Companion's Wyoming services against the ones Home Assistant users install today, same models, same client.

    .venv/bin/python -m bench.wyoming [--runs 3]

Three processes on loopback: ours (`--serve`, the hub's engines: Whisper tiny.en int8, Piper joe,
openWakeWord, Silero VAD), wyoming-faster-whisper and wyoming-piper, each pointed at the same
files from the model registry (nothing downloads). Every request is a new TCP connection from the
`wyoming` client, audio paced in real time as a satellite streams it, rounds interleaved:
audio-stop -> transcript, synthesize -> first audio chunk, and the RSS of each process after.
Writes bench/results/wyoming.json.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import machine, median, table, write_json

COMMANDS = ["Turn on the kitchen light.", "What time is it?", "Set the living room lamp to fifty percent."]
REPLIES = [
    "The kitchen light is on.",
    "It's twenty past nine. Anything else?",
    "I set the living room lamp to fifty percent, and the hallway is already dark.",
]
TRAILING_S = 0.8  # silence a satellite streams before Home Assistant's VAD calls the end of speech


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log.open("w"))


async def ready(port: int, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 120) -> None:
    from tests.edge_runtime.wyoming_client import describe

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited:\n{log.read_text()[-2000:]}")
        try:
            await describe(port)
            return
        except (OSError, TimeoutError, StopIteration):
            await asyncio.sleep(0.5)
    raise TimeoutError(f"{proc.args!r} not ready:\n{log.read_text()[-2000:]}")


def speech() -> list[Any]:
    from models.registry import Registry
    from models.tts import PiperTTS
    from tests.speech import Voices, join, silence

    voices = Voices(PiperTTS(Registry(), deterministic=True), Path(tempfile.mkdtemp()))
    return [join(silence(0.3), voices.piper(text), silence(TRAILING_S)) for text in COMMANDS]


async def measure(ports: dict[str, int], runs: int) -> dict[str, dict[str, list[Any]]]:
    from tests.edge_runtime import wyoming_client as ha

    audio = speech()
    out: dict[str, dict[str, list[Any]]] = {name: {"stt_ms": [], "texts": [], "tts_ms": []} for name in ports}
    stt_of = {n: ports[n] for n in ("companion", "companion-lean", "wyoming-faster-whisper")}
    tts_of = {n: ports[n] for n in ("companion", "companion-lean", "wyoming-piper")}
    for _ in range(runs):
        for clip in audio:
            for name, port in stt_of.items():
                got = await ha.transcribe(port, clip)
                out[name]["stt_ms"].append(1000 * (got.arrived("transcript") - got.stop_sent))
                out[name]["texts"].append(got.first("transcript").data["text"])
        for text in REPLIES:
            for name, port in tts_of.items():
                got = await ha.synthesize(port, text)
                out[name]["tts_ms"].append(1000 * (got.arrived("audio-chunk") - got.stop_sent))
    for ours in ("companion", "companion-lean"):  # the wake word service in use too, for the RSS figure
        await ha.detect(ports[ours], audio[0])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # our side, in its own process
    parser.add_argument("--lean", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve, args.lean))
        return
    from device_drivers.mosquitto import free_port
    from models.registry import Registry

    registry = Registry()
    model, voice = registry.path("stt-whisper-tiny-en"), registry.path("tts-joe-medium")
    work = Path(tempfile.mkdtemp(prefix="bench-wyoming-"))
    ports = {
        "companion": free_port(),
        "companion-lean": free_port(),
        "wyoming-faster-whisper": free_port(),
        "wyoming-piper": free_port(),
    }
    py = sys.executable
    commands = {
        "companion": [py, "-m", "bench.wyoming", "--serve", str(ports["companion"])],
        "companion-lean": [py, "-m", "bench.wyoming", "--serve", str(ports["companion-lean"]), "--lean"],
        "wyoming-faster-whisper": [
            py,
            "-m",
            "wyoming_faster_whisper",
            "--uri",
            f"tcp://127.0.0.1:{ports['wyoming-faster-whisper']}",
            "--model",
            str(model),
            "--data-dir",
            str(work),
            "--language",
            "en",
            "--beam-size",
            "1",
            "--compute-type",
            "int8",
            "--cpu-threads",
            "2",
            "--local-files-only",
        ],
        "wyoming-piper": [
            py,
            "-m",
            "wyoming_piper",
            "--uri",
            f"tcp://127.0.0.1:{ports['wyoming-piper']}",
            "--voice",
            str(voice),
            "--data-dir",
            str(work),
        ],
    }
    procs = {name: start(cmd, work / f"{name}.log") for name, cmd in commands.items()}
    try:
        for name, proc in procs.items():
            asyncio.run(ready(ports[name], proc, work / f"{name}.log"))
        results = asyncio.run(measure(ports, args.runs))
        memory = {name: rss_mb(proc.pid) for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(20)
    report(results, memory, args.runs)


def report(results: dict[str, dict[str, list[Any]]], memory: dict[str, tuple[float, float]], runs: int) -> None:
    ours, fw, piper = results["companion"], results["wyoming-faster-whisper"], results["wyoming-piper"]
    stt = (median(ours["stt_ms"]), median(fw["stt_ms"]))
    tts = (median(ours["tts_ms"]), median(piper["tts_ms"]))
    theirs_rss = memory["wyoming-faster-whisper"][0] + memory["wyoming-piper"][0]
    hub_rss, lean_rss = memory["companion"][0], memory["companion-lean"][0]
    rows = [
        ["audio-stop -> transcript, median ms", stt[0], stt[1], stt[0] / stt[1]],
        [
            "audio-stop -> transcript, max ms",
            max(ours["stt_ms"]),
            max(fw["stt_ms"]),
            max(ours["stt_ms"]) / max(fw["stt_ms"]),
        ],
        ["synthesize -> first audio chunk, median ms", tts[0], tts[1], tts[0] / tts[1]],
        ["RSS MB, ours as `hub up` loads it; theirs: whisper + piper", hub_rss, theirs_rss, hub_rss / theirs_rss],
        ["RSS MB, ours with only what Wyoming uses", lean_rss, theirs_rss, lean_rss / theirs_rss],
    ]
    print(
        table(
            "Wyoming: Companion vs wyoming-faster-whisper + wyoming-piper", ["measure", "ours", "theirs", "ratio"], rows
        )
    )
    same = sum(a.strip() == b.strip() for a, b in zip(ours["texts"], fw["texts"], strict=True))
    print(
        f"\nsame transcript as wyoming-faster-whisper: {same}/{len(ours['texts'])}; ours: {sorted(set(ours['texts']))}"
    )
    path = write_json(
        "wyoming",
        {
            "machine": machine(),
            "runs": runs,
            "commands": COMMANDS,
            "replies": REPLIES,
            "results": results,
            "rss_mb": {k: {"rss": v[0], "peak": v[1]} for k, v in memory.items()},
            "ratios": {
                "stt": stt[0] / stt[1],
                "tts_first_audio": tts[0] / tts[1],
                "rss": hub_rss / theirs_rss,
                "rss_lean": lean_rss / theirs_rss,
            },
        },
    )
    print(f"\nwrote {path}")


@dataclass
class Speech:
    stt: Any
    tts: Any


async def serve(port: int, lean: bool) -> None:
    """Our side: the hub's engines, loaded as `hub up` loads them (its own wake word and two VADs for
    the microphone included), behind the hub's Wyoming server; `lean`: only what Wyoming uses."""
    import signal

    from bench.common import loaded_engines
    from edge_runtime.memory import limit_malloc_arenas
    from edge_runtime.settings import EdgeSettings
    from edge_runtime.wyoming import WyomingServer, services_from
    from models.registry import Registry
    from models.stt import WhisperSTT
    from models.tts import PiperTTS

    limit_malloc_arenas()  # as `hub up` does, before the engines start their threads
    settings, registry = EdgeSettings(_env_file=None), Registry()
    if lean:
        engines: Any = Speech(
            WhisperSTT(registry, settings.stt_model, threads=settings.stt_threads),
            PiperTTS(registry, settings.tts_voice),
        )
    else:
        engines = loaded_engines(settings, registry)
    services = services_from(settings, engines, registry)
    assert services.vads is not None and services.wakes is not None
    await services.vads.prewarm()
    await services.wakes.prewarm(services.wake_words)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with WyomingServer(services, port=port):
        await stop.wait()


if __name__ == "__main__":
    main()
