"""The device half of the demo: a simulated home on a real broker, discovered, then controlled by
the brain from plain sentences (local intents, follow-ups, a spoken confirmation, the small LLM)."""

from __future__ import annotations

import os
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
from edge_runtime.clock import SystemClock
from edge_runtime.settings import EdgeSettings
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


async def run_device_demo(
    settings: EdgeSettings, say: Callable[[str], None], llm: LLM | None = None
) -> list[dict[str, Any]]:
    """On embedded defaults: a Mosquitto of our own (our config, on a free port), so the demo
    touches no one's real devices. Without the mosquitto binary, the configured broker is used.
    The hub is the real one (`HubApp`), in a directory of its own: no identity, no cloud, no sync."""
    from edge_runtime.app import HubApp, HubOptions, isolated

    broker_url = settings.mqtt_url
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
                raise DriverError(
                    f"no MQTT broker for the device demo ({err.message})", code="MQTT_NO_BROKER", hint=hint
                ) from err
            say(f"using the broker at {broker_url}")
        _, devices = load(EXAMPLE)
        stack.enter_context(Simulator(broker_url, devices))
        demo = isolated(settings, tmp, mqtt_url=broker_url, mqtt_client_id=f"companion-demo-{os.getpid()}")
        started = time.perf_counter()
        options = HubOptions(sync=False, settle_s=5.0, identity=False, vision=False)
        async with HubApp(demo, llm=llm, options=options, clock=SystemClock(None)) as hub:
            assert hub.device_hub is not None and hub.brain is not None
            found = hub.device_hub.registry.listing()
            say(
                f"discovered {len(found)} devices in {time.perf_counter() - started:.2f}s: "
                + ", ".join(f"{r.name} ({r.device.kind}, {r.device.convention})" for r in found)
            )
            conversation = Conversation()
            results = []
            for text in SCRIPT:
                result = await hub.brain.handle(text, conversation)
                done = ", ".join(
                    f"{a['name']} {a['values']} {'confirmed' if a['confirmed'] else a.get('error')}"
                    for a in result.actions
                )
                say(
                    f"you: {text!r} -> {result.route}: {result.reply}"
                    + (f"  ({done})" if done else "")
                    + f"  {result.timings_ms['total']:.0f} ms"
                )
                results.append({"text": text, **result.to_dict()})
            return results
