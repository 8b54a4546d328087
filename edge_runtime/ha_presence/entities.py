"""The hub's own entities, as Home Assistant's MQTT discovery configs, all under one device block.

Discovery topics are `<prefix>/<component>/<node_id>/<object_id>/config`, with the hub's node id;
state and commands live under `companion/<hub_id>/...`. Those are the only topics the hub
publishes on: never Home Assistant's own (`<prefix>/status` is Home Assistant's to send).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ASSIST_STATES = ("idle", "listening", "thinking", "speaking")
ONLINE, OFFLINE = "online", "offline"


@dataclass(frozen=True)
class HubDevice:
    hub_id: str
    name: str
    room: str | None
    version: str
    wake_words: tuple[str, ...]
    prefix: str = "homeassistant"

    @property
    def node_id(self) -> str:
        """What the hub's device layer filters out of discovery, so it never controls itself."""
        return node_id(self.hub_id)

    @property
    def base(self) -> str:
        return f"companion/{self.hub_id}"

    def topic(self, name: str) -> str:
        return f"{self.base}/{name}"

    @property
    def availability(self) -> str:
        return self.topic("availability")

    @property
    def birth(self) -> str:
        """Home Assistant's status topic: the hub listens to it and never publishes on it."""
        return f"{self.prefix}/status"


def node_id(hub_id: str) -> str:
    return "companion_" + re.sub(r"[^a-zA-Z0-9_]", "_", hub_id)


def _device(hub: HubDevice) -> dict[str, Any]:
    device = {
        "identifiers": [hub.node_id],
        "name": hub.name,
        "manufacturer": "Companion",
        "model": "Companion hub",
        "sw_version": hub.version,
    }
    if hub.room:
        device["suggested_area"] = hub.room
    return device


def entity(hub: HubDevice, object_id: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "unique_id": f"{hub.node_id}_{object_id}",
        "state_topic": hub.topic(object_id),
        "availability_topic": hub.availability,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "device": _device(hub),
        "origin": {"name": "Companion", "sw_version": hub.version},
        **extra,
    }


def discovery(hub: HubDevice) -> list[tuple[str, dict[str, Any]]]:
    """(config topic, config) for every entity of the hub."""
    cmd = hub.topic
    entities = [
        (
            "sensor",
            "assist_state",
            entity(
                hub,
                "assist_state",
                "Assist state",
                device_class="enum",
                options=list(ASSIST_STATES),
                icon="mdi:account-voice",
            ),
        ),
        ("sensor", "last_transcript", entity(hub, "last_transcript", "Last transcript", icon="mdi:text-recognition")),
        ("sensor", "last_reply", entity(hub, "last_reply", "Last reply", icon="mdi:message-reply-text")),
        (
            "switch",
            "mute",
            entity(
                hub,
                "mute",
                "Mute",
                command_topic=cmd("mute/set"),
                payload_on="ON",
                payload_off="OFF",
                icon="mdi:microphone-off",
            ),
        ),
        (
            "number",
            "volume",
            entity(
                hub,
                "volume",
                "Volume",
                command_topic=cmd("volume/set"),
                min=0,
                max=100,
                step=1,
                unit_of_measurement="%",
                mode="slider",
                icon="mdi:volume-high",
            ),
        ),
        (
            "select",
            "wake_word",
            entity(
                hub,
                "wake_word",
                "Wake word",
                command_topic=cmd("wake_word/set"),
                options=list(hub.wake_words),
                icon="mdi:microphone-message",
            ),
        ),
        (
            "sensor",
            "timers",
            entity(
                hub, "timers", "Active timers", json_attributes_topic=cmd("timers/attributes"), icon="mdi:timer-outline"
            ),
        ),
        (
            "sensor",
            "next_timer",
            entity(hub, "next_timer", "Next timer", device_class="timestamp", icon="mdi:timer-sand"),
        ),
    ]
    return [(f"{hub.prefix}/{component}/{hub.node_id}/{oid}/config", config) for component, oid, config in entities]


def command_filter(hub: HubDevice) -> str:
    return hub.topic("+/set")
