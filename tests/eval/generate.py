"""Evaluation cases expanded from home-assistant-intents' own English templates, not written by us.

    python -m tests.eval.generate [--per-template 2]    # prints them

Each template sentence of the device intents is expanded with hassil's own `sample_sentence`, with
one placeholder for {name}, {area} and {floor} and the number ranges left as slots; a seeded
draw picks a few expansions per template, and the placeholders are filled with the fixture home's
own names, areas and floors (a device of the kind the template requires, a room that has that
kind nine times in ten and one that has none otherwise). The labels come from Home Assistant's
meaning of the template (its slots and its response form) applied to the home by `oracle.py`,
never from the brain: which devices a command sets, or which devices a question is about.
"""

from __future__ import annotations

import argparse
import itertools
import random
from functools import cache
from typing import Any

from tests.eval.home import HOUSE, home_config

SUPPORTED = frozenset(
    {"light", "switch", "fan", "cover", "lock", "climate", "sensor", "binary_sensor", "valve", "vacuum", "scene"}
    | {"button"}
)
INTENTS = (
    "HassTurnOn",
    "HassTurnOff",
    "HassLightSet",
    "HassSetPosition",
    "HassFanSetSpeed",
    "HassClimateSetTemperature",
    "HassClimateGetTemperature",
    "HassGetState",
    "HassVacuumStart",
    "HassVacuumReturnToBase",
)
PLACEHOLDERS = {"name": "NAMEX", "area": "AREAX", "floor": "FLOORX"}
CAP = 3000  # expansions read per template before the draw (a few templates have 10^5)
RANGES = {
    "{brightness}": lambda r: str(r.randrange(5, 100, 5)),
    "{position}": lambda r: str(r.randrange(10, 100, 10)),
    "{fan_speed}": lambda r: str(r.randrange(10, 100, 10)),
    "{temperature}": lambda r: r.choice(["18", "19", "20", "20.5", "21", "22", "23"]),
    "{color_temperature}": lambda r: r.choice(["2700", "3000", "4000", "5000"]),
}


@cache
def ha_intents() -> Any:
    """Home Assistant's English templates alone: ours are not the source of the generated set."""
    from hassil import Intents
    from home_assistant_intents import get_intents

    data = get_intents("en")
    assert data is not None
    data["intents"] = {k: v for k, v in data["intents"].items() if k in INTENTS}
    return Intents.from_dict(data)


def _domains(data: Any) -> tuple[str, ...]:
    fixed = (data.slots or {}).get("domain")
    if fixed:
        return (fixed,)
    wanted = (data.requires_context or {}).get("domain") or ()
    return (wanted,) if isinstance(wanted, str) else tuple(wanted)


def _usable(data: Any) -> bool:
    domains = _domains(data)
    if domains and not set(domains) & SUPPORTED:
        return False
    return (data.requires_context or {}).get("domain") != ["person"]


def slot_lists(devices: list[dict[str, Any]], floors: dict[str, str]) -> dict[str, Any]:
    from hassil.expression import TextChunk
    from hassil.intents import TextSlotList, TextSlotValue

    names = []
    for d in devices:
        for spoken in [d["name"], *d.get("aliases", [])]:
            context = {"domain": d["kind"], **({"device_class": d["device_class"]} if d.get("device_class") else {})}
            names.append(TextSlotValue(TextChunk(spoken.lower()), spoken, context=context))
    areas = sorted({d["area"] for d in devices})
    return {
        "name": TextSlotList(name="name", values=names),
        "area": TextSlotList.from_tuples([(a.lower(), a) for a in areas]),
        "floor": TextSlotList.from_tuples([(f.lower(), f) for f in sorted(set(floors.values()))]),
    }


