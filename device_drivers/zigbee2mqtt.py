"""Zigbee2MQTT: devices from the retained `<base>/bridge/devices` list and their `exposes`;
state on `<base>/<name>`, commands to `/set`, reads via `/get`, and `/availability`."""

from __future__ import annotations

import json
import math
from functools import partial
from typing import Any

from device_drivers.codec import Codec, Discovery, add_availability, add_command, add_state, wiring
from device_drivers.model import Attribute, Convention, Device, InvalidPayload, Kind, kind_attributes, mired_to_kelvin
from device_drivers.wire import loads

SPECIFIC = {
    "light": Kind.LIGHT,
    "switch": Kind.SWITCH,
    "fan": Kind.FAN,
    "cover": Kind.COVER,
    "lock": Kind.LOCK,
    "climate": Kind.CLIMATE,
}
# Which exposed feature carries which of our attributes, per kind.
FEATURES = {
    Kind.LIGHT: {
        "state": "on",
        "brightness": "brightness",
        "color_temp": "color_temp",
        "color_xy": "rgb",
        "color_hs": "rgb",
    },
    Kind.SWITCH: {"state": "on"},
    Kind.FAN: {"state": "on", "fan_state": "on", "percentage": "percentage", "speed": "percentage"},
    Kind.COVER: {"state": "state", "position": "position"},
    Kind.LOCK: {"state": "locked"},
    Kind.CLIMATE: {
        "system_mode": "mode",
        "occupied_heating_setpoint": "target_temperature",
        "current_heating_setpoint": "target_temperature",
        "local_temperature": "current_temperature",
    },
}
# What Zigbee2MQTT's properties are, as its own Home Assistant discovery classes them.
BINARY_CLASSES = {
    "contact": "door",
    "occupancy": "occupancy",
    "presence": "presence",
    "water_leak": "moisture",
    "smoke": "smoke",
    "gas": "gas",
    "vibration": "vibration",
    "tamper": "tamper",
    "battery_low": "battery",
    "carbon_monoxide": "carbon_monoxide",
}
NUMERIC_CLASSES = {
    "temperature": "temperature",
    "device_temperature": "temperature",
    "humidity": "humidity",
    "pressure": "pressure",
    "illuminance": "illuminance",
    "illuminance_lux": "illuminance",
    "battery": "battery",
    "voltage": "voltage",
    "power": "power",
    "energy": "energy",
    "current": "current",
    "co2": "carbon_dioxide",
    "linkquality": "signal_strength",
}
DIAGNOSTIC = {
    "linkquality",
    "battery",
    "voltage",
    "battery_low",
    "power_outage_count",
    "device_temperature",
    "tamper",
    "update_available",
}
COVER_STATES = {"OPEN": "open", "CLOSE": "closed", "STOP": "stopped", "OPENING": "opening", "CLOSING": "closing"}
SET, GET = 2, 4  # bits of a feature's `access`


