"""The device half of the demo: a simulated home on a real broker, discovered and controlled."""

from __future__ import annotations

import socket
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from device_drivers.model import DriverError
from device_drivers.mosquitto import Mosquitto
from device_drivers.mqtt_url import BrokerAddress
from device_drivers.simulator import Simulator, load
from edge_runtime.devices.hub import DeviceHub

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "devices.example.toml"
SCRIPT: list[tuple[str, dict[str, Any]]] = [
    ("Kitchen Light", {"on": True, "brightness": 30}),
    ("Living Room Blinds", {"position": 50}),
    ("Front Door", {"locked": True}),
    ("Thermostat", {"target_temperature": 21}),
    ("Bedroom Fan", {"on": True, "percentage": 40}),
]


def _reachable(url: str) -> bool:
    address = BrokerAddress.parse(url)
    try:
        with socket.create_connection((address.host, address.port), timeout=0.3):
            return True
    except OSError:
        return False


async def run_device_demo(broker_url: str, say: Callable[[str], None]) -> list[dict[str, Any]]:
    """On embedded defaults: a Mosquitto of our own (our config, on a free port), so the demo
    touches no one's real devices. Without the mosquitto binary, the configured broker is used."""
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        try:
            broker = Mosquitto(tmp / "mosquitto").start()
            stack.callback(broker.stop)
            broker_url = broker.url
            say(f"started Mosquitto on {broker_url}")
        except DriverError as err:
            if not _reachable(broker_url):
                hint = "install mosquitto (apt-get install mosquitto), or set COMPANION_MQTT_URL"
                raise DriverError(f"no MQTT broker for the device demo ({err.message})", code="MQTT_NO_BROKER",
                                  hint=hint) from err  # fmt: skip
            say(f"using the broker at {broker_url}")
        _, devices = load(EXAMPLE)
        stack.enter_context(Simulator(broker_url, devices))
        started = time.perf_counter()
        hub = await DeviceHub(broker_url, tmp / "devices.sqlite3").start()
        try:
            await hub.settle(quiet_s=0.3)
            found = hub.registry.listing()
            say(f"discovered {len(found)} devices in {time.perf_counter() - started:.2f}s: "
                + ", ".join(f"{r.name} ({r.device.kind}, {r.device.convention})" for r in found))  # fmt: skip
            results = []
            for name, values in SCRIPT:
                t0 = time.perf_counter()
                rec = await hub.set(name, values)
                ms = 1000 * (time.perf_counter() - t0)
                shown = {k: rec.state.get(k) for k in values}
                say(f"set {name} {values} -> confirmed by its state echo in {ms:.1f} ms: {shown}")
                results.append({"device": name, "values": values, "confirmed_ms": round(ms, 2)})
            return results
        finally:
            await hub.stop()
