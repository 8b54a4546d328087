"""Home Assistant MQTT discovery: `<prefix>/<component>/[<node_id>/]<object_id>/config`,
and device-level configs at `<prefix>/device/<id>/config` with `cmps`."""

from __future__ import annotations

from typing import Any

from device_drivers.codec import Codec, Discovery, add_availability, add_command, add_state, wiring
from device_drivers.model import (
    COVER_STATE,
    Attribute,
    Convention,
    Device,
    InvalidPayload,
    Kind,
    kind_attributes,
)
from device_drivers.wire import json_path, loads

# The abbreviations real devices (Tasmota, ESPHome, zigbee bridges) use in their configs.
ABBREVIATIONS = {
    "avty": "availability", "avty_t": "availability_topic", "pl_avail": "payload_available",
    "pl_not_avail": "payload_not_available", "cmd_t": "command_topic", "stat_t": "state_topic",
    "bri_cmd_t": "brightness_command_topic", "bri_stat_t": "brightness_state_topic", "bri_scl": "brightness_scale",
    "clr_temp_cmd_t": "color_temp_command_topic", "clr_temp_stat_t": "color_temp_state_topic",
    "rgb_cmd_t": "rgb_command_topic", "rgb_stat_t": "rgb_state_topic", "pct_cmd_t": "percentage_command_topic",
    "pct_stat_t": "percentage_state_topic", "pos_t": "position_topic", "set_pos_t": "set_position_topic",
    "mode_cmd_t": "mode_command_topic", "mode_stat_t": "mode_state_topic", "temp_cmd_t": "temperature_command_topic",
    "temp_stat_t": "temperature_state_topic", "curr_temp_t": "current_temperature_topic", "uniq_id": "unique_id",
    "obj_id": "object_id", "dev": "device", "ids": "identifiers", "mf": "manufacturer", "mdl": "model",
    "pl_on": "payload_on", "pl_off": "payload_off", "stat_on": "state_on", "stat_off": "state_off",
    "pl_open": "payload_open", "pl_cls": "payload_close", "pl_stop": "payload_stop", "stat_open": "state_open",
    "stat_clsd": "state_closed", "stat_opening": "state_opening", "stat_closing": "state_closing",
    "stat_stopped": "state_stopped", "pl_lock": "payload_lock", "pl_unlk": "payload_unlock",
    "stat_locked": "state_locked", "stat_unlocked": "state_unlocked", "unit_of_meas": "unit_of_measurement",
    "val_tpl": "value_template", "dev_cla": "device_class", "sup_clrm": "supported_color_modes",
    "min_temp": "min_temp", "max_temp": "max_temp", "p": "platform", "t": "topic", "o": "origin",
    "min_mirs": "min_mireds", "max_mirs": "max_mireds",
}  # fmt: skip
KINDS = {k.value: k for k in Kind}


def expand(config: dict[str, Any]) -> dict[str, Any]:
    """Long keys, and `~` replaced by the base topic, as Home Assistant reads a config."""
    out = {ABBREVIATIONS.get(k, k): v for k, v in config.items()}
    base = out.get("~")
    if base:
        for key, value in out.items():
            if isinstance(value, str) and key.endswith("topic"):
                out[key] = value.replace("~", base) if value.startswith("~") or value.endswith("~") else value
    if isinstance(out.get("availability"), list):
        out["availability"] = [expand({"~": base, **a} if base else a) for a in out["availability"]]
    if isinstance(out.get("device"), dict):
        out["device"] = {ABBREVIATIONS.get(k, k): v for k, v in out["device"].items()}
    return out


