"""Homie 5: `homie/5/<device>/$description` (JSON) and `$state`; properties at
`homie/5/<device>/<node>/<property>`, set at `.../set`. Each node is one of our devices."""

from __future__ import annotations

from functools import partial
from typing import Any

from device_drivers.codec import Codec, Discovery, add_availability, add_command, add_state, wiring
from device_drivers.model import HA_ONLY_KINDS, Attribute, Convention, Device, InvalidPayload, Kind, kind_attributes
from device_drivers.wire import loads

KINDS = {k.value: k for k in Kind if k not in HA_ONLY_KINDS}
# Property ids that carry each of our attributes (Homie leaves naming to the device).
PROPERTIES = {
    "on": ("on", "state", "power"),
    "brightness": ("brightness", "dim", "level"),
    "color_temp": ("color-temperature", "color_temp", "colour-temperature"),
    "rgb": ("color", "colour", "rgb"),
    "percentage": ("percentage", "speed"),
    "position": ("position",),
    "state": ("action", "state", "command"),
    "locked": ("locked", "lock"),
    "mode": ("mode",),
    "target_temperature": ("target-temperature", "setpoint", "target_temperature"),
    "current_temperature": ("temperature", "current-temperature", "current_temperature"),
    "value": ("value", "temperature", "humidity", "illuminance", "power", "energy"),
}
BOOL = {"f": "onoff", "on": "true", "off": "false"}
_COVER_STATES = ("open", "closed", "opening", "closing", "stopped")
COVER = {"f": "map", "map": {s: s for s in _COVER_STATES}, "cmd": {"open": "open", "close": "close", "stop": "stop"}}


class Homie(Codec):
    convention = Convention.HOMIE

    def __init__(self, prefix: str = "homie") -> None:
        self.root = f"{prefix}/5"

    def subscriptions(self) -> list[str]:
        return [f"{self.root}/+/$description", f"{self.root}/+/$state", f"{self.root}/+/+/+"]

    def is_discovery(self, topic: str) -> bool:
        parts = topic.split("/")
        return len(parts) == 4 and "/".join(parts[:2]) == self.root and parts[3] == "$description"

    def reserved(self, topic: str) -> bool:
        """`$` attributes (`$state`, `$description`, `$broadcast`...) are Homie's, never a command topic."""
        return topic.startswith(f"{self.root}/") and any(p.startswith("$") for p in topic.split("/")[2:])

    def parse_discovery(self, topic: str, payload: bytes) -> Discovery | None:
        """An empty `$description` (a device removed) withdraws its nodes."""
        if not self.is_discovery(topic):
            return None
        device_id = topic.split("/")[2]
        if not payload:
            return Discovery(withdrawn=[topic])
        desc = loads(payload)
        if not isinstance(desc, dict) or not isinstance(desc.get("nodes"), dict):
            raise InvalidPayload("$description needs a 'nodes' object")
        if not str(desc.get("homie", "5")).startswith("5"):
            raise InvalidPayload(f"unsupported Homie version {desc.get('homie')!r}")
        found = Discovery()
        name = str(desc.get("name") or device_id)
        for node_id, node in desc["nodes"].items():
            found.read(topic, partial(self._nodes, device_id, name, node_id, node))
        return found

    def _nodes(self, device_id: str, device_name: str, node_id: str, node: Any) -> list[Device]:
        device = self._node(device_id, device_name, node_id, node)
        return [device] if device is not None else []

    def _node(self, device_id: str, device_name: str, node_id: str, node: dict[str, Any]) -> Device | None:
        if not isinstance(node, dict):
            raise InvalidPayload(f"node {node_id!r} is not an object")
        props = node.get("properties") or {}
        kind = KINDS.get(str(node.get("type", "")).split(".")[-1]) or _infer(props)
        if kind is None:
            return None
        w = wiring()
        base = f"{self.root}/{device_id}/{node_id}"
        attributes: dict[str, Attribute] = {}
        for attr, spec in kind_attributes(kind).items():
            prop_id = next((p for p in PROPERTIES[attr] if p in props), None)
            if prop_id is None:
                continue
            prop = props[prop_id]
            fmt = _format(attr, prop)
            writable = bool(prop.get("settable")) and spec.writable
            add_state(w, f"{base}/{prop_id}", attr, fmt)
            if writable:
                add_command(w, f"{base}/{prop_id}/set", attr, fmt)
            unit = prop.get("unit") or spec.unit
            attributes[attr] = Attribute(spec.name, spec.type, writable, spec.min, spec.max, spec.options, unit)
        if not attributes:
            return None
        add_availability(w, f"{self.root}/{device_id}/$state", "ready", ["lost", "disconnected"])
        name = str(node.get("name") or f"{device_name} {node_id}")
        return Device(f"homie:{device_id}/{node_id}", Convention.HOMIE, kind, name, attributes, "", "", w)


def _format(attr: str, prop: dict[str, Any]) -> dict[str, Any]:
    datatype = prop.get("datatype")
    if datatype == "boolean":
        return BOOL
    if attr == "state":
        return COVER
    if attr == "rgb":
        return {"f": "rgb_csv"}
    if attr == "brightness":
        return {"f": "scaled", "hi": round(_upper(prop, 100))}
    if attr == "color_temp":  # kelvin ranges are in the thousands, mired ones in the hundreds
        return {"f": "int"} if _upper(prop, 6500) > 1000 else {"f": "mired"}
    if datatype in ("float",) or "temperature" in attr or attr == "value":
        return {"f": "float"}
    if datatype == "enum":
        return {"f": "str"}
    return {"f": "int"}


def _upper(prop: dict[str, Any], default: float) -> float:
    """The top of a Homie numeric `format` ("0:255" -> 255)."""
    top = str(prop.get("format", "")).split(":")[-1]
    try:
        return float(top)
    except ValueError:
        return default


def _infer(props: dict[str, Any]) -> Kind | None:
    """A node without a known `type`: a light if it dims, else a switch, else a sensor."""
    settable = {k for k, v in props.items() if v.get("settable")}
    if settable & set(PROPERTIES["brightness"]):
        return Kind.LIGHT
    if settable & set(PROPERTIES["on"]):
        return Kind.SWITCH
    if any(v.get("datatype") in ("integer", "float") for v in props.values()):
        return Kind.SENSOR
    if any(v.get("datatype") == "boolean" for v in props.values()):
        return Kind.BINARY_SENSOR
    return None
