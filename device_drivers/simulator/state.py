"""A virtual device's own state and behaviour, in our units; conventions put it on the wire."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from device_drivers.model import Kind

DEFAULT_FEATURES = {
    Kind.LIGHT: ("brightness", "color_temp", "rgb"),
    Kind.FAN: ("percentage",),
    Kind.COVER: ("position",),
    Kind.CLIMATE: ("current_temperature",),
}


@dataclass
class Faults:
    """What can go wrong: slow echoes, lost commands, a device that is gone."""

    latency_ms: float = 0.0
    drop_rate: float = 0.0  # share of commands silently ignored
    offline: bool = False

    def drops(self, rng: random.Random) -> bool:
        return self.offline or (self.drop_rate > 0 and rng.random() < self.drop_rate)


@dataclass
class VirtualDevice:
    id: str  # native id: a unique_id, an IEEE address, a Homie device id
    name: str
    kind: Kind
    convention: str
    area: str = ""
    features: tuple[str, ...] = ()
    faults: Faults = field(default_factory=Faults)
    options: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)  # every command, for tests

    def __post_init__(self) -> None:
        if not self.features:
            self.features = DEFAULT_FEATURES.get(self.kind, ())
        if not self.state:
            self.state = initial_state(self.kind, self.features)
        if self.kind is Kind.SELECT and "option" not in self.state:
            self.state["option"] = (self.options.get("choices") or ["Eco"])[0]

    def has(self, feature: str) -> bool:
        return feature in self.features

    def apply(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Obey a command the way real devices do, and return the new state."""
        self.received.append(dict(changes))
        for key, value in changes.items():
            if self.kind is Kind.COVER and key == "state":
                if value == "open":
                    self.state.update(state="open", position=100)
                elif value == "close":
                    self.state.update(state="closed", position=0)
                else:
                    self.state["state"] = "stopped"
            elif self.kind is Kind.VALVE and key == "state":  # reports the travel, then where it ended
                self.state["state"] = {"open": "opening", "close": "closing"}.get(value, "stopped")
            elif self.kind is Kind.VACUUM and key == "state":
                self.state["state"] = VACUUM_REPORTS.get(value, self.state["state"])
            elif self.kind in (Kind.SCENE, Kind.BUTTON):
                continue  # nothing to report: the press is the whole of it
            elif self.kind is Kind.COVER and key == "position":
                self.state.update(position=int(value), state="closed" if int(value) == 0 else "open")
            elif key in self.state:
                self.state[key] = value
        if self.kind is Kind.LIGHT and changes.get("brightness") == 0:
            self.state["on"] = False
        return self.state

    def settle(self) -> bool:
        """A valve that was opening is open, a vacuum that was returning is docked: True if it moved on."""
        word = self.state.get("state")
        if self.kind in (Kind.VALVE, Kind.VACUUM) and word in SETTLED:
            self.state["state"] = SETTLED[word]
            return True
        return False


# What a vacuum reports when told each command (HA's vacuum states), and where a travel ends.
VACUUM_REPORTS = {
    "start": "cleaning",
    "clean_spot": "cleaning",
    "stop": "idle",
    "pause": "paused",
    "return_to_base": "returning",
}
SETTLED = {"opening": "open", "closing": "closed", "returning": "docked"}


def initial_state(kind: Kind, features: tuple[str, ...]) -> dict[str, Any]:
    defaults: dict[Kind, dict[str, Any]] = {
        Kind.LIGHT: {"on": False},
        Kind.SWITCH: {"on": False},
        Kind.FAN: {"on": False},
        Kind.COVER: {"state": "closed"},
        Kind.LOCK: {"locked": True},
        Kind.CLIMATE: {"mode": "heat", "target_temperature": 20.0},
        Kind.SENSOR: {"value": 21.5},
        Kind.BINARY_SENSOR: {"on": False},
        Kind.VALVE: {"state": "open"},
        Kind.VACUUM: {"state": "docked"},
        Kind.SCENE: {},
        Kind.BUTTON: {},
        Kind.SELECT: {},
    }
    state = dict(defaults[kind])
    extras = {
        "brightness": 100,
        "color_temp": 3000,
        "rgb": [255, 255, 255],
        "percentage": 50,
        "position": 0,
        "current_temperature": 19.5,
    }
    state.update({f: extras[f] for f in features if f in extras})
    return state