class HomeAssistant(Codec):
    convention = Convention.HOME_ASSISTANT

    def __init__(self, prefix: str = "homeassistant") -> None:
        self.prefix = prefix

    def subscriptions(self) -> list[str]:
        return [f"{self.prefix}/+/+/config", f"{self.prefix}/+/+/+/config"]

    def parse_discovery(self, topic: str, payload: bytes) -> Discovery | None:
        parts = topic.split("/")
        if parts[0] != self.prefix or parts[-1] != "config" or len(parts) not in (4, 5):
            return None
        component = parts[1]
        native = "_".join(parts[2:-1])
        if component == "device":
            return self._device_config(native, payload)
        if component not in KINDS:
            return Discovery()  # a platform we do not control (camera, scene, ...): ignored
        if not payload:
            return Discovery(removed=[f"ha:{native}"])
        config = expand(_object(payload))
        return Discovery(devices=[self._device(component, native, config)])

    def _device_config(self, native: str, payload: bytes) -> Discovery:
        if not payload:
            return Discovery()  # the components' own ids are unknown here; they stay, marked unavailable
        shared = expand(_object(payload))
        components = shared.pop("cmps", None) or shared.pop("components", None)
        if not isinstance(components, dict):
            raise InvalidPayload("device config without 'cmps'")
        found = Discovery()
        for object_id, raw in components.items():
            config = {**shared, **expand({"~": shared.get("~"), **raw} if shared.get("~") else raw)}
            platform = config.get("platform")
            if not raw:
                found.removed.append(f"ha:{native}_{object_id}")
            elif platform in KINDS:
                found.devices.append(self._device(platform, f"{native}_{object_id}", config))
        return found

    def _device(self, component: str, native: str, c: dict[str, Any]) -> Device:
        kind = KINDS[component]
        unique = str(c.get("unique_id") or native)
        dev = c.get("device") or {}
        name = c.get("name") or dev.get("name") or unique
        w = wiring()
        attrs = kind_attributes(kind)
        parse = getattr(self, f"_{kind.value}")
        keep = parse(c, w)
        for avail in c.get("availability") or []:
            on, off = avail.get("payload_available", "online"), avail.get("payload_not_available", "offline")
            add_availability(w, avail.get("topic"), on, off, json_path(avail.get("value_template")))
        add_availability(w, c.get("availability_topic"), c.get("payload_available", "online"),
                         c.get("payload_not_available", "offline"))  # fmt: skip
        attributes = {n: a for n, a in attrs.items() if n in keep}
        if kind is Kind.SENSOR:
            attributes["value"] = Attribute("value", "float", writable=False, unit=c.get("unit_of_measurement"))
        if kind is Kind.CLIMATE and c.get("min_temp") is not None and "target_temperature" in attributes:
            t = attributes["target_temperature"]
            top = float(c.get("max_temp") or t.max or 35)
            attributes["target_temperature"] = Attribute(t.name, t.type, True, float(c["min_temp"]), top, unit=t.unit)
        if kind is Kind.CLIMATE and c.get("modes"):
            attributes["mode"] = Attribute("mode", "enum", options=tuple(str(m) for m in c["modes"]))
        for name_, attr in list(attributes.items()):
            if attr.writable and name_ not in w["cmd"]:
                attributes[name_] = Attribute(attr.name, attr.type, False, attr.min, attr.max, attr.options, attr.unit)
        area = str(dev.get("suggested_area") or dev.get("sa") or "")
        return Device(f"ha:{unique}", Convention.HOME_ASSISTANT, kind, str(name), attributes,
                      str(dev.get("manufacturer", "")), str(dev.get("model", "")), w, area,
                      str(c.get("device_class") or ""))  # fmt: skip

    # One parser per component: fills the wiring, returns the attributes it found.

    def _onoff(self, c: dict[str, Any]) -> dict[str, Any]:
        on, off = str(c.get("payload_on", "ON")), str(c.get("payload_off", "OFF"))
        return {"f": "onoff", "on": on, "off": off}

    def _light(self, c: dict[str, Any], w: dict[str, Any]) -> set[str]:
        if c.get("schema") == "json":
            cmd, stat = c.get("command_topic"), c.get("state_topic")
            found = {"on"}
            add_command(w, cmd, "on", {"f": "onoff", "on": "ON", "off": "OFF"}, ["state"])
            add_state(w, stat, "on", {"f": "onoff", "on": "ON", "off": "OFF"}, ["state"])
            modes = set(c.get("supported_color_modes") or [])
            if c.get("brightness") or modes - {"onoff"}:
                scale = {"f": "scaled", "hi": int(c.get("brightness_scale", 255))}
                add_command(w, cmd, "brightness", scale, ["brightness"])
                add_state(w, stat, "brightness", scale, ["brightness"])
                found.add("brightness")
            if "color_temp" in modes:
                fmt = {"f": "int"} if c.get("color_temp_kelvin") else {"f": "mired"}
                add_command(w, cmd, "color_temp", fmt, ["color_temp"])
                add_state(w, stat, "color_temp", fmt, ["color_temp"])
                found.add("color_temp")
            if modes & {"rgb", "rgbw", "rgbww"}:
                add_command(w, cmd, "rgb", {"f": "rgb_obj"}, ["color"])
                add_state(w, stat, "rgb", {"f": "rgb_obj"}, ["color"])
                found.add("rgb")
            return found
        found = self._plain(c, w, "on", "command_topic", "state_topic", self._onoff(c))
        scale = {"f": "scaled", "hi": int(c.get("brightness_scale", 255))}
        found |= self._plain(c, w, "brightness", "brightness_command_topic", "brightness_state_topic", scale)
        fmt = {"f": "int"} if c.get("color_temp_kelvin") else {"f": "mired"}
        found |= self._plain(c, w, "color_temp", "color_temp_command_topic", "color_temp_state_topic", fmt)
        found |= self._plain(c, w, "rgb", "rgb_command_topic", "rgb_state_topic", {"f": "rgb_csv"})
        return found

    def _plain(
        self, c: dict[str, Any], w: dict[str, Any], attr: str, cmd: str, stat: str, fmt: dict[str, Any]
    ) -> set[str]:
        if not (c.get(cmd) or c.get(stat)):
            return set()
        add_command(w, c.get(cmd), attr, fmt)
        add_state(w, c.get(stat), attr, fmt, json_path(c.get("value_template")) if stat == "state_topic" else None)
        return {attr}

    def _switch(self, c: dict[str, Any], w: dict[str, Any]) -> set[str]:
        fmt = self._onoff(c)
        state_fmt = {"f": "onoff", "on": str(c.get("state_on", fmt["on"])), "off": str(c.get("state_off", fmt["off"]))}
        add_command(w, c.get("command_topic"), "on", fmt)
        add_state(w, c.get("state_topic"), "on", state_fmt, json_path(c.get("value_template")))
        return {"on"}

    def _fan(self, c: dict[str, Any], w: dict[str, Any]) -> set[str]:
        found = self._switch(c, w)
        return found | self._plain(
            c, w, "percentage", "percentage_command_topic", "percentage_state_topic", {"f": "int"}
        )

    def _cover(self, c: dict[str, Any], w: dict[str, Any]) -> set[str]:
        commands = {"open": str(c.get("payload_open", "OPEN")), "close": str(c.get("payload_close", "CLOSE")),
                    "stop": str(c.get("payload_stop", "STOP"))}  # fmt: skip
        states = {str(c.get(f"state_{s}", s)): s for s in ("open", "closed", "opening", "closing", "stopped")}
        add_command(w, c.get("command_topic"), "state", {"f": "map", "map": states, "cmd": commands})
        add_state(w, c.get("state_topic"), "state", {"f": "map", "map": states})
        found = {"state"} if c.get("command_topic") or c.get("state_topic") else set()
        if c.get("set_position_topic") or c.get("position_topic"):
            add_command(w, c.get("set_position_topic"), "position", {"f": "int"})
            add_state(w, c.get("position_topic"), "position", {"f": "int"})
            found.add("position")
        assert COVER_STATE.options  # the enum above is what `state` accepts
        return found

    def _lock(self, c: dict[str, Any], w: dict[str, Any]) -> set[str]:
        command = {
            "f": "onoff",
            "on": str(c.get("payload_lock", "LOCK")),
            "off": str(c.get("payload_unlock", "UNLOCK")),
        }
        state = {
            "f": "onoff",
            "on": str(c.get("state_locked", "LOCKED")),
            "off": str(c.get("state_unlocked", "UNLOCKED")),
        }
        add_command(w, c.get("command_topic"), "locked", command)
        add_state(w, c.get("state_topic"), "locked", state)
        return {"locked"}

    def _climate(self, c: dict[str, Any], w: dict[str, Any]) -> set[str]:
        found = self._plain(c, w, "mode", "mode_command_topic", "mode_state_topic", {"f": "str"})
        found |= self._plain(c, w, "target_temperature", "temperature_command_topic", "temperature_state_topic",
                             {"f": "float"})  # fmt: skip
        if c.get("current_temperature_topic"):
            add_state(w, c["current_temperature_topic"], "current_temperature", {"f": "float"})
            found.add("current_temperature")
        return found

    def _sensor(self, c: dict[str, Any], w: dict[str, Any]) -> set[str]:
        add_state(w, c.get("state_topic"), "value", {"f": "float"}, json_path(c.get("value_template")))
        return {"value"}

    def _binary_sensor(self, c: dict[str, Any], w: dict[str, Any]) -> set[str]:
        add_state(w, c.get("state_topic"), "on", self._onoff(c), json_path(c.get("value_template")))
        return {"on"}


def _object(payload: bytes) -> dict[str, Any]:
    data = loads(payload)
    if not isinstance(data, dict):
        raise InvalidPayload("a discovery config must be a JSON object")
    return data
