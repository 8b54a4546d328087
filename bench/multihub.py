"""Several hubs in one home: wake arbitration and broadcast, on a real Mosquitto.

    make bench-multihub    # or: .venv/bin/python -m bench.multihub [--trials 100] [--broadcasts 50]

Arbitration: each trial says "Hey Jarvis, turn on the kitchen light" (Piper) to three hubs at levels drawn at
random, each pair at least 3 dB apart, each hub with its own noise floor (-65 to -45 dBFS). Each hub's copy
goes through the real wake model (openWakeWord): where and how surely it fires, and the level of the wake
phrase it heard, make its claim, sent when it fired (plus up to 50 ms of scheduling jitter). Three peer links
(one process, three MQTT connections) then arbitrate as hubs do: the time from each detection to its decision,
whether the loudest hub won, and how many hubs went on to answer (duplicates). Beside it, in the same trials:
the naive rule "the first hub to fire answers".

Broadcast: one hub announces; the time until each of the two others has it, against a bare paho
publish/receive on the same broker in the same run (what sealing and the peer layer add), and Piper's
time to the announcement's first audio on the receiving hub.

Prints Markdown tables (paste into docs/BENCHMARKS.md) and writes bench/results/multihub.json."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt

from bench.common import machine, median, table, write_json
from device_drivers.mosquitto import Mosquitto
from edge_runtime.audio.convert import resample, to_float32
from edge_runtime.peers import Arbiter, Home, HomePeers, PeerLink
from edge_runtime.pipeline.arbitrate import speech_level_db
from models.audio import RATE
from models.registry import Registry

BLOCK = 1280
FLUSH = 2 * 16000  # silence before each hub's copy: one engine serves all three in turn
ANSWER_S = 1.2  # detection to the turn reaching the brain: the rest of the request and its endpoint
HUBS = ("hub-a", "hub-b", "hub-c")


def p99(values: list[float]) -> float:
    return float(np.percentile(values, 99)) if values else float("nan")


def speech() -> np.ndarray:
    from models.tts import PiperTTS

    with contextlib.redirect_stdout(io.StringIO()):
        tts = PiperTTS(Registry(), deterministic=True)
    parts = [tts.synthesize_all(t) for t in ("Hey Jarvis.", "Turn on the kitchen light.")]
    gap = np.zeros(int(0.3 * tts.sample_rate), np.float32)
    lead = np.zeros(int(0.5 * tts.sample_rate), np.float32)
    audio = np.concatenate([lead, parts[0], gap, parts[1]]).astype(np.float32)
    audio = resample(audio, tts.sample_rate, RATE)
    return audio / max(1e-6, float(np.max(np.abs(audio)))) * 0.9


def levels_3db_apart(rng: random.Random) -> list[float]:
    """Gains in dB for the three hubs, each pair at least 3 dB apart, the loudest 0 to -10 dB."""
    top = -rng.uniform(0, 10)
    second = top - rng.uniform(3, 9)
    third = second - rng.uniform(3, 9)
    gains = [top, second, third]
    rng.shuffle(gains)
    return gains


def heard(wake: Any, audio: np.ndarray) -> tuple[float, float, float] | None:
    """(seconds when the wake word fired, its score, the level of the phrase heard), or None."""
    wake.reset()
    pcm = np.clip(audio * 32767, -32768, 32767).astype(np.int16)
    lead = len(pcm) - len(audio) + FLUSH
    pcm = np.concatenate([np.zeros(FLUSH, np.int16), pcm])  # the model's window emptied of the last hub's audio
    for i in range(0, len(pcm) - BLOCK + 1, BLOCK):
        found = wake.process(pcm[i : i + BLOCK])
        if found is not None and i >= FLUSH:
            recent = pcm[max(0, i + BLOCK - int(2.4 * RATE)) : i + BLOCK]
            return (i + BLOCK - lead) / RATE, found.score, speech_level_db(to_float32(recent))
    return None


def trials(n: int, seed: int) -> list[dict[str, Any]]:
    from models.wake import OpenWakeWord

    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    wake = OpenWakeWord(Registry(), ("hey_jarvis",), threshold=0.5)
    base = speech()
    out = []
    for _ in range(n):
        gains = levels_3db_apart(rng)
        claims = {}
        for hub, gain_db in zip(HUBS, gains, strict=True):
            noise = nprng.normal(0, 10 ** (rng.uniform(-65, -45) / 20), len(base)).astype(np.float32)
            found = heard(wake, base * 10 ** (gain_db / 20) + noise)
            if found is not None:
                claims[hub] = {"at": found[0] + rng.uniform(0, 0.05), "score": found[1], "level_db": found[2]}
        out.append({"gains_db": dict(zip(HUBS, gains, strict=True)), "claims": claims})
    return out


async def arbitrate(url: str, planned: list[dict[str, Any]]) -> list[dict[str, Any]]:
    home = Home.new()
    hubs: dict[str, HomePeers] = {}
    for name in HUBS:
        link = PeerLink(home, name, url)
        await link.start()
        await asyncio.wait_for(link.connected.wait(), 5)
        hubs[name] = HomePeers(link, Arbiter(link))
    while any(len(h.link.online()) < 2 for h in hubs.values()):
        await asyncio.sleep(0.01)
    results = []
    try:
        for trial in planned:
            claims = trial["claims"]
            start = time.monotonic() + 0.05

            async def one(name: str, claim: dict[str, Any], start: float = start) -> tuple[str, float, bool]:
                await asyncio.sleep(max(0.0, start + claim["at"] - time.monotonic()))
                arbiter = hubs[name].arbiter
                verdict = arbiter.claim(claim["score"], claim["level_db"])
                winner = await arbiter.decide(verdict)
                await asyncio.sleep(max(0.0, verdict.detected + ANSWER_S - time.monotonic()))
                return winner, verdict.decided_ms or 0.0, await arbiter.owns()

            done = await asyncio.gather(*(one(n, c) for n, c in claims.items()))
            loudest = max(trial["gains_db"], key=trial["gains_db"].get)
            first = min(claims, key=lambda n: claims[n]["at"]) if claims else None
            answered = [n for n, (_, _, mine) in zip(claims, done, strict=True) if mine]
            results.append(
                {
                    **trial,
                    "winners": [w for w, _, _ in done],
                    "answered_by": answered,
                    "decided_ms": [ms for _, ms, _ in done],
                    "answered": sum(1 for _, _, mine in done if mine),
                    "loudest": loudest,
                    "first_to_fire": first,
                }
            )
            await asyncio.sleep(1.6)  # past the claim grouping window: the next trial is another wake word
    finally:
        for h in hubs.values():
            await h.link.stop()
    return results


async def broadcasts(url: str, n: int) -> dict[str, list[float]]:
    home = Home.new()
    hubs = []
    for name in HUBS:
        link = PeerLink(home, name, url)
        await link.start()
        await asyncio.wait_for(link.connected.wait(), 5)
        hubs.append(HomePeers(link, Arbiter(link)))
    while any(len(h.link.online()) < 2 for h in hubs):
        await asyncio.sleep(0.01)
    got: dict[str, float] = {}

    def listener(name: str) -> Any:
        async def say(text: str, hub: str, room: str | None) -> None:
            got[name] = time.perf_counter()

        return say

    for h in hubs[1:]:
        h.on_announce.append(listener(h.hub_id))
    peer_ms: list[float] = []
    for _ in range(n):
        got.clear()
        sent = time.perf_counter()
        hubs[0].announce("Dinner is ready")
        while len(got) < 2:
            await asyncio.sleep(0.0005)
        peer_ms.append(1000 * (max(got.values()) - sent))
        await asyncio.sleep(0.02)
    for h in hubs:
        await h.link.stop()
    return {"peer_ms": peer_ms, "bare_ms": bare_round_trips(url, n)}


def bare_round_trips(url: str, n: int) -> list[float]:
    """Publish to two plain subscribers, unsealed: the broker's own share of the delivery."""
    from device_drivers.mqtt_url import BrokerAddress, set_nodelay

    address = BrokerAddress.parse(url)
    got: dict[str, float] = {}
    clients = []
    for name in ("pub", "sub1", "sub2"):
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{name}")
        client.connect(address.host, address.port)
        set_nodelay(client)
        if name != "pub":
            client.subscribe("bench/bare", qos=1)
            client.on_message = lambda c, u, m, name=name: got.__setitem__(name, time.perf_counter())
        client.loop_start()
        clients.append(client)
    time.sleep(0.3)
    out = []
    for _ in range(n):
        got.clear()
        sent = time.perf_counter()
        clients[0].publish("bench/bare", b"Dinner is ready", qos=1)
        while len(got) < 2:
            time.sleep(0.0002)
        out.append(1000 * (max(got.values()) - sent))
        time.sleep(0.02)
    for client in clients:
        client.disconnect()
        client.loop_stop()
    return out


