"""Zigbee2MQTT: devices from the retained `<base>/bridge/devices` list and their `exposes`;
state on `<base>/<name>`, commands to `/set`, reads via `/get`, and `/availability`."""

from __future__ import annotations

import json
from typing import Any

from device_drivers.codec import Codec, Discovery, add_availability, add_command, add_state, wiring
from device_drivers.model import Attribute, Convention, Device, InvalidPayload, Kind, kind_attributes
from device_drivers.wire import loads

SPECIFIC = {"light": Kind.LIGHT, "switch": Kind.SWITCH, "fan": Kind.FAN, "cover": Kind.COVER, "lock": Kind.LOCK,
            "climate": Kind.CLIMATE}  # fmt: skip
# Which exposed feature carries which of our attributes, per kind.
FEATURES = {
    Kind.LIGHT: {"state": "on", "brightness": "brightness", "color_temp": "color_temp", "color_xy": "rgb",
                 "color_hs": "rgb"},
    Kind.SWITCH: {"state": "on"},
    Kind.FAN: {"state": "on", "fan_state": "on", "percentage": "percentage", "speed": "percentage"},
    Kind.COVER: {"state": "state", "position": "position"},
    Kind.LOCK: {"state": "locked"},
    Kind.CLIMATE: {"system_mode": "mode", "occupied_heating_setpoint": "target_temperature",
                   "current_heating_setpoint": "target_temperature", "local_temperature": "current_temperature"},
}  # fmt: skip
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

    def parse_discovery(self, topic: str, payload: bytes) -> Discovery | None:
        if topic != f"{self.base}/bridge/devices":
            return None
        entries = loads(payload)
        if not isinstance(entries, list):
            raise InvalidPayload("bridge/devices must be a JSON list")
        found = Discovery()
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("type") == "Coordinator" or not entry.get("definition"):
                continue
            found.devices.extend(self._devices(entry))
        return found

    def _devices(self, entry: dict[str, Any]) -> list[Device]:
        ieee = str(entry["ieee_address"])
        name = str(entry.get("friendly_name") or ieee)
        definition = entry["definition"]
        vendor, model = str(definition.get("vendor", "")), str(definition.get("model", ""))
        state_t, set_t = f"{self.base}/{name}", f"{self.base}/{name}/set"
        devices = []
        for expose in definition.get("exposes") or []:
            kind = SPECIFIC.get(expose.get("type"))
            if kind is None:
                sensor = self._sensor(expose, ieee, name, vendor, model, state_t)
                if sensor is not None:
                    devices.append(sensor)
                continue
            w = wiring()
            w["name"] = name
            attributes: dict[str, Attribute] = {}
            known = kind_attributes(kind)
            for feature in expose.get("features") or []:
                attr = FEATURES[kind].get(feature.get("name"))
                if attr is None or attr not in known:
                    continue
                fmt = self._format(kind, attr, feature)
                path = [feature.get("property", feature.get("name"))]
                add_state(w, state_t, attr, fmt, path)
                base = known[attr]
                writable = bool(int(feature.get("access", 7)) & SET)
                if writable:
                    add_command(w, set_t, attr, fmt, path)
                attributes[attr] = Attribute(
                    base.name, base.type, writable, base.min, base.max, base.options, base.unit
                )
            self._availability(w, state_t)
            suffix = "" if not devices else f"/{expose.get('endpoint') or len(devices)}"
            devices.append(
                Device(f"z2m:{ieee}{suffix}", Convention.ZIGBEE2MQTT, kind, name, attributes, vendor, model, w)
            )
        return devices

    def _availability(self, w: dict[str, Any], state_t: str) -> None:
        # The device's own availability, and the bridge's: when the bridge dies, so do its devices.
        add_availability(w, f"{state_t}/availability", "online", "offline", ["state"])
        add_availability(w, f"{self.base}/bridge/state", "online", "offline", ["state"])

    def _format(self, kind: Kind, attr: str, feature: dict[str, Any]) -> dict[str, Any]:
        if feature.get("type") == "binary":
            return {"f": "onoff", "on": str(feature.get("value_on", "ON")), "off": str(feature.get("value_off", "OFF"))}
        if attr == "brightness":
            return {"f": "scaled", "hi": int(feature.get("value_max", 254))}
        if attr == "color_temp":
            return {"f": "mired"}
        if attr == "rgb":
            return {"f": "rgb_obj"}
        if kind is Kind.COVER and attr == "state":
            return {"f": "map", "map": COVER_STATES, "cmd": {"open": "OPEN", "close": "CLOSE", "stop": "STOP"}}
        if attr == "percentage" and feature.get("value_max", 100) != 100:
            return {"f": "scaled", "hi": int(feature["value_max"])}
        if attr == "mode":
            return {"f": "str"}
        return {"f": "float"} if "temperature" in attr else {"f": "int"}

    def _sensor(
        self, expose: dict[str, Any], ieee: str, name: str, vendor: str, model: str, state_t: str
    ) -> Device | None:
        kind_of = expose.get("type")
        prop = expose.get("property") or expose.get("name")
        if kind_of not in ("numeric", "binary") or not prop or int(expose.get("access", 1)) & SET:
            return None
        w = wiring()
        w["name"] = name
        self._availability(w, state_t)
        if kind_of == "numeric":
            add_state(w, state_t, "value", {"f": "float"}, [prop])
            attrs = {"value": Attribute("value", "float", writable=False, unit=expose.get("unit"))}
            kind = Kind.SENSOR
        else:
            fmt = {"f": "onoff", "on": str(expose.get("value_on", True)), "off": str(expose.get("value_off", False))}
            add_state(w, state_t, "on", fmt, [prop])
            attrs = {"on": Attribute("on", "bool", writable=False)}
            kind = Kind.BINARY_SENSOR
        return Device(f"z2m:{ieee}/{prop}", Convention.ZIGBEE2MQTT, kind, f"{name} {prop}", attrs, vendor, model, w)
