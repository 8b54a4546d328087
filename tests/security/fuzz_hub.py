"""A hub on a real broker for fuzzing: run on its own event loop thread, so hypothesis can drive it from the
test's thread, with everything the hub publishes and every error it logs recorded."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt

from device_drivers import DriverError
from device_drivers.mosquitto import Mosquitto
from device_drivers.simulator import Simulator, device_from
from device_drivers.validate import topic_problem
from edge_runtime.devices import DeviceError, DeviceHub

T = TypeVar("T")
ANCHOR = {"id": "anchor", "name": "Anchor Plug", "kind": "switch", "convention": "ha"}
SENTINEL = "homeassistant/sensor/fuzz_sentinel/config"
# A hub that caught an exception it did not foresee says so with one of these: for the fuzzer, a bug.
UNFORESEEN = {"DEVICE_DISCOVERY_FAILED", "DEVICE_DECODE_FAILED", "MQTT_HANDLER_FAILED"}


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or getattr(record, "code", None) in UNFORESEEN or record.levelno >= logging.ERROR:
            self.records.append(record)


class FuzzHub:
    def __init__(self, broker: Mosquitto, tmp_path: Path) -> None:
        self.broker = broker
        self.loop = asyncio.new_event_loop()
        self.loop_errors: list[dict[str, Any]] = []
        self.loop.set_exception_handler(lambda loop, context: self.loop_errors.append(context))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.sim = Simulator(broker.url, [device_from(ANCHOR)])
        self.hub = DeviceHub(broker.url, tmp_path / "fuzz.sqlite3", command_timeout_s=3.0)
        self.published: list[str] = []
        self.errors = _Errors()
        self.pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"fuzzer-{time.monotonic_ns()}")
        self._sentinel = 0
        self._anchor_on = False
        self._unforeseen = 0

    def __enter__(self) -> FuzzHub:
        logging.getLogger().addHandler(self.errors)
        self.thread.start()
        self.sim.start()
        self.run(self.hub.start())
        self.run(self.hub.settle(quiet_s=0.3))
        client = self.hub.link._control.client
        real_publish = client.publish

        def recording(topic: str, *args: Any, **kw: Any) -> Any:
            self.published.append(topic)
            return real_publish(topic, *args, **kw)

        client.publish = recording  # type: ignore[method-assign]
        self.pub.connect("127.0.0.1", self.broker.port)
        self.pub.loop_start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.pub.disconnect()
        self.pub.loop_stop()
        self.run(self.hub.stop())
        self.sim.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        logging.getLogger().removeHandler(self.errors)

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 20.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def send(self, messages: list[tuple[str, bytes]]) -> None:
        """Publish (not retained, so nothing outlives the example) and wait until the hub has read it all."""
        infos = [self.pub.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(10)
        self._sentinel += 1
        name = f"Sentinel {self._sentinel}"
        config = {"name": name, "uniq_id": "fuzz_sentinel", "stat_t": "fuzz/sentinel"}
        self.pub.publish(SENTINEL, json.dumps(config), qos=1).wait_for_publish(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the bulk connection handles its messages in order
            rec = self.hub.registry.records.get("ha:fuzz_sentinel")
            if rec is not None and rec.device.name == name:
                return
            time.sleep(0.005)
        raise AssertionError("the hub stopped reading discovery")

    def command(self, device_id: str) -> list[str]:
        """Command one device with a value it accepts; what the hub published for it."""
        rec = self.hub.registry.records.get(device_id)
        if rec is None or not rec.device.writable():
            return []
        name = rec.device.writable()[0]
        attr = rec.device.attributes[name]
        value: Any = {
            "bool": True,
            "int": attr.min if attr.min is not None else 1,
            "float": attr.min or 20.0,
            "enum": attr.options[0] if attr.options else "x",
            "rgb": [1, 2, 3],
        }.get(attr.type, "x")
        before = len(self.published)
        with contextlib.suppress(DeviceError, DriverError):  # unconfirmed (nobody answers), invalid or refused
            self.run(self.hub.set(device_id, {name: value}, timeout_s=0.05))
        return self.published[before:]

    def unforeseen(self) -> int:
        """Exceptions the hub caught but did not foresee, counted even when the log is rate-limited."""
        counts = self.hub.report.counts + self.hub.link.report.counts
        return sum(counts[code] for code in UNFORESEEN)

    def begin(self) -> None:
        """Each example is judged on its own."""
        self.errors.records.clear()
        self.loop_errors.clear()
        self._unforeseen = self.unforeseen()

    def assert_healthy(self) -> None:
        """The anchor still commands and confirms; nothing unforeseen was logged; only valid topics published."""
        self._anchor_on = not self._anchor_on
        self.run(self.hub.set("Anchor Plug", {"on": self._anchor_on}, timeout_s=3))
        assert not self.errors.records, [
            (r.msg, r.__dict__.get("code"), r.__dict__.get("error")) for r in self.errors.records
        ]
        assert self.unforeseen() == self._unforeseen, (self.hub.report.counts, self.hub.link.report.counts)
        assert not self.loop_errors, self.loop_errors
        bad = [t for t in self.published if topic_problem(t) or any(c.reserved(t) for c in self.hub.codecs)]
        assert not bad, bad

    def assert_unsubscribed(self) -> None:
        """The hub listens to the conventions' filters and the topics of devices it has, nothing else."""
        link = self.hub.link
        extra = (link._control.filters | link._bulk.filters) - link._pinned - set(self.hub.registry.routes)
        assert not extra, extra
