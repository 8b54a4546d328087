"""WebRTC voice sessions: connect time, turn latency vs the plain audio loop, ping, CPU per session.

    .venv/bin/python -m bench.webrtc [--runs 3] [--pings 200]

The app is a real aiortc peer in this same process (tests/webrtc_peer.py), so the CPU figures
include the phone's side too (Opus encode and decode, SRTP, SCTP). Writes bench/results/webrtc.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.common import loaded_engines, machine, median, table, write_json
from bench.turns import ms, realtime_turn
from edge_runtime.clock import SystemClock
from edge_runtime.engines import Engines
from edge_runtime.settings import EdgeSettings
from edge_runtime.webrtc import WebRtcConfig, WebRtcSessions
from models.registry import Registry
from models.tts import PiperTTS
from tests.webrtc_peer import Phone


def silence(s: float) -> np.ndarray:
    return np.zeros(int(s * 16000), dtype=np.float32)


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95)) if values else float("nan")


async def connect_times(sessions: WebRtcSessions, runs: int) -> dict[str, Any]:
    """Offer -> answer -> data channel open, as the app sees it (first with no spare wake/VAD)."""
    app: list[float] = []
    hub: list[float] = []
    for _ in range(runs):
        phone = Phone()
        sid = await phone.connect(sessions)
        session = sessions.get(sid)
        await asyncio.wait_for(session.connected.wait(), 5)
        app.append(1000 * (phone.connect_s or 0.0))
        hub.append(1000 * (session.connect_s or 0.0))
        await phone.close()
        await session.wait_closed()
    return {"first_ms": app[0], "warm_median_ms": median(app[1:]), "hub_answer_to_connected_ms": median(hub)}


async def webrtc_turn(sessions: WebRtcSessions, audio: np.ndarray) -> dict[str, float] | None:
    phone = Phone()
    session = sessions.get(await phone.connect(sessions))
    try:
        phone.mic.play(audio)
        await phone.wait_for(lambda e: e["type"] == "reply", timeout=20)
        await asyncio.sleep(1.0)
        endpoint, first = session.hub.tracer.last("endpoint"), session.hub.tracer.last("first_audio")
        if endpoint is None or first is None:
            return None
        speech_end = endpoint.data["speech_end_wall"]
        heard = phone.loud_frames(since=first.wall)
        return {
            "hub_first_audio_ms": ms(first, speech_end),
            "app_heard_ms": 1000 * (heard[0] - speech_end) if heard else float("nan"),
        }
    finally:
        await phone.close()
        await session.wait_closed()


async def ping_latency(sessions: WebRtcSessions, count: int) -> dict[str, float]:
    phone = Phone()
    await phone.connect(sessions)
    rtts: list[float] = []
    for i in range(count):
        n = len(phone.events)
        started = time.perf_counter()
        phone.send({"type": "ping", "t": i})
        await phone.wait_for(_pong(i), after=n)
        rtts.append(1000 * (time.perf_counter() - started))
        await asyncio.sleep(0.01)
    await phone.close()
    return {"median_ms": statistics.median(rtts), "p95_ms": p95(rtts)}


def _pong(stamp: int) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == "pong" and e["t"] == stamp


async def cpu_per_session(sessions: WebRtcSessions, n: int, seconds: float) -> float:
    """Process CPU seconds per wall second with n connected apps streaming their mic (silence)."""
    phones = [Phone() for _ in range(n)]
    await asyncio.gather(*(p.connect(sessions) for p in phones))
    await asyncio.sleep(1.0)
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    used = (time.process_time() - cpu) / (time.perf_counter() - wall)
    for p in phones:
        await p.close()
    for s in sessions.sessions:
        await s.wait_closed()
    return used


async def run(
    settings: EdgeSettings, engines: Engines, registry: Registry, audio: np.ndarray, args: argparse.Namespace
) -> dict[str, Any]:
    sessions = WebRtcSessions(settings, engines, SystemClock(), registry=registry, config=WebRtcConfig(max_sessions=4))
    out: dict[str, Any] = {"connect": await connect_times(sessions, 6)}
    turns = [await webrtc_turn(sessions, audio) for _ in range(args.runs)]
    ok = [t for t in turns if t]
    loop = []
    for _ in range(args.runs):
        marks = await realtime_turn(settings, engines, audio)
        if marks is not None:
            loop.append(ms(marks["first_audio"], marks["endpoint"].data["speech_end_wall"]))
    out["turn"] = {
        "runs": args.runs,
        "answered": len(ok),
        "audioloop_first_audio_ms": median(loop),
        **{k: median([t[k] for t in ok]) for k in ("hub_first_audio_ms", "app_heard_ms")},
    }
    out["turn"]["ratio_app_heard_vs_audioloop"] = out["turn"]["app_heard_ms"] / out["turn"]["audioloop_first_audio_ms"]
    out["ping"] = await ping_latency(sessions, args.pings)
    out["cpu"] = {str(n): await cpu_per_session(sessions, n, args.cpu_s) for n in (1, 2, 4)}
    await sessions.close_all()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3, help="voice turns over WebRTC and through AudioLoop")
    parser.add_argument("--pings", type=int, default=200)
    parser.add_argument("--cpu-s", type=float, default=5.0, help="seconds measured per session count")
    args = parser.parse_args()
    settings = EdgeSettings()
    registry = Registry()
    engines = loaded_engines(settings, registry)
    voice = PiperTTS(registry, deterministic=True)

    def say(text: str) -> np.ndarray:
        from edge_runtime.audio.convert import resample

        return resample(voice.synthesize_all(text), voice.sample_rate, 16000) * 0.8

    audio = np.concatenate([silence(0.5), say("Hey Jarvis."), silence(0.3), say("What time is it?"), silence(2.0)])
    results = {
        "machine": machine(),
        "command": ".venv/bin/python -m bench.webrtc",
        **asyncio.run(run(settings, engines, registry, audio, args)),
    }
    c, t, p, cpu = results["connect"], results["turn"], results["ping"], results["cpu"]
    print(
        table(
            "WebRTC sessions (aiortc, app peer in-process, host candidates)",
            ["measure", "value"],
            [
                ["connect: offer -> data channel open, first (loads wake/VAD), ms", c["first_ms"]],
                ["connect: offer -> data channel open, warm (median), ms", c["warm_median_ms"]],
                ["end of speech -> first reply audio in the hub (median), ms", t["hub_first_audio_ms"]],
                ["end of speech -> first reply audio heard by the app (median), ms", t["app_heard_ms"]],
                ["same turn through AudioLoop from a WAV (median), ms", t["audioloop_first_audio_ms"]],
                ["ratio: app heard / AudioLoop", t["ratio_app_heard_vs_audioloop"]],
                ["data-channel ping round trip, median ms", p["median_ms"]],
                ["data-channel ping round trip, p95 ms", p["p95_ms"]],
                *[[f"CPU s per wall s, {n} idle session(s) streaming mic", v] for n, v in cpu.items()],
            ],
        )
    )
    print(f"\nturns answered {t['answered']}/{t['runs']}; wrote {write_json('webrtc', results)}")


if __name__ == "__main__":
    main()
