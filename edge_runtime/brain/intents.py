"""Local intents: Home Assistant's sentence templates (hassil + home-assistant-intents, plus ours)
recognised over the live device registry. Which devices a match means, and what to do with them,
is `planner.py`'s job; this module only says what was said.

Names are slot values by their text, not by device id, so that two devices called "Phone" stay
two and the planner can ask which one was meant (Home Assistant does the same).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from edge_runtime.brain.fuzzy import repair
from edge_runtime.brain.spoken import floor_words, head_nouns
from edge_runtime.brain.text import afterthought, prepare, without_reason
from edge_runtime.brain.vocab import (
    BINARY_NOUNS,
    BINARY_WORDS,
    CLOCK_INTENTS,
    DEVICE_INTENTS,
    LIST_INTENTS,
    MEDIA_INTENTS,
    SENSOR_NOUNS,
    STATE_CLASSES,
    TEMPERATURE_UNITS,
    TIMER_INTENTS,
    UNSUPPORTED_INTENTS,
    Intent,
)
from edge_runtime.devices.registry import DeviceRecord, DeviceRegistry

TEMPLATES = Path(__file__).parent
# Compiled: what the hub does, and what it must recognise to decline honestly (media, vacuums).
COMPILED = DEVICE_INTENTS | CLOCK_INTENTS | MEDIA_INTENTS | UNSUPPORTED_INTENTS | {Intent.NEVERMIND}
MISSING = "<missing>"  # hassil's text for a context slot no words filled
BUILTIN_INTENTS = frozenset(CLOCK_INTENTS | TIMER_INTENTS | LIST_INTENTS | {Intent.NEVERMIND})
COLOURS = {
    "red": [255, 0, 0],
    "green": [0, 255, 0],
    "blue": [0, 0, 255],
    "white": [255, 255, 255],
    "black": [0, 0, 0],
    "yellow": [255, 255, 0],
    "orange": [255, 165, 0],
    "purple": [128, 0, 128],
    "pink": [255, 192, 203],
    "turquoise": [64, 224, 208],
    "brown": [150, 75, 0],
}


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
    response: str = "default"  # which answer the template asks for (one, one_yesno, any, all, which, how_many)
    combination: str = ""  # the template's slot combination (name_only, area_domain, domain_all...)
    implied: frozenset[str] = frozenset()  # slots filled from the hub's room, not said
    domains: tuple[str, ...] = ()  # the kinds the template is for (from requires_context)
    reply: str | None = None  # an answer instead of actions: "There is no lock in the Kitchen."
    problem: str = ""  # the stable code of that answer (NO_DEVICE_CLASS_IN_AREA, DUPLICATE_NAME...)
    said: dict[str, str] = field(default_factory=dict)  # each slot's own words ("open", where its value is "on")

    @property
    def supported(self) -> bool:
        return self.intent in DEVICE_INTENTS or self.intent in BUILTIN_INTENTS


def _domains(data: Any) -> tuple[str, ...]:
    wanted = (data.requires_context or {}).get("domain") or (data.slots or {}).get("domain") or ()
    return (wanted,) if isinstance(wanted, str) else tuple(wanted)


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
        data.setdefault("lists", {}).update(_word_lists())
        # Only what the hub acts on or must decline: every other intent's templates would be tried,
        # and fail, on each sentence that matches nothing; those turns go elsewhere.
        data["intents"] = {k: v for k, v in data["intents"].items() if k in COMPILED}
        self.intents = Intents.from_dict(data)
        self.language = language
        self.registry = registry
        self._slot_key: tuple[Any, ...] | None = None
        self._slot_lists: dict[str, Any] = {}
        self.recognize("warm up")  # hassil compiles lazily: pay for it at start-up, not on the first turn

    def slot_lists(self) -> dict[str, Any]:
        """Rebuilt only when a name, alias, kind, room or floor changed: hassil indexes each list
        on first use, and a new list every turn would pay for that index every turn."""
        key = tuple(
            (rec.id, rec.device.kind.value, rec.device.device_class, tuple(rec.names()), rec.area, rec.floor)
            for rec in self.registry.spoken()
        )
        if key != self._slot_key:
            self._slot_key, self._slot_lists = key, self._build_slot_lists()
        return self._slot_lists

    def _build_slot_lists(self) -> dict[str, Any]:
        from hassil.expression import TextChunk
        from hassil.intents import TextSlotList, TextSlotValue

        # One value per spoken name and kind, with the kind as context, as Home Assistant builds it:
        # seven binary sensors called "Phone" are one value (one parse, not seven), and the planner
        # still finds all seven by the name.
        names: dict[tuple[str, str], Any] = {}
        areas, floors = set(), set()
        for rec in self.registry.spoken():
            kind = rec.device.kind.value
            for spoken in {n.lower() for n in rec.names()}:
                names.setdefault((spoken, kind), TextSlotValue(TextChunk(spoken), spoken, context={"domain": kind}))
            if rec.area:
                areas.add(rec.area)
            if rec.floor:
                floors.add(rec.floor)
        # What a plug is called by what it runs ("the tv": the TV Plug), only where that is one device (spoken.py).
        for spoken, rec in head_nouns(self.registry.spoken(), areas | floors):
            kind = rec.device.kind.value
            names.setdefault(
                (spoken, kind), TextSlotValue(TextChunk(spoken), rec.name.lower(), context={"domain": kind})
            )
        floor_values = [(f.lower(), f) for f in sorted(floors)] + floor_words(floors, areas)
        return {
            "name": TextSlotList(name="name", values=list(names.values())),
            "area": TextSlotList.from_tuples([(a.lower(), a) for a in sorted(areas)] or [("nowhere", "")]),
            "floor": TextSlotList.from_tuples(floor_values or [("nowhere", "")]),
        }

    def _names_in(self, words: str) -> bool:
        """Whether the words name a device or a place: then they are part of the command."""
        padded = f" {words} "
        return any(f" {name} " in padded for name in self.vocabulary())

    def vocabulary(self) -> set[str]:
        """Every name a user may say for a device or a place."""
        words = {n.lower() for rec in self.registry.spoken() for n in rec.names()}
        words |= {p.lower() for rec in self.registry.spoken() for p in (rec.area, rec.floor) if p}
        return words

    def where(self) -> dict[str, Any] | None:
        """The hub's room as hassil's context: "turn on the lights" then means that room's."""
        home = (self.registry.home_area or "").lower()
        if not home:
            return None
        area = next((r.area for r in self.registry.spoken() if r.area and r.area.lower() == home), None)
        return {"area": area} if area else None

    def _best(self, text: str, slot_lists: dict[str, Any], *, unmatched: bool = False) -> Any:
        """Home Assistant's preference among parses: a device's name said over a room ("the kitchen
        light" is that light), then the most words matched, then the fewest slots taken from context."""
        from hassil import recognize_all

        best, best_key = None, None
        for result in recognize_all(
            text,
            self.intents,
            slot_lists=slot_lists,
            intent_context=self.where(),
            allow_unmatched_entities=unmatched,
            language=self.language,
        ):
            said = [e for e in result.entities.values() if e.text]
            implied = len(result.entities) - len(said)
            key: tuple[int, ...] = (any(e.name == "name" for e in said), result.text_chunks_matched, -implied)
            if unmatched:
                missing = [e for e in result.unmatched_entities.values() if getattr(e, "text", "") != MISSING]
                key = (-len(missing), *key, -len(_domains(result.intent_data)))
            if best_key is None or key > best_key:
                best, best_key = result, key
        return best

    def recognize(self, text: str) -> IntentMatch | None:
        started = time.perf_counter()
        heard = prepare(text)
        slot_lists = self.slot_lists()
        result = self._best(heard, slot_lists)
        confidence = 1.0
        if result is None and (short := without_reason(heard)) != heard:
            result = self._best(short, slot_lists)  # "unlock the back door so the kids can go out"
            heard = short if result is not None else heard
        if result is None and (split := afterthought(heard)) is not None and not self._names_in(split[1]):
            result = self._best(split[0], slot_lists)  # "turn off the tv dinner's ready"
            heard = split[0] if result is not None else heard
        if result is None and (fixed := repair(heard, self.vocabulary())) is not None:
            result = self._best(fixed.text, slot_lists)
            heard, confidence = fixed.text, fixed.score
        if result is None:
            return None
        match = self._match(result, heard, confidence)
        match.ms = round(1000 * (time.perf_counter() - started), 2)
        return match

    def recognize_unmatched(self, text: str) -> tuple[IntentMatch, dict[str, str]] | None:
        """A device sentence whose name matched nothing ("unlock the kitchen door" in a home without
        one): the intent, what was understood, and the words that named nothing. Slower; only
        tried when nothing else matched."""
        heard = without_reason(prepare(text))
        result = self._best(heard, self.slot_lists(), unmatched=True)
        if result is None or result.intent.name not in DEVICE_INTENTS | MEDIA_INTENTS:
            return None
        missing = {
            k: v.text.strip()
            for k, v in result.unmatched_entities.items()
            if getattr(v, "text", "").strip() and v.text != MISSING
        }
        if not missing or set(missing) - {"name", "area", "floor"}:
            return None
        return self._match(result, heard, 1.0), missing

    def _match(self, result: Any, heard: str, confidence: float) -> IntentMatch:
        slots = {k: v.value for k, v in result.entities.items()}
        implied = frozenset(k for k, v in result.entities.items() if not v.text and k in ("area", "floor"))
        metadata = result.intent_metadata or {}
        said = result.context.get("domain")  # the named device's own kind, when a name matched
        domains = (said,) if isinstance(said, str) and "name" in result.entities else _domains(result.intent_data)
        return IntentMatch(
            result.intent.name,
            slots,
            confidence=confidence,
            heard_as=heard,
            response=result.response or "default",
            combination=str(metadata.get("slot_combination", "")),
            implied=implied,
            domains=domains,
            said={k: v.text.strip() for k, v in result.entities.items() if isinstance(v.text, str) and v.text.strip()},
        )


def _word_lists() -> dict[str, Any]:
    """Our lists for binary sensors' and sensors' own words, from vocab.py."""

    def values(table: dict[str, Any]) -> dict[str, Any]:
        return {"values": [{"in": word, "out": out} for word, out in table.items()]}

    return {
        "bs_state": values({word: word for word in BINARY_WORDS}),
        "bs_class": values({f"{noun}[s]": cls for noun, cls in BINARY_NOUNS.items()}),
        "bs_class_state": values({word: word for word in STATE_CLASSES}),  # a state only some classes have
        "sensor_class": values(SENSOR_NOUNS),
        "temperature_unit": values(TEMPERATURE_UNITS),
    }