class Zigbee2MQTT(Codec):
    convention = Convention.ZIGBEE2MQTT

    def __init__(self, base: str = "zigbee2mqtt") -> None:
        self.base = base

    def subscriptions(self) -> list[str]:
        return [
            f"{self.base}/bridge/devices",
            f"{self.base}/bridge/state",
            f"{self.base}/+",
            f"{self.base}/+/availability",
        ]

    def refresh(self, device: Device) -> list[tuple[str, bytes]]:
        keys = {route[2][0]: "" for routes in device.wiring["state"].values() for route in routes if route[2]}
        return [(f"{self.base}/{device.wiring['name']}/get", json.dumps(keys).encode())] if keys else []

    def is_discovery(self, topic: str) -> bool:
        return topic == f"{self.base}/bridge/devices"

    def reserved(self, topic: str) -> bool:
        """The bridge's own topics: `bridge/request/permit_join` must never be a device's command."""
        return topic == f"{self.base}/bridge" or topic.startswith(f"{self.base}/bridge/")

    def parse_discovery(self, topic: str, payload: bytes) -> Discovery | None:
        if not self.is_discovery(topic):
            return None
        entries = loads(payload)
        if not isinstance(entries, list):
            raise InvalidPayload("bridge/devices must be a JSON list")
        found = Discovery()
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("type") == "Coordinator" or not entry.get("definition"):
                continue
            ieee = entry.get("ieee_address")
            named = f"z2m:{ieee}" if isinstance(ieee, str) else ""
            found.read(topic, partial(self._devices, entry), named)  # one bad entry is refused alone
        return found

    def _devices(self, entry: dict[str, Any]) -> list[Device]:
        """One Zigbee device, its entities grouped under it: the controllable ones first, then what it
        measures; diagnostics (battery, link quality) readable but hidden from voice and the main list."""
        ieee = str(entry["ieee_address"])
        name = str(entry.get("friendly_name") or ieee)
        definition = entry["definition"]
        vendor, model = str(definition.get("vendor", "")), str(definition.get("model", ""))
        state_t = f"{self.base}/{name}"
        group = {"group": f"z2m:{ieee}", "group_name": name, "manufacturer": vendor, "model": model}
        exposes = [e for e in definition.get("exposes") or [] if isinstance(e, dict)]
        devices: list[Device] = []
        for expose in exposes:
            kind = SPECIFIC.get(str(expose.get("type")))
            if kind is None:
                continue
            w = self._wiring(name, state_t)
            attributes = self._features(kind, expose, w, state_t)
            suffix = "" if not devices else f"/{expose.get('endpoint') or len(devices)}"
            devices.append(
                Device(f"z2m:{ieee}{suffix}", Convention.ZIGBEE2MQTT, kind, name, attributes, wiring=w, **group)
            )
        primary = not devices
        for expose in exposes:
            sensor = self._sensor(expose, ieee, name, state_t, group, primary)
            if sensor is not None:
                devices.append(sensor)
                primary = primary and sensor.name != name
        return devices

    def _wiring(self, name: str, state_t: str) -> dict[str, Any]:
        w = wiring()
        w["name"] = name
        # The device's own availability, and the bridge's: when the bridge dies, so do its devices.
        add_availability(w, f"{state_t}/availability", "online", "offline", ["state"])
        add_availability(w, f"{self.base}/bridge/state", "online", "offline", ["state"])
        w["avail_mode"] = "known"
        return w

    def _features(self, kind: Kind, expose: dict[str, Any], w: dict[str, Any], state_t: str) -> dict[str, Attribute]:
        attributes: dict[str, Attribute] = {}
        known = kind_attributes(kind)
        for feature in expose.get("features") or []:
            attr = FEATURES[kind].get(feature.get("name"))
            if attr is None or attr not in known or attr in attributes:
                continue
            fmt, found = self._format(kind, attr, feature, known[attr])
            path = [feature.get("property", feature.get("name"))]
            add_state(w, state_t, attr, fmt, path)
            if int(feature.get("access", 7)) & SET:
                add_command(w, f"{state_t}/set", attr, fmt, path)
            else:
                found = Attribute(**{**found.__dict__, "writable": False})
            attributes[attr] = found
        if "rgb" in attributes:  # which of colour and colour temperature the bulb shows now
            add_state(w, state_t, "color_mode", {"f": "str"}, ["color_mode"])
            attributes["color_mode"] = Attribute("color_mode", "str", writable=False)
        return attributes

    def _format(
        self, kind: Kind, attr: str, feature: dict[str, Any], base: Attribute
    ) -> tuple[dict[str, Any], Attribute]:
        """The wire format of one feature, and our attribute with the range the device advertised."""
        low, high = feature.get("value_min"), feature.get("value_max")
        if feature.get("type") == "binary":
            on, off = str(feature.get("value_on", "ON")), str(feature.get("value_off", "OFF"))
            return {"f": "onoff", "on": on, "off": off}, base
        if attr == "brightness":
            scale = int(high if high is not None else 254)
            return {"f": "scaled", "hi": scale}, _with(base, step=round(100 / scale, 3))
        if attr == "color_temp":
            warm, cold = float(high if high is not None else 500), float(low if low is not None else 150)
            top = math.floor(1_000_000 / cold)
            step = top - mired_to_kelvin(cold + 1)
            return {"f": "mired"}, _with(base, min=math.ceil(1_000_000 / warm), max=top, step=step)
        if attr == "rgb":  # colour_xy or colour_hs: Zigbee speaks xy or hue/saturation, and reports what it reached
            return {"f": "color", "send": "hs" if feature.get("name") == "color_hs" else "xy"}, base
        if kind is Kind.COVER and attr == "state":
            return {"f": "map", "map": COVER_STATES, "cmd": {"open": "OPEN", "close": "CLOSE", "stop": "STOP"}}, base
        if attr == "percentage" and high not in (None, 100):
            return {"f": "scaled", "hi": int(high)}, _with(base, step=round(100 / int(high), 3))
        if attr == "mode":
            values = tuple(str(v) for v in feature.get("values") or base.options)
            return {"f": "str"}, _with(base, options=values)
        if "temperature" in attr:
            ranged: dict[str, Any] = {}
            if low is not None and high is not None:
                ranged = {"min": float(low), "max": float(high)}
            precision = feature.get("value_step")
            return {"f": "float"}, _with(base, **ranged, step=float(precision) if precision else None, unit="°C")
        return {"f": "int"}, base

    def _sensor(
        self, expose: dict[str, Any], ieee: str, name: str, state_t: str, group: dict[str, str], primary: bool
    ) -> Device | None:
        kind_of = expose.get("type")
        prop = expose.get("property") or expose.get("name")
        if kind_of not in ("numeric", "binary") or not isinstance(prop, str) or int(expose.get("access", 1)) & SET:
            return None
        w = self._wiring(name, state_t)
        category = str(expose.get("category") or ("diagnostic" if prop in DIAGNOSTIC else ""))
        if kind_of == "numeric":
            add_state(w, state_t, "value", {"f": "float"}, [prop])
            unit = expose.get("unit")
            attrs = {"value": Attribute("value", "float", writable=False, unit=str(unit) if unit else None)}
            kind, device_class = Kind.SENSOR, NUMERIC_CLASSES.get(prop, "")
        else:
            fmt = {"f": "onoff", "on": str(expose.get("value_on", True)), "off": str(expose.get("value_off", False))}
            add_state(w, state_t, "on", fmt, [prop])
            attrs = {"on": Attribute("on", "bool", writable=False)}
            kind, device_class = Kind.BINARY_SENSOR, BINARY_CLASSES.get(prop, "")
        main = primary and not category and kind is Kind.BINARY_SENSOR
        label = prop.replace("_", " ")
        said = name if main or name.lower().split()[-1:] == [label] else f"{name} {label}"
        return Device(
            f"z2m:{ieee}/{prop}",
            Convention.ZIGBEE2MQTT,
            kind,
            said,
            attrs,
            wiring=w,
            device_class=device_class,
            entity_category=category,
            **group,
        )


def _with(attr: Attribute, **changes: Any) -> Attribute:
    return Attribute(**{**attr.__dict__, **changes})
