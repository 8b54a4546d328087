"""Device control benchmark on a real Mosquitto (our own, set_tcp_nodelay on), vs bare paho.

    make bench-devices    # or: .venv/bin/python -m bench.devices [--commands 1000] [--devices 500]

Prints Markdown tables (paste into docs/BENCHMARKS.md) and writes bench/results/devices.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from bench.common import machine, table, write_json
from device_drivers.mosquitto import Mosquitto
from device_drivers.mqtt_url import set_nodelay
from device_drivers.simulator import Simulator, device_from
from edge_runtime.devices import DeviceHub, device_hub_from
from edge_runtime.settings import EdgeSettings


def hub_at(url: str, db: Path) -> DeviceHub:
    """The device layer as the hub builds it (`device_hub_from`), its store at `db`."""
    work = db.with_suffix("")
    hub = device_hub_from(EdgeSettings(mqtt_url=url, data_dir=work, config_dir=work), client_id=f"bench-{db.stem}")
    return hub


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def client(port: int, name: str) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{name}-{time.monotonic_ns()}")
    c.on_connect = lambda cl, *a: set_nodelay(cl)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def transport_floor(port: int, n: int) -> list[float]:
    """paho to paho, no device logic at all: publish, an echoing client republishes, wait for it."""
    echo = client(port, "echo")

    def republish(c: mqtt.Client, u: Any, m: mqtt.MQTTMessage) -> None:
        c.publish("floor/state", m.payload, qos=1)

    echo.on_message = republish
    echo.subscribe("floor/set", qos=1)
    got = threading.Event()
    hub = client(port, "floor")
    hub.on_message = lambda c, u, m: got.set()
    hub.subscribe("floor/state", qos=1)
    time.sleep(0.3)
    out = []
    for i in range(n):
        got.clear()
        t0 = time.perf_counter()
        hub.publish("floor/set", str(i).encode(), qos=1)
        got.wait(2)
        out.append(time.perf_counter() - t0)
    echo.loop_stop()
    hub.loop_stop()
    return out


PLUG = {"id": "bench_plug", "name": "Plug", "kind": "switch", "convention": "ha"}
LIGHT = {"id": "bench_light", "name": "Light", "kind": "light", "convention": "ha", "schema": "json"}


async def round_trips(url: str, port: int, db: Path, n: int, block: int = 50) -> tuple[list[float], list[float]]:
    """Ours and bare paho against the same simulated devices, alternating blocks of `block`
    commands so that drift on a noisy machine hits both alike. Bare: publish the command (QoS 1)
    to the device's command topic and wait for its state echo."""
    with Simulator(url, [device_from(PLUG), device_from(LIGHT)]):
        hub = await hub_at(url, db).start()
        await hub.settle(quiet_s=0.3)
        want: list[bytes] = [b""]
        got = threading.Event()

        def on_message(c: Any, u: Any, m: mqtt.MQTTMessage) -> None:
            if want[0] in m.payload:
                got.set()

        bare_client = client(port, "bare")
        bare_client.on_message = on_message
        bare_client.subscribe([("sim/bench_plug/state", 1), ("sim/bench_light/state", 1)])
        await asyncio.sleep(0.3)
        ours: list[float] = []
        bare: list[float] = []
        for i in range(2 * n):
            use_ours = (i // block) % 2 == 0
            k = len(ours) if use_ours else len(bare)
            plug = k % 2 == 1
            if use_ours:
                t0 = time.perf_counter()
                if plug:
                    await hub.set("Plug", {"on": k % 4 == 1})
                else:
                    await hub.set("Light", {"brightness": 1 + k % 100})
                ours.append(time.perf_counter() - t0)
                continue
            if plug:
                topic, payload = "sim/bench_plug/set", b"ON" if k % 4 == 1 else b"OFF"
                want[0] = payload
            else:
                level = round((1 + k % 100) * 2.55)
                topic, payload = "sim/bench_light/set", json.dumps({"state": "ON", "brightness": level}).encode()
                want[0] = f'"brightness": {level}'.encode()
            got.clear()
            t0 = time.perf_counter()
            bare_client.publish(topic, payload, qos=1)
            got.wait(2)
            bare.append(time.perf_counter() - t0)
            await asyncio.sleep(0)  # let the hub take in the echo it also received
        bare_client.loop_stop()
        await hub.stop()
    return ours, bare


FLOODER = """
import json, sys, time
import paho.mqtt.client as mqtt
port, rate = int(sys.argv[1]), int(sys.argv[2])
pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-flooder")
pub.connect("127.0.0.1", port)
pub.loop_start()
payload = json.dumps({"value": 1.5}).encode()
while True:
    t0 = time.monotonic()
    for i in range(rate // 10):
        pub.publish(f"sim/f{i % 100}/state", payload, qos=0)
    time.sleep(max(0.0, 0.1 - (time.monotonic() - t0)))
"""


async def flooded_round_trips(url: str, port: int, db: Path, n: int, rate: int = 10_000) -> dict[str, float]:
    """Commands while `rate` state messages per second pour in for 100 other devices."""
    sensors = [
        device_from({"id": f"f{i}", "name": f"Flood {i}", "kind": "sensor", "convention": "ha", "node": "flood"})
        for i in range(100)
    ]
    with Simulator(url, [device_from(PLUG), *sensors]):
        hub = await hub_at(url, db).start()
        await hub.settle(quiet_s=0.3)
        # The flood comes from another process, as it would from a busy Zigbee network.
        flooder = subprocess.Popen([sys.executable, "-c", FLOODER, str(port), str(rate)])
        await asyncio.sleep(0.5)
        before, t_start = hub.link.raw, time.perf_counter()
        out = []
        for i in range(n):
            t0 = time.perf_counter()
            await hub.set("Plug", {"on": i % 2 == 0})
            out.append(time.perf_counter() - t0)
            await asyncio.sleep(0.005)
        absorbed_rate = (hub.link.raw - before) / (time.perf_counter() - t_start)
        flooder.terminate()
        flooder.wait(10)
        await hub.stop()
    return {
        "median_ms": 1000 * pct(out, 0.5),
        "p99_ms": 1000 * pct(out, 0.99),
        "max_ms": 1000 * max(out),
        "flood_msgs_per_s_absorbed": absorbed_rate,
        "commands": n,
    }


async def discovery(url: str, port: int, db: Path, count: int) -> dict[str, float]:
    devices = [
        device_from(
            {
                "id": f"d{n:04d}",
                "name": f"Device {n}",
                "kind": ("switch", "light", "sensor")[n % 3],
                "convention": "ha",
                "node": f"node{n // 100}",
            }
        )
        for n in range(count)
    ]
    with Simulator(url, devices):
        time.sleep(0.5)  # every config is retained at the broker now
        # bare paho: how long until every retained config has arrived
        seen: set[str] = set()
        done = threading.Event()

        def on_message(c: Any, u: Any, m: mqtt.MQTTMessage) -> None:
            seen.add(m.topic)
            if len(seen) >= count:
                done.set()

        t0 = time.perf_counter()
        bare = client(port, "disc")
        bare.on_message = on_message
        bare.subscribe("homeassistant/+/+/config", qos=1)
        done.wait(30)
        bare_s = time.perf_counter() - t0
        bare.loop_stop()
        # ours: until every device is in the registry with its state
        t0 = time.perf_counter()
        hub = await hub_at(url, db).start()
        while sum(1 for r in hub.registry.records.values() if r.state) < count:
            await asyncio.sleep(0.005)
            if time.perf_counter() - t0 > 60:
                break
        ours_s = time.perf_counter() - t0
        await hub.stop()
    return {"devices": count, "ours_s": ours_s, "bare_s": bare_s}


async def absorb(url: str, port: int, db: Path, total: int) -> dict[str, float]:
    """Publish `total` state messages as fast as possible at 100 sensors; count what each side takes in."""
    sensors = [
        device_from({"id": f"s{n}", "name": f"Sensor {n}", "kind": "sensor", "convention": "ha", "node": "flood"})
        for n in range(100)
    ]
    payloads = [json.dumps({"value": n / 10}).encode() for n in range(100)]

    def flood() -> float:
        pub = client(port, "flood")
        t0 = time.perf_counter()
        for i in range(total):
            pub.publish(f"sim/s{i % 100}/state", payloads[i % 100], qos=0)
            if i % 5000 == 4999:
                time.sleep(0.001)
        pub.publish("bench/end", b"1", qos=1).wait_for_publish()
        elapsed = time.perf_counter() - t0
        pub.loop_stop()
        return elapsed

    with Simulator(url, sensors):
        counted = [0]
        end = threading.Event()
        bare = client(port, "absorb")

        def on_message(c: Any, u: Any, m: mqtt.MQTTMessage) -> None:
            counted[0] += 1
            if m.topic == "bench/end":
                end.set()

        bare.on_message = on_message
        bare.subscribe([("sim/+/state", 0), ("bench/end", 1)])
        time.sleep(0.3)
        counted[0] = 0
        t0 = time.perf_counter()
        flood()
        end.wait(60)
        bare_rate = counted[0] / (time.perf_counter() - t0)
        bare.loop_stop()

        hub = await hub_at(url, db).start()
        await hub.settle(quiet_s=0.3)
        hub.link.subscribe(["bench/end"])
        await asyncio.sleep(0.2)
        before_raw, before_applied = hub.link.raw, hub.link.received
        t0 = time.perf_counter()
        publish_s = await asyncio.to_thread(flood)
        while hub.link.raw - before_raw < total * 0.99 and time.perf_counter() - t0 < 60:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - t0
        raw, applied = hub.link.raw - before_raw, hub.link.received - before_applied
        await hub.stop()
    return {
        "sent": total,
        "publish_s": publish_s,
        "ours_msgs_per_s": raw / elapsed,
        "ours_applied": applied,
        "bare_msgs_per_s": bare_rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--flood", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "broker").start()
        try:
            floor = transport_floor(broker.port, args.commands)
            ours, bare = asyncio.run(round_trips(broker.url, broker.port, work / "rt.sqlite3", args.commands))
            flooded = asyncio.run(flooded_round_trips(broker.url, broker.port, work / "fl.sqlite3", 300))
            disc = asyncio.run(discovery(broker.url, broker.port, work / "disc.sqlite3", args.devices))
            flood = asyncio.run(absorb(broker.url, broker.port, work / "flood.sqlite3", args.flood))
        finally:
            broker.stop()

    ms = lambda xs, q: 1000 * pct(xs, q)  # noqa: E731
    rt = {
        "ours_median_ms": ms(ours, 0.5),
        "ours_p99_ms": ms(ours, 0.99),
        "bare_median_ms": ms(bare, 0.5),
        "bare_p99_ms": ms(bare, 0.99),
        "ratio_median": statistics.median(ours) / statistics.median(bare),
        "floor_median_ms": ms(floor, 0.5),
        "floor_p99_ms": ms(floor, 0.99),
        "commands": args.commands,
    }
    results = {
        "machine": machine(),
        "command": "make bench-devices (.venv/bin/python -m bench.devices)",
        "round_trip": rt,
        "flooded": flooded,
        "discovery": disc,
        "absorb": flood,
    }
    print(
        table(
            f"Command to confirmed state echo, {args.commands} commands (ms)",
            ["path", "median", "p99"],
            [
                ["ours: hub.set() -> simulated device -> echo confirmed", rt["ours_median_ms"], rt["ours_p99_ms"]],
                ["bare paho: publish -> the same simulated device -> echo", rt["bare_median_ms"], rt["bare_p99_ms"]],
                ["ratio ours / bare (median)", rt["ratio_median"], ""],
                ["transport floor: paho -> echoing paho client", rt["floor_median_ms"], rt["floor_p99_ms"]],
            ],
        )
    )
    print()
    print(
        table(
            f"Commands under a flood of 10,000 state messages/s ({flooded['commands']} commands, ms)",
            ["median", "p99", "max", "flood absorbed, msg/s"],
            [[flooded["median_ms"], flooded["p99_ms"], flooded["max_ms"], flooded["flood_msgs_per_s_absorbed"]]],
        )
    )
    print()
    print(
        table(
            f"Discovery of {disc['devices']} devices (retained configs)",
            ["path", "seconds"],
            [
                ["ours: every device in the registry, with its state", disc["ours_s"]],
                ["bare paho: every config message received", disc["bare_s"]],
            ],
        )
    )
    print()
    print(
        table(
            f"State messages absorbed ({flood['sent']} published at full speed)",
            ["path", "messages/s"],
            [
                ["ours: taken in by the hub", flood["ours_msgs_per_s"]],
                ["bare paho subscriber", flood["bare_msgs_per_s"]],
            ],
        )
    )
    print(f"\nours applied {flood['ours_applied']} coalesced updates; wrote {write_json('devices', results)}")


if __name__ == "__main__":
    main()
