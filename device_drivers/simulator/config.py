"""The simulator's devices.toml: devices one by one, or generated in bulk."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from device_drivers.model import HA_ONLY_KINDS, DriverError, Kind
from device_drivers.simulator.state import Faults, VirtualDevice

CONVENTIONS = ("ha", "z2m", "homie")
OPTIONS = ("schema", "discovery", "node", "unit", "device_class", "choices")


def device_from(spec: dict[str, Any]) -> VirtualDevice:
    try:
        kind = Kind(spec["kind"])
        convention = spec.get("convention", "ha")
        if convention not in CONVENTIONS:
            raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}")
        if kind in HA_ONLY_KINDS and convention != "ha":
            raise ValueError(f"a {kind} is announced by Home Assistant discovery only (convention 'ha')")
        return VirtualDevice(
            id=str(spec["id"]),
            name=str(spec.get("name") or spec["id"]),
            kind=kind,
            convention=convention,
            area=str(spec.get("area", "")),
            features=tuple(spec.get("features", ())),
            faults=Faults(float(spec.get("latency_ms", 0)), float(spec.get("drop_rate", 0)), bool(spec.get("offline"))),
            options={k: spec[k] for k in OPTIONS if k in spec},
        )
    except (KeyError, ValueError) as err:
        raise DriverError(f"bad device in simulator config: {spec!r}: {err}", code="SIM_BAD_CONFIG") from err


def load(path: Path) -> tuple[str, list[VirtualDevice]]:
    """(broker URL, devices) from a devices.toml."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise DriverError(f"cannot read {path}: {err}", code="SIM_BAD_CONFIG") from err
    devices = [device_from(spec) for spec in data.get("devices", [])]
    for gen in data.get("generate", []):
        count = int(gen.get("count", 1))
        prefix = gen.get("prefix", f"{gen.get('convention', 'ha')}_{gen['kind']}")
        for n in range(count):
            devices.append(device_from({**gen, "id": f"{prefix}_{n:04d}", "name": f"{prefix} {n}"}))
    ids = [d.id for d in devices]
    if len(ids) != len(set(ids)):
        raise DriverError("device ids in the simulator config must be unique", code="SIM_BAD_CONFIG")
    return str(data.get("broker", {}).get("url", "mqtt://127.0.0.1:1883")), devices
