"""An attacker's tools on a real broker: retained configs, raw publishes, and a spy that sees what the hub sends."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as mqtt

from device_drivers.mosquitto import Mosquitto


def publish(broker: Mosquitto, messages: list[tuple[str, Any]], *, retain: bool = True) -> None:
    """Publish at QoS 1 and wait for every PUBACK; dicts go as JSON, str as UTF-8."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"attacker-{time.monotonic_ns()}")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        infos = [client.publish(topic, _bytes(payload), qos=1, retain=retain) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def _bytes(payload: Any) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload).encode()


class Spy:
    """Every message on the broker matching `filters`, as (topic, payload)."""

    def __init__(self, broker: Mosquitto, filters: list[str]) -> None:
        self.seen: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"spy-{time.monotonic_ns()}")
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.subscribe([(f, 1) for f in filters])
        self.client.loop_start()
        subscribed.wait(5)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.seen.append((msg.topic, bytes(msg.payload)))

    def payloads(self, topic: str) -> list[bytes]:
        with self._lock:
            return [p for t, p in self.seen if t == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def spying(broker: Mosquitto, filters: list[str]) -> Iterator[Spy]:
    spy = Spy(broker, filters)
    try:
        yield spy
    finally:
        spy.close()


async def until(predicate: Callable[[], Any], timeout_s: float = 5.0) -> bool:
    """Poll `predicate` on the running loop until it holds (True) or time runs out (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return bool(predicate())
