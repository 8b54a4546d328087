"""Local intents: Home Assistant's sentence templates (hassil + home-assistant-intents), matched
against the live device registry and turned into device actions. Deterministic, a few ms."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from device_drivers import Kind
from edge_runtime.devices.registry import DeviceRecord, DeviceRegistry

TEMPLATES = Path(__file__).with_name("templates_en.yaml")
COLOURS = {
    "red": [255, 0, 0], "green": [0, 255, 0], "blue": [0, 0, 255], "white": [255, 255, 255],
    "yellow": [255, 255, 0], "orange": [255, 165, 0], "purple": [128, 0, 128], "pink": [255, 192, 203],
}  # fmt: skip
# Home Assistant calls locking and opening "turning on".
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


class IntentEngine:
    """Built once; the slot lists come from the registry at every call, so new devices just work."""

    def __init__(self, registry: DeviceRegistry, language: str = "en") -> None:
        from hassil import Intents
        from hassil.util import merge_dict
        from home_assistant_intents import get_intents

        data = get_intents(language)
        if data is None:
            raise ValueError(f"no intent templates for language {language!r}")
        if language == "en":
            merge_dict(data, yaml.safe_load(TEMPLATES.read_text()))
        self.intents = Intents.from_dict(data)
        self.registry = registry
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

    def recognize(self, text: str) -> IntentMatch | None:
        from hassil import recognize

        started = time.perf_counter()
        result = recognize(text, self.intents, slot_lists=self._slot_lists())
        if result is None:
            return None
        slots = {k: v.value for k, v in result.entities.items()}
        match = IntentMatch(result.intent.name, slots)
        self._plan(match)
        match.ms = round(1000 * (time.perf_counter() - started), 2)
        return match

    def _targets(self, slots: dict[str, Any]) -> list[DeviceRecord]:
        if "name" in slots:
            rec = self.registry.records.get(str(slots["name"]))
            return [rec] if rec else []
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
            elif intent == "HassGetState":
                match.query.append(rec)
                continue
            values = {
                k: v for k, v in values.items() if k in rec.device.attributes and rec.device.attributes[k].writable
            }
            if values:
                match.actions.append(Action(rec.id, rec.name, values, kind.value))
