"""How each convention's real devices announce themselves, built for a virtual device."""

from __future__ import annotations

import json
from typing import Any

from device_drivers.model import Kind
from device_drivers.simulator.state import VirtualDevice


def ha_component(dev: VirtualDevice, avail_topic: str) -> dict[str, Any]:
    """A Home Assistant component config in abbreviated form, as firmware sends it."""
    base = f"sim/{dev.id}"
    c: dict[str, Any] = {
        "~": base,
        "name": dev.name,
        "uniq_id": dev.id,
        "avty_t": avail_topic,
        "dev": {"ids": [dev.id], "name": dev.name, "mf": "Companion", "mdl": f"virtual {dev.kind}", "sa": dev.area},
    }
    if dev.options.get("device_class"):
        c["dev_cla"] = dev.options["device_class"]
    k = dev.kind
    if k is Kind.LIGHT and dev.options.get("schema") == "json":
        modes = [m for m in ("color_temp", "rgb") if dev.has(m)] or (
            ["brightness"] if dev.has("brightness") else ["onoff"]
        )
        c.update(schema="json", cmd_t="~/set", stat_t="~/state", brightness=dev.has("brightness"), sup_clrm=modes)
    elif k is Kind.LIGHT:
        c.update(cmd_t="~/set", stat_t="~/state")
        if dev.has("brightness"):
            c.update(bri_cmd_t="~/brightness/set", bri_stat_t="~/brightness")
        if dev.has("color_temp"):
            c.update(clr_temp_cmd_t="~/color_temp/set", clr_temp_stat_t="~/color_temp")
        if dev.has("rgb"):
            c.update(rgb_cmd_t="~/rgb/set", rgb_stat_t="~/rgb")
    elif k in (Kind.SWITCH, Kind.FAN):
        c.update(cmd_t="~/set", stat_t="~/state")
        if k is Kind.FAN and dev.has("percentage"):
            c.update(pct_cmd_t="~/percentage/set", pct_stat_t="~/percentage")
    elif k is Kind.COVER:
        c.update(cmd_t="~/set", stat_t="~/state")
        if dev.has("position"):
            c.update(pos_t="~/position", set_pos_t="~/position/set")
    elif k is Kind.LOCK:
        c.update(cmd_t="~/set", stat_t="~/state")
    elif k is Kind.CLIMATE:
        c.update(
            mode_cmd_t="~/mode/set",
            mode_stat_t="~/mode",
            temp_cmd_t="~/target/set",
            temp_stat_t="~/target",
            modes=["off", "heat", "cool", "auto"],
            min_temp=5,
            max_temp=35,
        )
        if dev.has("current_temperature"):
            c.update(curr_temp_t="~/temperature")
    elif k is Kind.SENSOR:
        c.update(stat_t="~/state", val_tpl="{{ value_json.value }}", unit_of_meas=dev.options.get("unit", "°C"))
    elif k is Kind.BINARY_SENSOR:
        c.update(stat_t="~/state")
    elif k in (Kind.VALVE, Kind.VACUUM, Kind.SELECT):
        c.update(cmd_t="~/set", stat_t="~/state")
        if k is Kind.SELECT:
            c["ops"] = list(dev.options.get("choices") or ["Eco", "Comfort", "Boost"])
    elif k in (Kind.SCENE, Kind.BUTTON):
        c.update(cmd_t="~/set")
    return c


def ha_messages(dev: VirtualDevice, prefix: str, avail_topic: str) -> list[tuple[str, bytes]]:
    config = ha_component(dev, avail_topic)
    if dev.options.get("discovery") == "device":  # one device-level config with `cmps`
        shared = {k: config.pop(k) for k in ("~", "dev", "avty_t")}
        shared["o"] = {"name": "companion-sim"}
        shared["cmps"] = {"main": {"p": dev.kind.value, **config, "uniq_id": f"{dev.id}_main"}}
        return [(f"{prefix}/device/{dev.id}/config", json.dumps(shared).encode())]
    return [(f"{prefix}/{dev.kind.value}/{dev.id}/config", json.dumps(config).encode())]


def ha_device_id(dev: VirtualDevice) -> str:
    return f"ha:{dev.id}_main" if dev.options.get("discovery") == "device" else f"ha:{dev.id}"


