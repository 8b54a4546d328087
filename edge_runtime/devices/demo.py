"""The device half of the demo: a simulated home on a real broker, discovered, then controlled by
the brain from plain sentences (local intents, follow-ups, a spoken confirmation, the small LLM)."""

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
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.brain.router import Brain
from edge_runtime.clock import SystemClock
from edge_runtime.devices.hub import DeviceHub
from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.timers import TimerManager
from models.llm import LLM

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "devices.example.toml"
SCRIPT = [
    "turn on the kitchen light",
    "set it to thirty percent",
    "open the living room blinds halfway",
    "set the thermostat to twenty one degrees",
    "unlock the front door",
    "yes",
    "could you get the bedroom fan going",
    "good morning",
    "what's the weather like tomorrow",
]


def _reachable(url: str) -> bool:
    address = BrokerAddress.parse(url)
    try:
        with socket.create_connection((address.host, address.port), timeout=0.3):
            return True
    except OSError:
        return False


async def run_device_demo(broker_url: str, say: Callable[[str], None], llm: LLM | None = None) -> list[dict[str, Any]]:
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
            brain = _brain(hub, llm)
            conversation = Conversation()
            results = []
            for text in SCRIPT:
                result = await brain.handle(text, conversation)
                done = ", ".join(f"{a['name']} {a['values']} {'confirmed' if a['confirmed'] else a.get('error')}"
                                 for a in result.actions)  # fmt: skip
                say(f"you: {text!r} -> {result.route}: {result.reply}" + (f"  ({done})" if done else "")
                    + f"  {result.timings_ms['total']:.0f} ms")  # fmt: skip
                results.append({"text": text, **result.to_dict()})
            return results
        finally:
            await hub.stop()


def _brain(hub: DeviceHub, llm: LLM | None) -> Brain:
    clock = SystemClock(None)

    async def ring(timer: object, repeat: int) -> None:
        return None

    return Brain(BuiltinSkills(clock, TimerManager(clock, ring)), DeviceSkill(hub), llm=llm)
