"""What a convention does for the hub: find devices, read their state, write commands.

Discovery differs per convention; reading and writing do not. Every convention records,
at discovery, a *wiring*: which topic (and JSON key) carries which attribute in which wire
format. `decode` and `encode` below work from that alone.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from device_drivers.model import Convention, Device, InvalidCommand, InvalidPayload, Kind
from device_drivers.wire import as_payload, decode_value, dig, encode_value, loads, text

Route = list[Any]  # [attribute, format, json path or None]


@dataclass
class Discovery:
    devices: list[Device] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class StateUpdate:
    device_id: str
    values: dict[str, Any]
    available: bool | None = None


def wiring() -> dict[str, Any]:
    return {"state": {}, "cmd": {}, "avail": []}


def add_state(
    w: dict[str, Any], topic: str | None, attr: str, fmt: dict[str, Any], path: list[str] | None = None
) -> None:
    if topic:
        w["state"].setdefault(topic, []).append([attr, fmt, path])


def add_command(
    w: dict[str, Any], topic: str | None, attr: str, fmt: dict[str, Any], path: list[str] | None = None
) -> None:
    if topic:
        w["cmd"][attr] = [topic, fmt, path]


def add_availability(
    w: dict[str, Any], topic: str | None, on: str, off: str | list[str], path: list[str] | None = None
) -> None:
    """`off` may list several values (Homie: lost, disconnected); anything else says nothing."""
    if topic:
        w["avail"].append({"t": topic, "on": on, "off": [off] if isinstance(off, str) else off, "path": path})


def _availability_value(payload: bytes, path: list[str] | None) -> str:
    if path:
        try:  # Zigbee2MQTT sends {"state": "online"}, or plain "online" in legacy mode
            return str(dig(loads(payload), path))
        except InvalidPayload:
            pass
    return text(payload)


class Codec(ABC):
    convention: Convention

    @abstractmethod
    def subscriptions(self) -> list[str]:
        """Topic filters to subscribe to at connect: discovery, and wildcard state topics."""

    @abstractmethod
    def parse_discovery(self, topic: str, payload: bytes) -> Discovery | None:
        """Devices announced (or withdrawn) by this message; None if it is not discovery."""

    def refresh(self, device: Device) -> list[tuple[str, bytes]]:
        """Messages that ask a device for its current state, where the convention has them."""
        return []

    def topics(self, device: Device) -> list[str]:
        """Every topic whose messages concern this device."""
        return [*device.wiring["state"], *(a["t"] for a in device.wiring["avail"])]

    def command_topics(self, device: Device) -> set[str]:
        return {route[0] for route in device.wiring["cmd"].values()}

    def decode(self, device: Device, topic: str, payload: bytes) -> StateUpdate:
        values: dict[str, Any] = {}
        available = None
        for avail in device.wiring["avail"]:
            if avail["t"] == topic:
                raw = _availability_value(payload, avail["path"])
                if raw == avail["on"]:
                    available = True
                elif raw in avail["off"]:
                    available = False
        routes = device.wiring["state"].get(topic, [])
        data = None
        if routes and any(route[2] for route in routes):
            data = loads(payload)
            if not isinstance(data, dict):
                raise InvalidPayload("expected a JSON object")
        for attr, fmt, path in routes:
            if path:
                try:
                    raw = dig(data, path)
                except InvalidPayload:
                    continue  # JSON state messages may carry only some keys
            else:
                raw = text(payload)
                if raw == "":
                    continue
            values[attr] = decode_value(fmt, raw)
        return StateUpdate(device.id, values, available)

    def encode(self, device: Device, values: dict[str, Any]) -> list[tuple[str, bytes]]:
        """Validated values -> messages, one per topic (JSON keys to one topic are merged)."""
        objects: dict[str, dict[str, Any]] = {}
        plain: list[tuple[str, bytes]] = []
        for attr, value in values.items():
            route = device.wiring["cmd"].get(attr)
            if route is None:
                raise InvalidCommand(
                    f"{device.name} has no settable '{attr}'", hint=f"try: {', '.join(device.writable())}"
                )
            topic, fmt, path = route
            wire = encode_value(fmt, value)
            if path:
                target = objects.setdefault(topic, {})
                for key in path[:-1]:
                    target = target.setdefault(key, {})
                target[path[-1]] = wire
            else:
                plain.append((topic, as_payload(wire)))
        return [*((t, json.dumps(o, separators=(",", ":")).encode()) for t, o in objects.items()), *plain]


def implied(device: Device, values: dict[str, Any]) -> dict[str, Any]:
    """A light dimmed or coloured is a light switched on: add on=True unless the user said."""
    dims = any(k in values for k in ("brightness", "color_temp", "rgb")) and values.get("brightness", 1) > 0
    if device.kind is Kind.LIGHT and "on" not in values and "on" in device.attributes and dims:
        return {"on": True, **values}
    return values
