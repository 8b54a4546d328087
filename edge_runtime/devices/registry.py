"""The device registry: built from discovery, named and placed by the user, with live state."""

from __future__ import annotations

import difflib
import re
import time
from dataclasses import dataclass, field
from typing import Any

from device_drivers import Device
from edge_runtime.devices.errors import DeviceUnknown
from edge_runtime.devices.store import DeviceStore


@dataclass
class DeviceRecord:
    device: Device
    user_name: str | None = None
    aliases: list[str] = field(default_factory=list)
    area: str | None = None
    floor: str | None = None
    available: bool | None = None
    state: dict[str, Any] = field(default_factory=dict)
    last_seen: float = 0.0
    offline_since: float = 0.0  # monotonic; 0: before this process started
    discovered: bool = False  # announced since this process started

    @property
    def id(self) -> str:
        return self.device.id

    @property
    def name(self) -> str:
        return self.user_name or self.device.name

    def names(self) -> list[str]:
        return [self.name, self.device.name, *self.aliases]

    def to_dict(self) -> dict[str, Any]:
        d = self.device
        return {
            "id": d.id, "name": self.name, "kind": d.kind.value, "convention": d.convention.value,
            "area": self.area, "floor": self.floor, "aliases": self.aliases, "available": self.available,
            "state": self.state, "manufacturer": d.manufacturer, "model": d.model,
            "attributes": {n: {"type": a.type, "writable": a.writable, **({"unit": a.unit} if a.unit else {}),
                               **({"min": a.min, "max": a.max} if a.min is not None else {}),
                               **({"options": list(a.options)} if a.options else {})}
                           for n, a in d.attributes.items()},
        }  # fmt: skip


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


class DeviceRegistry:
    def __init__(self, store: DeviceStore) -> None:
        self.store = store
        self.records: dict[str, DeviceRecord] = {}
        self.routes: dict[str, set[str]] = {}  # topic -> device ids
        self._dirty: set[str] = set()
        self.home_area: str | None = None  # the room the hub stands in: "the lights" are its lights
        self.areas = store.areas()
        for row in store.load():
            device = Device.from_dict(row["info"])
            rec = DeviceRecord(
                device, row["user_name"], row["aliases"], row["area"], None, row["available"], row["state"]
            )
            rec.floor = self.areas.get(rec.area or "")
            self.records[device.id] = rec

    def upsert(self, devices: list[Device], topics: dict[str, list[str]]) -> list[DeviceRecord]:
        """Discovery's devices in; returns those that are new or changed."""
        changed, rows = [], []
        for device in devices:
            rec = self.records.get(device.id)
            if rec is None:
                rec = DeviceRecord(device, area=device.area_hint or None)
                rec.floor = self.areas.get(rec.area or "")
                self.records[device.id] = rec
                changed.append(rec)
            elif rec.device.to_dict() != device.to_dict():
                self._unroute(rec.device.id)
                rec.device = device
                changed.append(rec)
            rec.discovered = True
            for topic in topics[device.id]:
                self.routes.setdefault(topic, set()).add(device.id)
            rows.append((device.id, device.to_dict(), device.area_hint or None))
        if rows:
            self.store.save_many(rows)
        return changed

    def route_known(self, topics: dict[str, list[str]]) -> None:
        for device_id, device_topics in topics.items():
            for topic in device_topics:
                self.routes.setdefault(topic, set()).add(device_id)

    def _unroute(self, device_id: str) -> None:
        for ids in self.routes.values():
            ids.discard(device_id)

    def remove(self, device_id: str) -> None:
        if self.records.pop(device_id, None) is not None:
            self._unroute(device_id)
            self.store.delete(device_id)

    def apply(self, device_id: str, values: dict[str, Any], available: bool | None) -> DeviceRecord:
        rec = self.records[device_id]
        rec.state.update(values)
        if available is not None:
            if available is False and rec.available is not False:
                rec.offline_since = time.monotonic()
            rec.available = available
        elif values and rec.available is None:
            rec.available = True
        rec.last_seen = time.time()
        self._dirty.add(device_id)
        return rec

    def flush(self) -> int:
        """Write the state cache of changed devices (batched: a flood costs one transaction)."""
        dirty, self._dirty = self._dirty, set()
        rows = [(i, self.records[i].available, self.records[i].state) for i in dirty if i in self.records]
        if rows:
            self.store.save_states(rows)
        return len(rows)

    def resolve(self, ref: str) -> DeviceRecord:
        """By id, name or alias; forgiving of case and punctuation; suggests near misses."""
        if ref in self.records:
            return self.records[ref]
        key = _key(ref)
        for rec in self.records.values():
            if key in (_key(n) for n in rec.names()):
                return rec
        names = list(dict.fromkeys(n for rec in self.records.values() for n in rec.names()))
        close = difflib.get_close_matches(ref, names, n=3, cutoff=0.6)
        raise DeviceUnknown(f"no device called '{ref}'", hint=f"did you mean: {', '.join(close)}" if close else
                            "see `companion devices list`")  # fmt: skip

    def edit(self, ref: str, *, name: str | None = None, aliases: list[str] | None = None,
             area: str | None = None) -> DeviceRecord:  # fmt: skip
        rec = self.resolve(ref)
        if name is not None:
            rec.user_name = name or None
        if aliases is not None:
            rec.aliases = [a for a in dict.fromkeys(a.strip() for a in aliases) if a]
        if area is not None:
            rec.area = area or None
            rec.floor = self.areas.get(area)
        self.store.save_user(rec.id, user_name=rec.user_name, aliases=rec.aliases, area=rec.area)
        return rec

    def set_floor(self, area: str, floor: str | None) -> None:
        self.store.save_area(area, floor)
        self.areas[area] = floor
        for rec in self.records.values():
            if rec.area == area:
                rec.floor = floor

    def listing(self) -> list[DeviceRecord]:
        return sorted(self.records.values(), key=lambda r: (r.area or "~", r.name.lower()))