def z2m_entry(dev: VirtualDevice) -> dict[str, Any]:
    """One `bridge/devices` entry with the `exposes` a real device of this kind has."""
    rw, ro = 7, 5

    def binary(name: str, on: Any = "ON", off: Any = "OFF", access: int = rw) -> dict[str, Any]:
        return {"type": "binary", "name": name, "property": name, "value_on": on, "value_off": off, "access": access}

    def numeric(name: str, lo: float, hi: float, access: int = rw, unit: str | None = None) -> dict[str, Any]:
        out = {"type": "numeric", "name": name, "property": name, "value_min": lo, "value_max": hi, "access": access}
        return {**out, "unit": unit} if unit else out

    k = dev.kind
    exposes: list[dict[str, Any]]
    if k is Kind.LIGHT:
        features = [binary("state")]
        if dev.has("brightness"):
            features.append(numeric("brightness", 0, 254))
        if dev.has("color_temp"):
            features.append(numeric("color_temp", 150, 500, unit="mired"))
        if dev.has("rgb"):
            features.append(
                {"type": "composite", "name": "color_xy", "property": "color", "access": rw, "features": []}
            )
        exposes = [{"type": "light", "features": features}]
    elif k is Kind.SWITCH:
        exposes = [{"type": "switch", "features": [binary("state")]}]
    elif k is Kind.FAN:
        features = [binary("state")] + ([numeric("percentage", 0, 100)] if dev.has("percentage") else [])
        exposes = [{"type": "fan", "features": features}]
    elif k is Kind.COVER:
        state = {
            "type": "enum",
            "name": "state",
            "property": "state",
            "values": ["OPEN", "CLOSE", "STOP"],
            "access": rw,
        }
        exposes = [{"type": "cover", "features": [state, numeric("position", 0, 100)]}]
    elif k is Kind.LOCK:
        exposes = [{"type": "lock", "features": [binary("state", "LOCK", "UNLOCK")]}]
    elif k is Kind.CLIMATE:
        modes = ["off", "heat", "cool", "auto"]
        mode = {"type": "enum", "name": "system_mode", "property": "system_mode", "values": modes, "access": rw}
        exposes = [
            {
                "type": "climate",
                "features": [
                    mode,
                    numeric("occupied_heating_setpoint", 5, 35, unit="°C"),
                    numeric("local_temperature", -20, 50, ro, "°C"),
                ],
            }
        ]
    elif k is Kind.SENSOR:
        exposes = [numeric("temperature", -20, 50, ro, "°C")]
    else:
        exposes = [binary("occupancy", True, False, ro)]
    return {
        "ieee_address": dev.id,
        "friendly_name": dev.name,
        "type": "EndDevice",
        "supported": True,
        "definition": {
            "vendor": "Companion",
            "model": f"SIM-{k.value}",
            "description": f"virtual {k.value}",
            "exposes": exposes,
        },
    }


def homie_description(dev: VirtualDevice) -> dict[str, Any]:
    k = dev.kind
    props: dict[str, dict[str, Any]] = {}

    def prop(pid: str, datatype: str, settable: bool = True, fmt: str | None = None, unit: str | None = None) -> None:
        spec: dict[str, Any] = {"datatype": datatype, "settable": settable, "retained": True}
        if fmt:
            spec["format"] = fmt
        if unit:
            spec["unit"] = unit
        props[pid] = spec

    if k in (Kind.LIGHT, Kind.SWITCH, Kind.FAN):
        prop("on", "boolean")
    if k is Kind.LIGHT and dev.has("brightness"):
        prop("brightness", "integer", fmt="0:100", unit="%")
    if k is Kind.LIGHT and dev.has("color_temp"):
        prop("color-temperature", "integer", fmt="1500:9000", unit="K")
    if k is Kind.LIGHT and dev.has("rgb"):
        prop("color", "color", fmt="rgb")
    if k is Kind.FAN and dev.has("percentage"):
        prop("speed", "integer", fmt="0:100", unit="%")
    if k is Kind.COVER:
        prop("action", "enum", fmt="open,close,stop,opening,closing,open,closed,stopped")
        prop("position", "integer", fmt="0:100", unit="%")
    if k is Kind.LOCK:
        prop("locked", "boolean")
    if k is Kind.CLIMATE:
        prop("mode", "enum", fmt="off,heat,cool,auto")
        prop("target-temperature", "float", fmt="5:35", unit="°C")
        prop("temperature", "float", settable=False, unit="°C")
    if k is Kind.SENSOR:
        prop("temperature", "float", settable=False, unit="°C")
    if k is Kind.BINARY_SENSOR:
        prop("state", "boolean", settable=False)
    return {
        "homie": "5.0",
        "version": 1,
        "name": dev.name,
        "nodes": {"main": {"name": dev.name, "type": k.value, "properties": props}},
    }
