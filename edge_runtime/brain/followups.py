"""Follow-ups that lean on the conversation: "make it brighter", "and the hallway too", "turn it off".

The grammar cannot know what "it" is; the conversation can. Each rule rewrites the turn into
an intent over explicit device ids, so planning and validation stay in one place.
"""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz import fuzz, process

from device_drivers import Kind
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.intents import Action, IntentEngine, IntentMatch
from edge_runtime.brain.planner import Planner
from edge_runtime.brain.text import prepare
from edge_runtime.devices.registry import DeviceRecord

_RELATIVE = re.compile(
    r"^(?:(?:please )?(?:make|turn|set|get) )?(?P<target>.*?)\s*(?:a (?:bit|little) |much )?"
    r"(?P<dir>brighter|dimmer|darker|warmer|cooler|colder|hotter|higher|lower|up|down)"
    r"(?: (?:a (?:bit|little)|please))?$"
)
_UP = {"brighter", "warmer", "hotter", "higher", "up"}
_PRONOUN = re.compile(r"\b(?:it|them|that|those|these|him|her)\b")
_ALSO = re.compile(
    r"^(?:(?:and|also|same for|what about|how about|and also|now)\s+)+(?P<rest>.+?)(?:\s+(?:too|as well|also))?$"
    r"|^(?P<rest2>.+?)\s+(?:too|as well)$"
)
# A word that opens a follow-up without changing it: "ok turn it off", "alright, and the hallway too".
_LEAD_IN = re.compile(r"^(?:(?:ok|okay|alright|all right|well|then|great|thanks|thank you),?\s+)+")
_FILLER = re.compile(r"^(?:in |on |at )?(?:the |my )?")
STEP_PERCENT = 25
STEP_DEGREES = 1.0


class FollowUps:
    def __init__(self, engine: IntentEngine, planner: Planner) -> None:
        self.engine = engine
        self.planner = planner

    def plan(self, intent: str, slots: dict[str, Any]) -> IntentMatch:
        """Actions for an intent whose slots came from the conversation (devices by id)."""
        return self.planner.plan(IntentMatch(intent, slots))

    def resolve(self, text: str, conversation: Conversation) -> IntentMatch | None:
        heard = _LEAD_IN.sub("", prepare(text)) or prepare(text)
        last = conversation.targets()
        return (
            self._relative(heard, last)
            or (self._also(heard, conversation) if last else None)
            or (self._pronoun(heard, last) if last else None)
        )

    def _records(self, ids: list[str]) -> list[DeviceRecord]:
        return [self.engine.registry.records[i] for i in ids if i in self.engine.registry.records]

    def find(self, phrase: str, kinds: set[str] | None = None) -> list[DeviceRecord]:
        """Devices a phrase names: a device by name or alias, or the devices of a room or floor."""
        phrase = _FILLER.sub("", phrase).strip()
        records = self.engine.registry.spoken()
        names = {n.lower(): r for r in records for n in r.names()}
        places = {p.lower() for r in records for p in (r.area, r.floor) if p}
        choice = None
        # "the floor lamp" is a device; "the bedroom lights" are the lights of a room.
        for candidate in (phrase, re.sub(r"\s+(?:lights?|lamps?|fans?|blinds)$", "", phrase)):
            if candidate and (
                choice := process.extractOne(candidate, [*names, *places], scorer=fuzz.ratio, score_cutoff=80)
            ):
                break
        if choice is None:
            return []
        if choice[0] in names:
            return [names[choice[0]]]
        return [
            r
            for r in records
            if choice[0] in ((r.area or "").lower(), (r.floor or "").lower())
            and (kinds is None or r.device.kind.value in kinds)
        ]

    def _relative(self, heard: str, last: list[str]) -> IntentMatch | None:
        m = _RELATIVE.match(heard)
        if not m:
            return None
        target = m.group("target").strip()
        records = self._records(last) if not target or _PRONOUN.fullmatch(target) else self.find(target)
        if not records:
            return None
        return self._stepped(records, m.group("dir"), heard)

    def _stepped(self, records: list[DeviceRecord], direction: str, heard: str) -> IntentMatch:
        up = direction in _UP
        match = IntentMatch("HassLightSet", {"ids": [r.id for r in records], "relative": direction}, heard_as=heard)
        for rec in records:
            values = step_values(rec, up)
            if values:
                match.actions.append(Action(rec.id, rec.name, values, rec.device.kind.value))
                if rec.device.kind is Kind.CLIMATE:
                    match.intent = "HassClimateSetTemperature"
        return match

    def _also(self, heard: str, conversation: Conversation) -> IntentMatch | None:
        m = _ALSO.match(heard)
        if not m or conversation.last_intent is None:
            return None
        phrase = m.group("rest") or m.group("rest2") or ""
        kinds = {r.device.kind.value for r in self._records(conversation.last_ids)}
        records = self.find(phrase, kinds)
        if not records:
            return None
        slots = {k: v for k, v in conversation.last_slots.items() if k not in ("name", "area", "floor", "ids")}
        if "relative" in slots:  # "make it brighter" ... "and the hallway too"
            return self._stepped(records, str(slots["relative"]), heard)
        match = self.plan(conversation.last_intent, {**slots, "ids": [r.id for r in records]})
        match.heard_as = heard
        return match

    def _pronoun(self, heard: str, last: list[str]) -> IntentMatch | None:
        records = self._records(last)
        if not records or not _PRONOUN.search(heard):
            return None
        stand_in = records[0].name.lower()
        match = self.engine.recognize(_PRONOUN.sub(f"the {stand_in}", heard, count=1))
        if match is None or str(match.slots.get("name", "")).lower() not in {n.lower() for n in records[0].names()}:
            return None
        slots: dict[str, Any] = {k: v for k, v in match.slots.items() if k != "name"}
        planned = self.plan(match.intent, {**slots, "ids": [r.id for r in records]})
        planned.heard_as = heard
        return planned


def step_values(rec: DeviceRecord, up: bool) -> dict[str, Any]:
    state, attrs = rec.state, rec.device.attributes
    if "brightness" in attrs:
        now = float(state.get("brightness", 100 if state.get("on") else 0))
        return {"brightness": int(max(1, min(100, now + (STEP_PERCENT if up else -STEP_PERCENT))))}
    if "target_temperature" in attrs:
        now = float(state.get("target_temperature", 20.0))
        return {"target_temperature": now + (STEP_DEGREES if up else -STEP_DEGREES)}
    if "position" in attrs:
        now = float(state.get("position", 0))
        return {"position": int(max(0, min(100, now + (STEP_PERCENT if up else -STEP_PERCENT))))}
    if "percentage" in attrs:
        now = float(state.get("percentage", 0))
        return {"percentage": int(max(0, min(100, now + (STEP_PERCENT if up else -STEP_PERCENT))))}
    return {}
