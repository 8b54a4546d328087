"""Local turn latency with the WAN link normal, cut and slow, in the same run (issue 23's figures).

    .venv/bin/python -m bench.netns [--turns 10]    # as root: it makes a network namespace

The home of tests/netns/home.py: a real `companion hub up` in its own network namespace, Mosquitto
and simulated devices on the LAN side, the real cloud behind the WAN link. For each condition:
device turns asked in text over the LAN API (the app's round trip, brain and MQTT confirmation
included); spoken "what time is it" turns, end of speech to first audio (the hub's own telemetry,
read from the cloud once the link is back) and their brain time (`hub.skill` ms); one escalation.
Cut: the far end of the WAN veth is down (a black hole). Slow: no netem in this kernel,
so a userspace proxy holds each chunk 500 ms each way and stalls 5 % of them 200 ms more.

Prints a Markdown table and writes bench/results/netns.json.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import machine, median, table, write_json


def measure(home: Any, voices: Any, turns: int) -> dict[str, Any]:
    from tests.speech import join, silence

    lan = []
    for i in range(turns):
        _, took = home.ask(f"turn {'on' if i % 2 == 0 else 'off'} the kitchen light")
        lan.append(1000 * took)
    spoken = []
    for _ in range(3):
        home.say(join(voices.piper("Hey Jarvis."), silence(0.3), voices.piper("What time is it?"), silence(1.5)))
        spoken.append(float(home.hub.events("hub.skill")[-1]["ms"]))
    started = time.perf_counter()
    escalated, _ = home.ask("what's the weather tomorrow?")
    return {
        "lan_turn_ms": lan,
        "spoken_brain_ms": spoken,
        "escalation_s": round(time.perf_counter() - started, 2),
        "escalation_fallback": escalated.get("data", {}).get("fallback"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()
    from models.registry import Registry
    from models.tts import PiperTTS
    from tests.netns.home import edge_home, wait_for
    from tests.speech import Voices

    results: dict[str, Any] = {"machine": machine(), "turns": args.turns}
    with tempfile.TemporaryDirectory() as tmp:
        voices = Voices(PiperTTS(Registry(), deterministic=True), Path(tmp) / "speech")
        with edge_home(Path(tmp) / "home") as home:
            measure(home, voices, 2)  # warm: the first turns load what is loaded lazily
            results["normal"] = measure(home, voices, args.turns)
            home.ns.cut()
            try:
                results["cut"] = measure(home, voices, args.turns)
            finally:
                home.ns.restore()
            home.proxy.slow(0.5, loss=0.05)
            try:
                results["slow"] = measure(home, voices, args.turns)
            finally:
                home.proxy.normal()
            # The spoken turns' whole latency (end of speech to first audio), from the hub's own telemetry,
            # which the cut held back until the link returned: in order, 3 per condition after the warm-up.
            wait_for(lambda: home.outbox() == [], 120, "the outbox drains", home)
            _, events = home.analytics()
            said = sorted((e for e in events if e["type"] == "turn" and e["intent"] == "time"), key=lambda e: e["at"])
            for i, name in enumerate(("normal", "cut", "slow")):
                results[name]["spoken_turn_ms"] = [e["latency_ms"] for e in said[3 * (i + 1) : 3 * (i + 2)]]
    rows = []
    for name in ("normal", "cut", "slow"):
        r = results[name]
        lan = sorted(r["lan_turn_ms"])
        rows.append(
            [
                name,
                median(lan),
                lan[max(0, round(0.95 * len(lan)) - 1)],
                statistics.median(r["spoken_turn_ms"]),
                statistics.median(r["spoken_brain_ms"]),
                r["escalation_s"],
                r["escalation_fallback"] or "answered",
            ]
        )
    header = ["WAN link", "LAN turn median ms", "LAN turn p95 ms", "spoken turn ms", "its brain ms", "escalation s", ""]
    print(table("Local turns with the WAN link normal, cut and slow", header, rows))
    print(f"\nwrote {write_json('netns', results)}")


if __name__ == "__main__":
    main()
