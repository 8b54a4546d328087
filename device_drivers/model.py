"""The one shape every convention's devices are read into: kinds, attributes, values.

Home Assistant, Zigbee2MQTT and Homie each describe devices their own way; the hub sees
only `Device` and `Attribute`. Values are normalised too: brightness and positions are
percentages, colour temperature is in kelvin, whatever the convention sends on the wire.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from common.errors import CompanionError


class DriverError(CompanionError):
    code = "DEVICE_ERROR"


class InvalidPayload(DriverError):
    code = "DEVICE_BAD_PAYLOAD"


class InvalidCommand(DriverError):
    code = "DEVICE_INVALID_COMMAND"


class OutOfRange(InvalidCommand):
    """A value the device cannot take: it carries the limit, so a reply can say "goes up to 4000 K"."""

    code = "DEVICE_OUT_OF_RANGE"

    def __init__(self, message: str, *, attribute: str, value: float, limit: float, above: bool) -> None:
        super().__init__(message, hint=f"{'at most' if above else 'at least'} {limit:g}")
        self.attribute, self.value, self.limit, self.above = attribute, value, limit, above


class Kind(StrEnum):
    LIGHT = "light"
    SWITCH = "switch"
    FAN = "fan"
    COVER = "cover"
    LOCK = "lock"
    CLIMATE = "climate"
    SENSOR = "sensor"
    BINARY_SENSOR = "binary_sensor"
    VALVE = "valve"
    VACUUM = "vacuum"
    SCENE = "scene"
    BUTTON = "button"
    SELECT = "select"


# Kinds with no state to echo: a press counts as done once the broker acknowledges it, as in Home Assistant.
STATELESS_KINDS = frozenset({Kind.SCENE, Kind.BUTTON})
# Kinds read from Home Assistant discovery only: Zigbee2MQTT and Homie have no such device types here.
HA_ONLY_KINDS = frozenset({Kind.VALVE, Kind.VACUUM, Kind.SCENE, Kind.BUTTON, Kind.SELECT})


class Convention(StrEnum):
    HOME_ASSISTANT = "ha"
    ZIGBEE2MQTT = "z2m"
    HOMIE = "homie"


@dataclass(frozen=True)
class Attribute:
    """One thing about a device that can be read, and maybe set."""

    name: str
    type: str  # bool | int | float | enum | rgb | str
    writable: bool = True
    min: float | None = None
    max: float | None = None
    options: tuple[str, ...] = ()
    unit: str | None = None
    step: float | None = None  # the device's precision in our units: what one step on its wire is worth

    def validate(self, value: Any) -> Any:
        """The value coerced to this attribute's type, or InvalidCommand saying why not."""
        if not self.writable:
            raise InvalidCommand(f"'{self.name}' is read-only")
        try:
            out = _coerce(self, value)
        except (TypeError, ValueError, OverflowError, RecursionError) as err:  # inf, NaN and 10**400 too
            raise InvalidCommand(f"'{self.name}' needs a finite {self.type} value, got {_brief(value)}") from err
        if self.type in ("int", "float"):
            return self._in_range(out)
        return out

    def _in_range(self, out: float) -> float:
        """Within one step of a bound is the bound (2200 K on a bulb that goes down to 2203 K); beyond is refused."""
        slack = self.step or 0
        for limit, above in ((self.min, False), (self.max, True)):
            if limit is None or not (out > limit if above else out < limit):
                continue
            if abs(out - limit) <= slack:
                if self.type == "float":
                    return float(limit)
                return math.floor(limit) if above else math.ceil(limit)
            low = "-inf" if self.min is None else f"{self.min:g}"
            high = "inf" if self.max is None else f"{self.max:g}"
            raise OutOfRange(
                f"'{self.name}' must be between {low} and {high}, got {out}",
                attribute=self.name,
                value=out,
                limit=limit,
                above=above,
            )
        return out


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _finite(value: Any) -> float:
    """A number that is one: inf and NaN (which pass every range check) are refused."""
    if isinstance(value, str):
        value = value.strip()
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _whole(value: Any) -> int:
    number = _finite(value)
    if number != int(number):
        raise ValueError(value)
    return int(number)


def _coerce(attr: Attribute, value: Any) -> Any:
    if attr.type == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("on", "true", "1", "yes", "locked", "lock"):
            return True
        if text in ("off", "false", "0", "no", "unlocked", "unlock"):
            return False
        raise ValueError(value)
    if attr.type == "int":
        return _whole(value)
    if attr.type == "float":
        return _finite(value)
    if attr.type == "enum":  # any case; the option's own spelling goes on ("Eco" for a select)
        text = str(value).strip().lower()
        found = next((o for o in attr.options if o.lower() == text), None)
        if found is None:
            raise ValueError(value)
        return found
    if attr.type == "rgb":
        parts = [_whole(p) for p in (value if isinstance(value, list | tuple) else str(value).split(","))]
        if len(parts) != 3 or not all(0 <= p <= 255 for p in parts):
            raise ValueError(value)
        return parts
    return str(value)


