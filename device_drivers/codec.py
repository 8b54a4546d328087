"""What a convention does for the hub: find devices, read their state, write commands.

Discovery differs per convention; reading and writing do not. Every convention records,
at discovery, a *wiring*: which topic (and JSON key) carries which attribute in which wire
format. `decode` and `encode` below work from that alone.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from device_drivers.color import rgb_to_hs, rgb_to_xy
from device_drivers.model import Convention, Device, DriverError, InvalidCommand, InvalidPayload, Kind
from device_drivers.templates import render, render_value
from device_drivers.validate import check_device, tidy
from device_drivers.wire import as_payload, decode_value, dig, encode_value, loads, text

Route = list[Any]  # [attribute, format, json path or None]


# What a malformed field raises while a config is read (a string where a dict was expected, int("abc"),
# int(1e999), a scale of zero...): the config is refused with a code instead.
PARSE_ERRORS = (
    TypeError,
    ValueError,
    KeyError,
    AttributeError,
    IndexError,
    OverflowError,
    ZeroDivisionError,
    RecursionError,
)


@dataclass
class Refused:
    source: str
    device_id: str  # "" when the entry was unreadable before its id
    error: DriverError


@dataclass
class Discovery:
    """What one discovery message says. A *source* is what announced a device: the discovery topic, or
    `<topic>#<component>` for one component of a Home Assistant device config. A device id belongs to
    its source; an empty config withdraws the devices of its source (and of its components)."""

    devices: list[Device] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # device id -> source; the topic when absent
    withdrawn: list[str] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    def read(self, source: str, entry: Callable[[], Iterable[Device]], device_id: str = "") -> None:
        """Add the devices of one entry of a message; an entry that cannot be read is refused alone
        (under `device_id`, when the entry names its device before it fails)."""
        try:
            devices = list(entry())
        except DriverError as err:
            self.refused.append(Refused(source, device_id, err))
            return
        except PARSE_ERRORS as err:
            self.refused.append(Refused(source, device_id, _unreadable(err)))
            return
        for device in devices:
            if device.id in self.sources:  # one id, one device: the first announcement in a message holds
                twice = DriverError(f"{device.id} is announced twice in one message", code="DEVICE_ID_CLAIMED")
                self.refused.append(Refused(source, device.id, twice))
                continue
            self.devices.append(device)
            self.sources[device.id] = source


def _unreadable(err: BaseException) -> InvalidPayload:
    return InvalidPayload(f"unreadable discovery config: {type(err).__name__}: {str(err)[:120]}")


@dataclass
class StateUpdate:
    device_id: str
    values: dict[str, Any]
    available: bool | None = None
    problem: DriverError | None = None  # a value in the message that could not be read (the rest still count)


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
    w: dict[str, Any],
    topic: str | None,
    on: str,
    off: str | list[str],
    path: list[str] | None = None,
    template: str | None = None,
) -> None:
    """`off` may list several values (Homie: lost, disconnected); anything else says nothing."""
    if topic:
        entry = {"t": topic, "on": on, "off": [off] if isinstance(off, str) else off, "path": path}
        if template:
            entry["tpl"] = template
        w["avail"].append(entry)


def combine_availability(mode: str, known: dict[str, bool], topics: list[str]) -> bool | None:
    """Several availability topics, as Home Assistant's `availability_mode` reads them: `all` (every topic
    online), `any` (one is), `latest` (the last word); `known` (Zigbee2MQTT's bridge and device): offline if any
    topic that spoke said offline, online if all that spoke said online."""
    if not known:
        return None
    if mode == "all":
        return all(known.get(t) is True for t in topics)
    if mode == "any":
        return any(known.values())
    if mode == "known":
        return all(known.values())
    return None  # latest: the caller keeps the last word


def _availability_value(payload: bytes, path: list[str] | None, template: str | None = None) -> str:
    if template:
        return render_value(template, payload)
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

    def discover(self, topic: str, payload: bytes) -> Discovery | None:
        """`parse_discovery`, never trusted: an unreadable message raises a coded InvalidPayload, and each
        device whose topics or formats fail `check_device` is moved to `refused`; names made printable."""
        try:
            found = self.parse_discovery(topic, payload)
        except PARSE_ERRORS as err:
            raise _unreadable(err) from err
        if found is None:
            return None
        kept = []
        for device in found.devices:
            source = found.sources.setdefault(device.id, topic)
            try:
                check_device(device)
            except DriverError as err:
                found.refused.append(Refused(source, device.id, err))
                continue
            kept.append(tidy(device))
        found.devices = kept
        return found

    def is_discovery(self, topic: str) -> bool:
        """Whether messages on `topic` announce devices (no device may use it for state or commands)."""
        return False

    def family(self, topic: str) -> str:
        """The discovery topics that speak for one device, whose devices may share topics: by default one."""
        return topic

    def reserved(self, topic: str) -> bool:
        """Whether `topic` belongs to the convention itself (discovery, bridge requests, `$` attributes):
        no device's command may be published there."""
        return self.is_discovery(topic)

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
                raw = _availability_value(payload, avail["path"], avail.get("tpl"))
                if raw == avail["on"]:
                    available = True
                elif raw in avail["off"]:
                    available = False
        routes = device.wiring["state"].get(topic, [])
        data = None
        if routes and any(route[2] and not route[1].get("tpl") for route in routes):
            data = loads(payload)
            if not isinstance(data, dict):
                raise InvalidPayload("expected a JSON object")
        problem = None
        for attr, fmt, path in routes:
            try:
                raw = _raw(fmt, path, data, payload)
                if raw is not _ABSENT:
                    values[attr] = decode_value(fmt, raw)
            except InvalidPayload as err:  # one unreadable value does not hide the others in the message
                problem = problem or InvalidPayload(f"'{attr}': {err.message}", code=err.code)
        if problem is not None and not values and available is None:
            raise problem
        return StateUpdate(device.id, values, available, problem)

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
            if fmt.get("ctpl"):
                wire = render(fmt["ctpl"], value=wire, **_template_names(attr, value))
            if path:
                target = objects.setdefault(topic, {})
                for key in path[:-1]:
                    target = target.setdefault(key, {})
                target[path[-1]] = wire
            else:
                plain.append((topic, as_payload(wire)))
        return [*((t, json.dumps(o, separators=(",", ":")).encode()) for t, o in objects.items()), *plain]


_ABSENT = object()


def _raw(fmt: dict[str, Any], path: list[str] | None, data: Any, payload: bytes) -> Any:
    """The wire value of one route in a message, or _ABSENT when the message says nothing about it."""
    if fmt.get("tpl"):
        raw = render_value(fmt["tpl"], payload)
        return _ABSENT if raw in ("", "None") else raw  # stat/RESULT answers one command: the rest is absent
    if path:
        try:
            return dig(data, path)
        except InvalidPayload:
            return _ABSENT  # JSON state messages may carry only some keys
    raw = text(payload)
    return _ABSENT if raw == "" else raw


def _template_names(attr: str, value: Any) -> dict[str, Any]:
    """The names Home Assistant gives a command template besides `value` (red, green, blue; hue, sat; x, y)."""
    if attr != "rgb":
        return {}
    hue, sat = rgb_to_hs(value)
    x, y = rgb_to_xy(value)
    return {"red": value[0], "green": value[1], "blue": value[2], "hue": hue, "sat": sat, "x": x, "y": y}


def implied(device: Device, values: dict[str, Any]) -> dict[str, Any]:
    """A light dimmed or coloured is a light switched on: add on=True unless the user said."""
    dims = any(k in values for k in ("brightness", "color_temp", "rgb")) and values.get("brightness", 1) > 0
    if device.kind is Kind.LIGHT and "on" not in values and "on" in device.attributes and dims:
        return {"on": True, **values}
    return values
