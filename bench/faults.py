"""Faults: how long the hub takes to recover when a service it depends on restarts.

    make bench-faults    # or: .venv/bin/python -m bench.faults [--runs 5] [--down 15]

Mosquitto restart: a hub (our own Mosquitto, set_tcp_nodelay on) and a simulated plug; the broker is
stopped (SIGTERM, so it first sends every client's last will, as a restart does) for `--down` seconds
and started again, `--runs` times. From the moment it listens again: the hub's MQTT link is back, the
plug is available again, and the first command is confirmed by the plug's state echo (commands are
given every 50 ms from the broker's return, each with a 2 s timeout, as a user retrying would). Next
to it, in the same runs, a bare paho client with paho's default backoff (1 s doubling to 120 s).
The simulated plug retries its own connection at most 1 s apart, as Zigbee2MQTT's client does.

Prints Markdown tables (paste into docs/BENCHMARKS.md) and writes bench/results/faults.json.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from bench.common import machine, median, table, write_json
from device_drivers.mosquitto import Mosquitto
from device_drivers.simulator import Simulator, device_from
from edge_runtime.devices import DeviceError, device_hub_from
from edge_runtime.settings import EdgeSettings

PLUG = {"id": "bench_plug", "name": "Plug", "kind": "switch", "convention": "ha"}


class BarePaho:
    """A paho client left to its own reconnect backoff; records when each connection came up."""

    def __init__(self, port: int) -> None:
        self.ups: list[float] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{time.monotonic_ns()}")
        self.client.on_connect = lambda *a: self.ups.append(time.monotonic())
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def up_after(self, t: float) -> float | None:
        return next((u - t for u in self.ups if u >= t), None)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


async def first_after(t: float, ready: Any, limit_s: float = 30.0) -> float | None:
    """Seconds from `t` until `ready()` holds, polled every 5 ms."""
    while time.monotonic() - t < limit_s:
        if ready():
            return time.monotonic() - t
        await asyncio.sleep(0.005)
    return None


async def mosquitto_restarts(broker: Mosquitto, work: Path, runs: int, down_s: float) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": [], "down_s": down_s}
    with Simulator(broker.url, [device_from(PLUG)]):
        settings = EdgeSettings(mqtt_url=broker.url, data_dir=work, config_dir=work)
        hub = await device_hub_from(settings, client_id="bench-faults").start()  # as the hub builds it
        await hub.settle(quiet_s=0.3)
        bare = BarePaho(broker.port)
        value = False
        try:
            for _ in range(runs):
                await asyncio.to_thread(broker.stop)
                stopped = time.monotonic()
                await asyncio.sleep(min(down_s, hub.commander.offline_grace_s + 0.5))
                started = time.monotonic()  # a command well into the outage: its answer and how fast
                try:
                    await hub.set("Plug", {"on": not value}, timeout_s=3)
                    during = "confirmed"
                except DeviceError as err:
                    during = err.code
                during_s = time.monotonic() - started
                await asyncio.sleep(max(0.0, stopped + down_s - time.monotonic()))
                await asyncio.to_thread(broker.start)
                back = time.monotonic()
                link = asyncio.create_task(first_after(back, hub.link.connected.is_set))
                available = asyncio.create_task(first_after(back, lambda: hub.registry.resolve("Plug").available))
                command_s, errors = None, []
                while time.monotonic() - back < 30:
                    value = not value
                    try:
                        await hub.set("Plug", {"on": value}, timeout_s=2)
                        command_s = time.monotonic() - back
                        break
                    except DeviceError as err:
                        errors.append(err.code)
                        await asyncio.sleep(0.05)
                run = {
                    "link_s": await link,
                    "available_s": await available,
                    "command_s": command_s,
                    "bare_paho_s": await first_after(back, lambda t=stopped: bare.up_after(t) is not None, 90),
                    "during": during,
                    "during_s": during_s,
                    "errors_before": sorted(set(errors)),
                }
                out["runs"].append(run)
                print(f"  run {len(out['runs'])}: {run}", flush=True)
        finally:
            bare.stop()
            await hub.stop()
    for key in ("link_s", "available_s", "command_s", "bare_paho_s", "during_s"):
        values = [r[key] for r in out["runs"] if r[key] is not None]
        out[f"median_{key}"] = median(values)
        out[f"max_{key}"] = max(values) if values else None
    out["during_codes"] = sorted({r["during"] for r in out["runs"]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--down", type=float, default=15.0, help="seconds the broker stays down")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "broker").start()
        try:
            restarts = asyncio.run(mosquitto_restarts(broker, work / "hub", args.runs, args.down))
        finally:
            broker.stop()
    results = {
        "machine": machine(),
        "command": "make bench-faults (.venv/bin/python -m bench.faults)",
        "mosquitto_restart": restarts,
    }
    r = restarts
    print()
    print(
        table(
            f"Recovery after a Mosquitto restart, down {args.down:g} s (seconds from its return; "
            f"median and max of {args.runs})",
            ["from the broker listening again to", "median", "max"],
            [
                ["the hub's MQTT link up (both connections)", r["median_link_s"], r["max_link_s"]],
                ["the plug available again", r["median_available_s"], r["max_available_s"]],
                ["the first command confirmed by the plug's echo", r["median_command_s"], r["max_command_s"]],
                ["bare paho, its default backoff: connected", r["median_bare_paho_s"], r["max_bare_paho_s"]],
            ],
        )
    )
    print(
        f"\nduring the outage a command answered {', '.join(r['during_codes'])} "
        f"in {r['median_during_s']:.3f} s (median); wrote {write_json('faults', results)}"
    )


if __name__ == "__main__":
    main()
