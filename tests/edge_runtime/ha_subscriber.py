"""Home Assistant's side of MQTT discovery, as a plain paho client: it reads `<prefix>/+/+/+/config`
as HA does, follows each entity's state and availability topics, and keeps every value it saw."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt


class HaSubscriber:
    def __init__(self, broker_url: str, prefix: str = "homeassistant") -> None:
        host, port = broker_url.removeprefix("mqtt://").split(":")
        self.prefix = prefix
        self.configs: dict[str, dict[str, Any]] = {}  # unique_id -> config
        self.config_messages = 0
        self.values: dict[str, list[str]] = defaultdict(list)  # topic -> every payload, in order
        self.status_seen: list[str] = []  # what arrived on HA's own status topic
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="home-assistant-test")
        self.client.on_connect = lambda c, *_: c.subscribe([(f"{prefix}/#", 1), ("companion/#", 1)])
        self.client.on_message = self._on_message
        self.client.connect(host, int(port))
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        payload = msg.payload.decode()
        parts = msg.topic.split("/")
        with self._lock:
            if msg.topic == f"{self.prefix}/status":
                self.status_seen.append(payload)
            elif parts[0] == self.prefix and parts[-1] == "config" and len(parts) == 5:
                if payload:  # an empty config removes the entity
                    config = json.loads(payload)
                    config["_component"] = parts[1]
                    self.configs[config["unique_id"]] = config
                    self.config_messages += 1
            else:
                self.values[msg.topic].append(payload)

    def entity(self, object_id: str) -> dict[str, Any]:
        return next(c for uid, c in self.configs.items() if uid.endswith("_" + object_id))

    def state(self, object_id: str) -> str | None:
        seen = self.values.get(self.entity(object_id)["state_topic"])
        return seen[-1] if seen else None

    def history(self, object_id: str) -> list[str]:
        return list(self.values.get(self.entity(object_id)["state_topic"], []))

    def available(self, object_id: str) -> str | None:
        seen = self.values.get(self.entity(object_id)["availability_topic"])
        return seen[-1] if seen else None

    def command(self, object_id: str, payload: str) -> None:
        self.client.publish(self.entity(object_id)["command_topic"], payload, qos=1)

    def home_assistant_started(self) -> None:
        """What Home Assistant itself sends when it (re)starts: its birth message."""
        self.client.publish(f"{self.prefix}/status", "online", qos=1)

    def wait(self, check: Callable[[], bool], timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if check():
                    return True
            except (StopIteration, KeyError):
                pass
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