# The attributes each kind exposes, in our units.
ON = Attribute("on", "bool")
BRIGHTNESS = Attribute("brightness", "int", min=0, max=100, unit="%")
COLOR_TEMP = Attribute("color_temp", "int", min=1500, max=9000, unit="K")
RGB = Attribute("rgb", "rgb")
PERCENTAGE = Attribute("percentage", "int", min=0, max=100, unit="%")
POSITION = Attribute("position", "int", min=0, max=100, unit="%")
COVER_STATE = Attribute("state", "enum", options=("open", "close", "stop", "opening", "closing", "closed", "stopped"))
LOCKED = Attribute("locked", "bool")
MODE = Attribute("mode", "enum", options=("off", "heat", "cool", "auto", "dry", "fan_only", "heat_cool"))
TARGET_TEMP = Attribute("target_temperature", "float", min=5, max=35, unit="°C")
CURRENT_TEMP = Attribute("current_temperature", "float", writable=False, unit="°C")
COVER_COMMANDS = ("open", "close", "stop")
VALVE_STATE = COVER_STATE
VACUUM_COMMANDS = ("start", "stop", "pause", "return_to_base", "locate", "clean_spot")
VACUUM_STATES = ("cleaning", "docked", "idle", "paused", "returning", "error")
VACUUM_STATE = Attribute("state", "enum", options=(*VACUUM_COMMANDS, *VACUUM_STATES))
PRESS = Attribute("press", "bool")  # scenes and buttons: only True means anything (activate, press)
OPTION = Attribute("option", "enum")


@dataclass
class Device:
    """A device as the hub knows it, whatever convention announced it."""

    id: str  # stable across restarts: "<convention>:<native id>"
    convention: Convention
    kind: Kind
    name: str
    attributes: dict[str, Attribute]
    manufacturer: str = ""
    model: str = ""
    # Wire details, private to the convention that parses and encodes them.
    wiring: dict[str, Any] = field(default_factory=dict)
    area_hint: str = ""  # the room the device itself suggests (Home Assistant's suggested_area)
    device_class: str = ""  # what it is within its kind: "garage", "gate", "door"... (Home Assistant's)
    # The physical device this entity belongs to (HA's `device` block, a Zigbee2MQTT device, a Homie device).
    group: str = ""
    group_name: str = ""
    entity_category: str = ""  # "diagnostic" or "config": readable, never a target for voice or the main list

    @property
    def hidden(self) -> bool:
        return self.entity_category in ("diagnostic", "config")

    def writable(self) -> list[str]:
        return [a.name for a in self.attributes.values() if a.writable]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "convention": self.convention.value,
            "kind": self.kind.value,
            "name": self.name,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "attributes": {
                n: {k: v for k, v in a.__dict__.items() if v not in (None, (), True) or k == "writable"}
                for n, a in self.attributes.items()
            },
            "wiring": self.wiring,
            "area_hint": self.area_hint,
            "device_class": self.device_class,
            "group": self.group,
            "group_name": self.group_name,
            "entity_category": self.entity_category,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Device:
        attrs = {}
        for name, spec in data["attributes"].items():
            spec = dict(spec)
            spec.setdefault("writable", True)
            spec["options"] = tuple(spec.get("options", ()))
            attrs[name] = Attribute(**spec)
        return cls(
            id=data["id"],
            convention=Convention(data["convention"]),
            kind=Kind(data["kind"]),
            name=data["name"],
            attributes=attrs,
            manufacturer=data.get("manufacturer", ""),
            model=data.get("model", ""),
            wiring=data.get("wiring", {}),
            area_hint=data.get("area_hint", ""),
            device_class=data.get("device_class", ""),
            group=data.get("group", ""),
            group_name=data.get("group_name", ""),
            entity_category=data.get("entity_category", ""),
        )


def kind_attributes(kind: Kind) -> dict[str, Attribute]:
    """The full attribute set of a kind (a device may expose fewer)."""
    table = {
        Kind.LIGHT: (ON, BRIGHTNESS, COLOR_TEMP, RGB),
        Kind.SWITCH: (ON,),
        Kind.FAN: (ON, PERCENTAGE),
        Kind.COVER: (COVER_STATE, POSITION),
        Kind.LOCK: (LOCKED,),
        Kind.CLIMATE: (MODE, TARGET_TEMP, CURRENT_TEMP),
        Kind.SENSOR: (Attribute("value", "float", writable=False),),
        Kind.BINARY_SENSOR: (Attribute("on", "bool", writable=False),),
        Kind.VALVE: (VALVE_STATE, POSITION),
        Kind.VACUUM: (VACUUM_STATE,),
        Kind.SCENE: (PRESS,),
        Kind.BUTTON: (PRESS,),
        Kind.SELECT: (OPTION,),
    }
    return {a.name: a for a in table[kind]}


def mired_to_kelvin(mired: float) -> int:
    return round(1_000_000 / mired) if mired else 0


def kelvin_to_mired(kelvin: float) -> int:
    return round(1_000_000 / kelvin) if kelvin else 0
