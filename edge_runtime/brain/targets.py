"""Which devices a sentence means, the way Home Assistant's intent helpers decide it
(`async_match_targets`): filter by domain, state, name or alias, device class, floor and area, in
that order, and say why when nothing is left. Two devices with the same name are never picked
between silently: the hub's own room (or floor) may settle it, or the user is asked which.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from device_drivers import Kind
from edge_runtime.brain.spoken import SOCKET_WORDS
from edge_runtime.brain.vocab import BINARY_STATES, STATE_CLASSES
from edge_runtime.devices.classes import safety_class
from edge_runtime.devices.registry import DeviceRecord


class MatchFailed(StrEnum):
    """Why no device matched (Home Assistant's MatchFailedReason)."""

    NAME = "name"
    DOMAIN = "domain"
    DEVICE_CLASS = "device_class"
    AREA = "area"
    FLOOR = "floor"
    INVALID_AREA = "invalid_area"
    INVALID_FLOOR = "invalid_floor"
    DUPLICATE_NAME = "duplicate_name"
    MULTIPLE_TARGETS = "multiple_targets"


@dataclass(frozen=True)
class Constraints:
    name: str | None = None
    area: str | None = None
    floor: str | None = None
    domains: Collection[str] = ()
    device_classes: Collection[str] = ()
    single_target: bool = False


@dataclass(frozen=True)
class Preferences:
    """Where the request comes from: the hub's room and floor break ties between same-named devices."""

    area: str | None = None
    floor: str | None = None


@dataclass
class TargetMatch:
    ok: bool
    reason: MatchFailed | None = None
    records: list[DeviceRecord] = field(default_factory=list)
    duplicates: list[DeviceRecord] = field(default_factory=list)  # same name, not settled: ask which


def norm(name: str | None) -> str:
    return " ".join((name or "").casefold().split())


# A cover announced without a device class is named for what it is ("Bedroom Blinds"): Home Assistant's
# cover classes, by the words of its `cover_classes` list, read from the cover's own name. Longest first,
# so that a "Garage Door" is a garage, not a door.
_COVER_WORDS = (
    ("garage door", "garage"),
    ("garage", "garage"),
    ("awning", "awning"),
    ("blind", "blind"),
    ("curtain", "curtain"),
    ("drape", "curtain"),
    ("shade", "shade"),
    ("shutter", "shutter"),
    ("gate", "gate"),
    ("door", "door"),
    ("window", "window"),
)


def device_class_of(rec: DeviceRecord) -> str:
    """The device's class; for a cover without one, the class its name says ("Kitchen Blinds": blind);
    a switch called an alarm ("Alarm System") is the alarm, but not a socket ("Alarm Plug" may run a clock)."""
    if not rec.device.device_class and safety_class(rec.device, rec.names()) == "alarm" and not _socket(rec):
        return "alarm"
    if rec.device.device_class or rec.device.kind is not Kind.COVER:
        return rec.device.device_class or ""
    words = f" {norm(rec.name)} "
    return next((cls for word, cls in _COVER_WORDS if f" {word} " in words or f" {word}s " in words), "")


# The state words each kind answers to, besides a binary sensor's own (BINARY_STATES, by its class).
_KIND_STATES: dict[Kind, frozenset[str]] = {
    Kind.LOCK: frozenset({"locked", "unlocked", "jammed", "locking", "unlocking"}),
    Kind.COVER: frozenset({"open", "closed", "opening", "closing"}),
    Kind.VALVE: frozenset({"open", "closed", "opening", "closing"}),
}


def settled_by_state(duplicates: list[DeviceRecord], wanted: str) -> DeviceRecord | None:
    """Of same-named devices, the one a state word belongs to, as Home Assistant's sentences pick the
    class by its states: "is the pet door locked?" is the lock sensor, not the door sensor of the same
    name. None when the word fits more than one (or none): then the user is asked which."""
    word = norm(wanted)
    fitting = [r for r in duplicates if _says(r, word)]
    return fitting[0] if len(fitting) == 1 else None


def _says(rec: DeviceRecord, word: str) -> bool:
    if rec.device.kind is Kind.BINARY_SENSOR:
        cls = rec.device.device_class or ""
        return word in BINARY_STATES.get(cls, ()) or cls in STATE_CLASSES.get(word, ())
    return word in _KIND_STATES.get(rec.device.kind, frozenset())


def _socket(rec: DeviceRecord) -> bool:
    return any((norm(n).split() or [""])[-1] in SOCKET_WORDS for n in rec.names())


def _by_name(name: str, candidates: Iterable[DeviceRecord]) -> list[DeviceRecord]:
    wanted = norm(name)
    return [r for r in candidates if wanted in {norm(n) for n in r.names()} or r.id == name]


def match_targets(
    records: Iterable[DeviceRecord], constraints: Constraints, preferences: Preferences | None = None
) -> TargetMatch:
    c, prefs = constraints, preferences or Preferences()
    candidates = list(records)
    if c.domains:
        candidates = [r for r in candidates if r.device.kind.value in c.domains]
        if not candidates:
            return TargetMatch(False, MatchFailed.DOMAIN)
    if c.name:
        candidates = _by_name(c.name, candidates)
        if not candidates:
            return TargetMatch(False, MatchFailed.NAME)
    if c.device_classes:
        candidates = [r for r in candidates if device_class_of(r) in c.device_classes]
        if not candidates:
            return TargetMatch(False, MatchFailed.DEVICE_CLASS)
    every = [r for r in records] if (c.floor or c.area) else []
    if c.floor:
        if not any(norm(r.floor) == norm(c.floor) for r in every):
            return TargetMatch(False, MatchFailed.INVALID_FLOOR)
        candidates = [r for r in candidates if norm(r.floor) == norm(c.floor)]
        if not candidates:
            return TargetMatch(False, MatchFailed.FLOOR)
    if c.area:
        if not any(norm(r.area) == norm(c.area) for r in every):
            return TargetMatch(False, MatchFailed.INVALID_AREA)
        candidates = [r for r in candidates if norm(r.area) == norm(c.area)]
        if not candidates:
            return TargetMatch(False, MatchFailed.AREA)
    if c.name and len(candidates) > 1:
        settled = _prefer(candidates, prefs)
        if len(settled) != 1:
            return TargetMatch(False, MatchFailed.DUPLICATE_NAME, duplicates=candidates)
        candidates = settled
    if c.single_target and len(candidates) > 1:
        settled = _prefer(candidates, prefs)
        if len(settled) != 1:
            return TargetMatch(False, MatchFailed.MULTIPLE_TARGETS, duplicates=candidates)
        candidates = settled
    return TargetMatch(True, records=candidates)


def _prefer(candidates: list[DeviceRecord], prefs: Preferences) -> list[DeviceRecord]:
    """The ones on the hub's floor, then in its room, as Home Assistant narrows duplicates."""
    if prefs.floor:
        on_floor = [r for r in candidates if norm(r.floor) == norm(prefs.floor)]
        if len(on_floor) == 1:
            return on_floor
        candidates = on_floor or candidates
    if prefs.area:
        here = [r for r in candidates if norm(r.area) == norm(prefs.area)]
        if here:
            return here
    return candidates


HOUSE_THERMOSTATS = frozenset({"thermostat", "heating", "central heating", "house thermostat", "main thermostat"})


def house_thermostat(found: TargetMatch) -> TargetMatch:
    """ "set the heating to 21" where the home has several: the one named for the whole house ("Thermostat"),
    not a room's ("Office Heater"); otherwise the user is asked which."""
    if found.ok or found.reason is not MatchFailed.MULTIPLE_TARGETS:
        return found
    house = [r for r in found.duplicates if norm(r.name) in HOUSE_THERMOSTATS]
    return TargetMatch(True, records=house) if len(house) == 1 else found