def first_audio_ms(n: int = 10) -> list[float]:
    from models.tts import PiperTTS

    with contextlib.redirect_stdout(io.StringIO()):
        tts = PiperTTS(Registry(), deterministic=True)
    tts.synthesize_all("Warm up.")
    out = []
    for _ in range(n):
        started = time.perf_counter()
        next(iter(tts.synthesize("Dinner is ready")))
        out.append(1000 * (time.perf_counter() - started))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--broadcasts", type=int, default=50)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    planned = trials(args.trials, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "mosquitto").start()
        try:
            results = asyncio.run(arbitrate(broker.url, planned))
            sent = asyncio.run(broadcasts(broker.url, args.broadcasts))
        finally:
            broker.stop()
    tts_ms = first_audio_ms()
    decided = [ms for r in results for ms in r["decided_ms"]]
    claimed = [r for r in results if r["claims"]]
    loudest_claimed = [r for r in claimed if r["loudest"] in r["claims"]]
    ours = sum(1 for r in loudest_claimed if r["answered_by"] == [r["loudest"]])
    agreed = sum(1 for r in claimed if set(r["winners"]) == set(r["answered_by"]))
    naive = sum(1 for r in loudest_claimed if r["first_to_fire"] == r["loudest"])
    duplicates = sum(max(0, r["answered"] - 1) for r in results)
    unanswered = sum(1 for r in claimed if r["answered"] == 0)
    rows: list[list[Any]] = [
        ["trials (each pair of hubs >= 3 dB apart)", len(results)],
        ["trials where the loudest hub heard the wake word", len(loudest_claimed)],
        ["detection -> decision, median ms", median(decided)],
        ["detection -> decision, p99 ms", p99(decided)],
        ["loudest hub answered (ours)", f"{ours}/{len(loudest_claimed)}"],
        ["every hub's first verdict was the final one", f"{agreed}/{len(claimed)}"],
        ["loudest hub answered (first to fire)", f"{naive}/{len(loudest_claimed)}"],
        ["duplicate answers", duplicates],
        ["heard but unanswered", unanswered],
    ]
    print(table("Wake arbitration, 3 hubs (bench/multihub.py)", ["figure", "value"], rows))
    print()
    rows = [
        ["peer layer (sealed), to both other hubs", median(sent["peer_ms"]), p99(sent["peer_ms"])],
        ["bare paho, same broker, same run", median(sent["bare_ms"]), p99(sent["bare_ms"])],
        ["Piper: the announcement's first audio", median(tts_ms), p99(tts_ms)],
    ]
    print(table("Broadcast: request to audio on the other hubs", ["step", "median ms", "p99 ms"], rows))
    path = write_json(
        "multihub",
        {
            "machine": machine(),
            "arbitration": {
                "trials": len(results),
                "loudest_heard": len(loudest_claimed),
                "decided_ms_median": median(decided),
                "decided_ms_p99": p99(decided),
                "loudest_won": ours,
                "first_verdict_final": agreed,
                "first_to_fire_was_loudest": naive,
                "duplicates": duplicates,
                "unanswered": unanswered,
            },
            "broadcast": {
                k: {"median": median(v), "p99": p99(v)} for k, v in {**sent, "tts_first_audio_ms": tts_ms}.items()
            },
            "results": results,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