def generate(config: dict[str, Any] | None = None, *, per_template: int = 2, seed: int = 16) -> list[dict[str, Any]]:
    from hassil import recognize_all
    from hassil.intents import TextSlotList
    from hassil.sample import sample_sentence

    config = config or home_config(HOUSE)
    devices = config["devices"]
    floors = {area: floor for floor, areas in config.get("floors", {}).items() for area in areas}
    counts: dict[str, int] = {}
    for d in devices:
        counts[d["name"].lower()] = counts.get(d["name"].lower(), 0) + 1
    intents, rng = ha_intents(), random.Random(seed)
    placeholders = {k: TextSlotList.from_strings([v]) for k, v in PLACEHOLDERS.items()}
    real = slot_lists(devices, floors)
    cases: list[dict[str, Any]] = []
    for intent_name in INTENTS:
        for data in intents.intents[intent_name].data:
            if not _usable(data):
                continue
            rules = {**intents.expansion_rules, **(data.expansion_rules or {})}
            lists = {**intents.slot_lists, **placeholders}
            for sentence in data.sentences:
                if set(sentence.list_names(rules)) & data.wildcard_list_names:
                    continue
                texts = list(
                    itertools.islice(sample_sentence(sentence, lists, rules, language="en", expand_ranges=False), CAP)
                )
                for template in rng.sample(texts, min(per_template, len(texts))):
                    case = _fill(template, data, devices, floors, counts, rng)
                    if case is None:
                        continue
                    context = {"area": case["room"]} if case.get("room") else None
                    parses = list(recognize_all(case["text"], intents, slot_lists=real, intent_context=context))
                    parse = next((r for r in parses if r.intent_data is data), None)
                    if parse is None or {r.intent.name for r in parses} != {intent_name}:
                        continue  # it reads as another template or intent too: a label would be a guess
                    slots = {k: v.value for k, v in parse.entities.items() if k not in ("area", "floor") or v.text}
                    case.update(
                        intent=intent_name,
                        slots=slots,
                        response=data.response or "default",
                        combination=str((data.metadata or {}).get("slot_combination", "")),
                        domains=list(_domains(data)),
                    )
                    cases.append(case)
    return cases


def _fill(
    template: str,
    data: Any,
    devices: list[dict[str, Any]],
    floors: dict[str, str],
    counts: dict[str, int],
    rng: random.Random,
) -> dict[str, Any] | None:
    domains = set(_domains(data)) & SUPPORTED or SUPPORTED
    of_kind = [d for d in devices if d["kind"] in domains]
    if not of_kind:
        return None
    text, case = (
        template,
        {
            "category": "generated",
            "route": "local-intent",
            "template": template,
            "confirm": True,  # an unlock or a garage door asks first; the user says yes
        },
    )
    if PLACEHOLDERS["name"] in text:
        named = [d for d in of_kind if counts[d["name"].lower()] == 1]  # duplicates: the hand-written set
        if not named:
            return None
        device = rng.choice(named)
        text = text.replace(PLACEHOLDERS["name"], device["name"].lower())
        text = text.replace(PLACEHOLDERS["area"], device["area"].lower())
        text = text.replace(PLACEHOLDERS["floor"], floors.get(device["area"], "").lower())
    else:
        having = sorted({d["area"] for d in of_kind})
        areas = having if rng.random() < 0.9 else sorted({d["area"] for d in devices} - set(having)) or having
        area = rng.choice(areas)
        floor = rng.choice(sorted({floors[d["area"]] for d in of_kind if d["area"] in floors}))
        text = text.replace(PLACEHOLDERS["area"], area.lower()).replace(PLACEHOLDERS["floor"], floor.lower())
        if (data.requires_context or {}).get("area"):
            case["room"] = area  # "turn on the lights in here": the hub stands in that room
    for slot, value in RANGES.items():
        if slot in text:
            text = text.replace(slot, value(rng))
    if "{" in text:
        return None
    case["text"] = " ".join(text.split())
    return case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-template", type=int, default=2)
    args = parser.parse_args()
    for case in generate(per_template=args.per_template):
        print(f"{case['intent']:<28} {case['text']}")


if __name__ == "__main__":
    main()
