"""Faults: how long the hub, and the cloud, take to recover when a service they depend on restarts.

    make bench-faults    # or: .venv/bin/python -m bench.faults [--runs 5] [--down 15] [--cloud-down 5]
                         #     [--only mosquitto,postgres,redis,cloud]

Mosquitto restart: a hub (our own Mosquitto, set_tcp_nodelay on) and a simulated plug; the broker is
stopped (SIGTERM, so it first sends every client's last will, as a restart does) for `--down` seconds
and started again, `--runs` times. From the moment it listens again: the hub's MQTT link is back, the
plug is available again, and the first command is confirmed by the plug's state echo (commands are
given every 50 ms from the broker's return, each with a 2 s timeout, as a user retrying would). Next
to it, in the same runs, a bare paho client with paho's default backoff (1 s doubling to 120 s).
The simulated plug retries its own connection at most 1 s apart, as Zigbee2MQTT's client does.

PostgreSQL, Redis and cloud restarts: one cloud process (`companion cloud serve`, services auth,
notification and sync) on a PostgreSQL cluster and a redis-server of the benchmark's own, on
loopback. PostgreSQL is stopped (fast shutdown: its sessions are ended), Redis is stopped (SIGTERM,
no persistence: its keys are gone), each for `--cloud-down` seconds, then started again; the cloud
process is killed (SIGKILL) and started again at once, as a supervisor does. From the moment the
service is back (the server accepts connections; for the cloud, the kill): a notification is sent
every 20 ms until one is accepted (202), which is a write through authorization, the rate limiter
and the database; for Redis, also until that notification reaches an app's push socket held open
across the restart; for the cloud, until /health answers. During each outage, one request's answer.

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
from bench.faults_cloud import cloud_restarts, print_cloud
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


PARTS = ("mosquitto", "postgres", "redis", "cloud")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--down", type=float, default=15.0, help="seconds the broker stays down")
    parser.add_argument("--cloud-down", type=float, default=5.0, help="seconds PostgreSQL and Redis stay down")
    parser.add_argument("--only", default=",".join(PARTS), help=f"a comma-separated choice of {', '.join(PARTS)}")
    args = parser.parse_args()
    which = set(args.only.split(","))
    results: dict[str, Any] = {
        "machine": machine(),
        "command": "make bench-faults (.venv/bin/python -m bench.faults)",
        "runs": args.runs,
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "mosquitto" in which:
            broker = Mosquitto(work / "broker").start()
            try:
                results["mosquitto_restart"] = asyncio.run(
                    mosquitto_restarts(broker, work / "hub", args.runs, args.down)
                )
            finally:
                broker.stop()
        if which & {"postgres", "redis", "cloud"}:
            results.update(cloud_restarts(work / "cloud", args.runs, args.cloud_down, which))
    if "mosquitto_restart" in results:
        _print_mosquitto(results["mosquitto_restart"], args.down, args.runs)
    print_cloud(results, args.cloud_down, args.runs)
    print(f"\nwrote {write_json('faults', results)}")


def _print_mosquitto(r: dict[str, Any], down: float, runs: int) -> None:
    print()
    print(
        table(
            f"Recovery after a Mosquitto restart, down {down:g} s (seconds from its return; median and max of {runs})",
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
        f"in {r['median_during_s']:.3f} s (median)"
    )


if __name__ == "__main__":
    main()
