"""Local intents: Home Assistant's sentence templates (hassil + home-assistant-intents), matched
against the live device registry and turned into device actions. Deterministic, a few ms."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from device_drivers import Kind
from edge_runtime.brain.fuzzy import repair
from edge_runtime.brain.text import prepare
from edge_runtime.devices.registry import DeviceRecord, DeviceRegistry

TEMPLATES = Path(__file__).parent
# What the hub can do itself; any other Home Assistant intent (weather, shopping list...) is not local.
DEVICE_INTENTS = {"HassTurnOn", "HassTurnOff", "HassLightSet", "HassClimateSetTemperature", "HassSetPosition",
                  "HassGetState", "HassClimateGetTemperature"}  # fmt: skip
BUILTIN_INTENTS = {"HassGetCurrentTime", "HassGetCurrentDate", "HassStartTimer", "HassCancelTimer",
                   "HassCancelAllTimers", "HassTimerStatus", "HassNevermind", "HassPauseTimer",
                   "HassUnpauseTimer"}  # fmt: skip
COLOURS = {
    "red": [255, 0, 0], "green": [0, 255, 0], "blue": [0, 0, 255], "white": [255, 255, 255],
    "yellow": [255, 255, 0], "orange": [255, 165, 0], "purple": [128, 0, 128], "pink": [255, 192, 203],
}  # fmt: skip
# Home Assistant calls locking and opening "turning on".
TEMPERATURE_KINDS = (Kind.CLIMATE, Kind.SENSOR)
ON_VALUES = {Kind.LOCK: ("locked", True), Kind.COVER: ("state", "open")}
OFF_VALUES = {Kind.LOCK: ("locked", False), Kind.COVER: ("state", "close")}


@dataclass
class Action:
    device_id: str
    name: str
    values: dict[str, Any]
    kind: str = ""


@dataclass
class IntentMatch:
    intent: str
    slots: dict[str, Any]
    actions: list[Action] = field(default_factory=list)
    query: list[DeviceRecord] = field(default_factory=list)  # for questions about state
    ms: float = 0.0
    confidence: float = 1.0  # 1: the words matched a template exactly; less: names repaired by fuzzy match
    heard_as: str = ""  # the text that matched, after number and name repair

    @property
    def supported(self) -> bool:
        return self.intent in DEVICE_INTENTS or self.intent in BUILTIN_INTENTS


class IntentEngine:
    """Built once; the slot lists come from the registry at every call, so new devices just work."""

    def __init__(self, registry: DeviceRegistry, language: str = "en") -> None:
        from hassil import Intents
        from hassil.util import merge_dict
        from home_assistant_intents import get_intents

        data = get_intents(language)
        if data is None:
            raise ValueError(f"no intent templates for language {language!r}")
        ours = TEMPLATES / f"templates_{language}.yaml"
        if ours.exists():
            merge_dict(data, yaml.safe_load(ours.read_text()))
        # Only what the hub acts on: every other intent's templates would be tried, and fail, on
        # each sentence that matches nothing (5.3 ms instead of ~1 ms); those turns go elsewhere.
        data["intents"] = {k: v for k, v in data["intents"].items() if k in DEVICE_INTENTS | BUILTIN_INTENTS}
        self.intents = Intents.from_dict(data)
        self.language = language
        self.registry = registry
        from hassil.intents import TextSlotList

        self._nowhere = TextSlotList.from_tuples([("nowhere", "")])
        self.recognize("warm up")  # hassil compiles lazily: pay for it at start-up, not on the first turn

    def _slot_lists(self) -> dict[str, Any]:
        from hassil.expression import TextChunk
        from hassil.intents import TextSlotList, TextSlotValue

        names, areas, floors = [], set(), set()
        for rec in self.registry.records.values():
            for spoken in dict.fromkeys(n.lower() for n in rec.names()):
                names.append(TextSlotValue(TextChunk(spoken), rec.id, context={"domain": rec.device.kind.value}))
            if rec.area:
                areas.add(rec.area)
            if rec.floor:
                floors.add(rec.floor)
        return {
            "name": TextSlotList(name="name", values=names),
            "area": TextSlotList.from_tuples([(a.lower(), a) for a in sorted(areas)] or [("nowhere", "")]),
            "floor": TextSlotList.from_tuples([(f.lower(), f) for f in sorted(floors)] or [("nowhere", "")]),
        }

    def vocabulary(self) -> set[str]:
        """Every name a user may say for a device or a place."""
        words = {n.lower() for rec in self.registry.records.values() for n in rec.names()}
        words |= {p.lower() for rec in self.registry.records.values() for p in (rec.area, rec.floor) if p}
        return words

    def _best(self, text: str, slot_lists: dict[str, Any]) -> Any:
        """The most specific parse: "the kitchen light" is that device, not the kitchen's lights.
        When a device's name is in the text, a parse without rooms is tried first (one extra
        recognize, ~1 ms, only then)."""
        from hassil import recognize

        if self._names_in(text):
            nowhere = self._nowhere
            named = recognize(text, self.intents, slot_lists={**slot_lists, "area": nowhere, "floor": nowhere})
            if named is not None and "name" in named.entities:
                return named
        return recognize(text, self.intents, slot_lists=slot_lists, intent_context=self._where())

    def _where(self) -> dict[str, Any] | None:
        """The hub's room as hassil's context: "turn on the lights" then means that room's."""
        home = (self.registry.home_area or "").lower()
        if not home:
            return None
        area = next((r.area for r in self.registry.records.values() if r.area and r.area.lower() == home), None)
        return {"area": area} if area else None

    def _names_in(self, text: str) -> bool:
        padded = f" {text} "
        return any(f" {n.lower()} " in padded for rec in self.registry.records.values() for n in rec.names())

    def recognize(self, text: str) -> IntentMatch | None:
        started = time.perf_counter()
        heard = prepare(text)
        slot_lists = self._slot_lists()
        result = self._best(heard, slot_lists)
        confidence = 1.0
        if result is None and (fixed := repair(heard, self.vocabulary())) is not None:
            result = self._best(fixed.text, slot_lists)
            heard, confidence = fixed.text, fixed.score
        if result is None:
            return None
        slots = {k: v.value for k, v in result.entities.items()}
        match = IntentMatch(result.intent.name, slots, confidence=confidence, heard_as=heard)
        self._plan(match)
        match.ms = round(1000 * (time.perf_counter() - started), 2)
        return match

    def plan(self, intent: str, slots: dict[str, Any]) -> IntentMatch:
        """Actions for an intent whose slots came from elsewhere (a follow-up, a tool call)."""
        match = IntentMatch(intent, slots)
        self._plan(match)
        return match

    def _targets(self, slots: dict[str, Any]) -> list[DeviceRecord]:
        if "name" in slots:
            rec = self.registry.records.get(str(slots["name"]))
            return [rec] if rec else []
        if "ids" in slots:  # a follow-up names its devices by id
            return [self.registry.records[i] for i in slots["ids"] if i in self.registry.records]
        domain = slots.get("domain")
        out = []
        for rec in self.registry.records.values():
            if domain and rec.device.kind.value != domain:
                continue
            if "area" in slots and rec.area != slots["area"]:
                continue
            if "floor" in slots and rec.floor != slots["floor"]:
                continue
            if "area" in slots or "floor" in slots:
                out.append(rec)
        return out

    def _plan(self, match: IntentMatch) -> None:
        targets = self._targets(match.slots)
        intent, slots = match.intent, match.slots
        for rec in targets:
            kind = rec.device.kind
            values: dict[str, Any] = {}
            if intent in ("HassTurnOn", "HassTurnOff"):
                table = ON_VALUES if intent == "HassTurnOn" else OFF_VALUES
                attr, value = table.get(kind, ("on", intent == "HassTurnOn"))
                values = {attr: value}
            elif intent == "HassLightSet":
                if "brightness" in slots:
                    values["brightness"] = round(float(slots["brightness"]))
                if slots.get("color") in COLOURS:
                    values["rgb"] = COLOURS[slots["color"]]
            elif intent == "HassClimateSetTemperature" and kind is Kind.CLIMATE:
                values = {"target_temperature": float(slots["temperature"])}
            elif intent == "HassSetPosition":
                values = {"position": round(float(slots["position"]))}
            elif intent == "HassGetState" or (intent == "HassClimateGetTemperature" and kind in TEMPERATURE_KINDS):
                match.query.append(rec)
                continue
            values = {
                k: v for k, v in values.items() if k in rec.device.attributes and rec.device.attributes[k].writable
            }
            if values:
                match.actions.append(Action(rec.id, rec.name, values, kind.value))
