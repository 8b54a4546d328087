"""One device as the hub holds it: what discovery said, what the user named it, where it is, its state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from device_drivers import Device


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
    links: dict[str, bool] = field(default_factory=dict)  # availability topic -> what it said last
    problem: dict[str, Any] | None = None  # the last message from it the hub could not read

    @property
    def hidden(self) -> bool:
        """Diagnostic and config entities: readable, never a target for voice or the app's main list."""
        return self.device.hidden

    @property
    def id(self) -> str:
        return self.device.id

    @property
    def name(self) -> str:
        return self.user_name or self.device.name

    def group_name_key(self) -> str:
        return (self.device.group_name or self.name).lower()

    def names(self) -> list[str]:
        return [self.name, self.device.name, *self.aliases]

    def to_dict(self) -> dict[str, Any]:
        d = self.device
        return {
            "id": d.id,
            "name": self.name,
            "kind": d.kind.value,
            "convention": d.convention.value,
            "area": self.area,
            "floor": self.floor,
            "aliases": self.aliases,
            "available": self.available,
            "state": self.state,
            "manufacturer": d.manufacturer,
            "model": d.model,
            "device_class": d.device_class,
            "group": d.group,
            "group_name": d.group_name,
            "entity_category": d.entity_category,
            "problem": self.problem,
            "attributes": {
                n: {
                    "type": a.type,
                    "writable": a.writable,
                    **({"unit": a.unit} if a.unit else {}),
                    **({"min": a.min, "max": a.max} if a.min is not None else {}),
                    **({"options": list(a.options)} if a.options else {}),
                }
                for n, a in d.attributes.items()
            },
        }
