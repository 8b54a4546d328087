"""Home Assistant's own English intent tests, replayed through our brain: material nobody here wrote.

    .venv/bin/python -m bench.ha_tests --intents-dir ~/src/intents [--file light_] [--json]

`--intents-dir` is a checkout of https://github.com/home-assistant/intents (its `tests/en/*.yaml`
and the home they run against, `tests/en/_fixtures.yaml`). Its files are not copied into this
repository: they are Home Assistant's, and the figure should follow the version you check out.

The fixtures' areas, floors and entities become the simulated home (real Mosquitto, the hub's device
layer, the brain without the small LLM or a cloud), every device a Home Assistant discovery one. Each
test sentence of a device intent runs in a conversation of its own, with the test's `context.area` as
the hub's room. A command is judged by `tests/eval/oracle.py` on HA's expected slots; a question by
HA's expected response ("Yes", "No, closed", "2", a name). Outcomes per file:

- **right**: the devices HA's slots select, set as HA would; or the answer HA gives;
- **declined**: nothing done (the hub asked, said it lacks the device, or would ask the cloud);
- **wrong action**: a device HA's slots do not select was acted on, or set otherwise;
- **wrong answer**: a question answered otherwise than HA answers it.

Prints a table and writes bench/results/ha_tests.json.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from bench.common import machine, table, write_json
from device_drivers.mosquitto import Mosquitto
from tests.eval.run import Outcome, evaluate

KINDS = {"light", "switch", "fan", "cover", "lock", "climate", "sensor", "binary_sensor", "valve", "vacuum", "scene"}
INTENTS = {
    "HassTurnOn",
    "HassTurnOff",
    "HassToggle",
    "HassLightSet",
    "HassGetState",
    "HassSetPosition",
    "HassClimateSetTemperature",
    "HassClimateGetTemperature",
    "HassFanSetSpeed",
    "HassOpenCover",
    "HassCloseCover",
    "HassVacuumStart",
    "HassVacuumReturnToBase",
}
QUESTIONS = {"HassGetState"}
OUTCOMES = ("right", "declined", "wrong action", "wrong answer")


def home_from(fixtures: dict[str, Any]) -> dict[str, Any]:
    """HA's test home as our simulator's config: floors, rooms and the devices of kinds we run."""
    floors = {f["id"]: f["name"] for f in fixtures.get("floors", [])}
    areas = {a["id"]: a["name"] for a in fixtures.get("areas", [])}
    by_floor: dict[str, list[str]] = {}
    for a in fixtures.get("areas", []):
        if a.get("floor") in floors:
            by_floor.setdefault(floors[a["floor"]], []).append(a["name"])
    devices = [d for e in fixtures.get("entities", []) if (d := _device(e, areas)) is not None]
    return {"floors": by_floor, "devices": devices}


def _device(entity: dict[str, Any], areas: dict[str, str]) -> dict[str, Any] | None:
    kind, object_id = str(entity["id"]).split(".", 1)
    if kind not in KINDS:
        return None
    attrs, state = entity.get("attributes") or {}, entity.get("state")
    spec: dict[str, Any] = {
        "id": f"{kind}_{object_id}".replace(" ", "_"),
        "name": entity["name"],
        "kind": kind,
        "convention": "ha",
        "area": areas.get(entity.get("area") or "", ""),
    }
    if attrs.get("device_class"):
        spec["device_class"] = attrs["device_class"]
    if attrs.get("unit_of_measurement"):
        spec["unit"] = attrs["unit_of_measurement"]
    if kind in ("light", "switch", "fan"):
        spec["state"] = {"on": state == "on"}
    elif kind in ("cover", "valve"):
        spec["state"] = {"state": state, "position": int(float(attrs.get("position", 100 if state == "open" else 0)))}
        spec["features"] = ["position"]
    elif kind == "lock":
        spec["state"] = {"locked": state == "locked"}
    elif kind == "binary_sensor":
        spec["state"] = {"on": state.get("out") == "on" if isinstance(state, dict) else state == "on"}
    elif kind == "sensor":
        try:
            spec["state"] = {"value": float(str(state))}
        except (TypeError, ValueError):
            return None  # a date or a word: not a reading our sensors carry
    elif kind == "climate":
        spec["state"] = {"mode": state, "current_temperature": float(attrs.get("current_temperature") or 20)}
        spec["features"] = ["current_temperature"]
    return spec


def cases_from(test_file: Path, fixtures: dict[str, Any]) -> list[dict[str, Any]]:
    """One case per sentence, in the evaluation's form (intent, slots, domains, room), with HA's response."""
    names = {e["id"]: e["name"] for e in fixtures.get("entities", [])}
    areas = {a["id"]: a["name"] for a in fixtures.get("areas", [])}
    areas |= {k.removesuffix("_id"): v for k, v in areas.items()}
    floors = {f["id"]: f["name"] for f in fixtures.get("floors", [])}
    floors |= {k.removesuffix("_id"): v for k, v in floors.items()}
    prefix = test_file.stem.split("_Hass")[0]
    cases = []
    for test in (yaml.safe_load(test_file.read_text()) or {}).get("tests", []):
        intent = test.get("intent") or {}
        if intent.get("name") not in INTENTS:
            continue
        slots = {k: _value(v) for k, v in (intent.get("slots") or {}).items()}
        slots["name"] = names.get(slots.get("name"), slots.get("name"))
        slots["area"] = areas.get(slots.get("area"), slots.get("area"))
        slots["floor"] = floors.get(slots.get("floor"), slots.get("floor"))
        slots = {k: v for k, v in slots.items() if v is not None and not (k == "name" and v == "all")}
        if any(isinstance(v, list | dict) for v in slots.values()):
            continue  # "any of these classes": no single label
        domain = slots.get("domain")
        domains = [domain] if domain else ([] if prefix in ("homeassistant", "hass") else [prefix])
        room = (test.get("context") or intent.get("context") or {}).get("area")  # the satellite's room
        for sentence in test.get("sentences", []):
            case = {
                "text": sentence,
                "category": test_file.stem,
                "route": "local-intent",
                "intent": intent["name"],
                "slots": dict(slots),
                "domains": domains,
                "response": "default",
                "ha_response": str(test.get("response") or ""),
            }
            if room:
                case["room"] = areas.get(room, room)
            cases.append(case)
    return cases


def _value(value: Any) -> Any:
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def outcome(o: Outcome) -> str:
    if o.case["intent"] in QUESTIONS and o.case["ha_response"] and not o.actions:
        said, want = o.reply.strip().lower(), o.case["ha_response"].strip().lower()
        if o.intent == o.case["intent"] and _answers(said, want):
            return "right"
        return "declined" if o.route == "cloud" or "which one" in said or "don't know" in said else "wrong answer"
    if o.ok:
        return "right"
    return "wrong action" if o.unnamed or o.actions else "declined"


def _answers(said: str, want: str) -> bool:
    if want.startswith("yes"):
        return said.startswith("yes")
    if want.startswith("no") or want == "not any":
        return said.startswith("no")
    if want.isdigit():
        return said.split()[:1] == [want] or (want == "0" and said.startswith("no"))
    return want.split(" is ")[0] in said


async def replay(cases: list[dict[str, Any]], config: dict[str, Any]) -> list[Outcome]:
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "mosquitto").start()
        try:
            return await evaluate(broker.url, Path(tmp) / "home", llm=None, cloud=None, cases=cases, config=config)
        finally:
            broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intents-dir", type=Path, required=True, help="a checkout of home-assistant/intents")
    parser.add_argument("--file", default="", help="only test files whose name contains this")
    args = parser.parse_args()
    tests = args.intents_dir / "tests" / "en"
    if not (tests / "_fixtures.yaml").is_file():
        raise SystemExit(
            f"no tests/en/_fixtures.yaml under {args.intents_dir}: "
            "git clone https://github.com/home-assistant/intents and pass its path as --intents-dir"
        )
    fixtures = yaml.safe_load((tests / "_fixtures.yaml").read_text())
    config = home_from(fixtures)
    files = [f for f in sorted(tests.glob("*.yaml")) if not f.name.startswith("_") and args.file in f.name]
    cases = [c for f in files for c in cases_from(f, fixtures)]
    outcomes = asyncio.run(replay(cases, config))
    per_file: dict[str, Counter[str]] = {}
    for o in outcomes:
        per_file.setdefault(o.case["category"], Counter())[outcome(o)] += 1
    total: Counter[str] = sum(per_file.values(), Counter())
    rows = [[name, sum(c.values()), *(c[k] for k in OUTCOMES)] for name, c in per_file.items()]
    rows.append(["all", len(outcomes), *(total[k] for k in OUTCOMES)])
    print(table("Home Assistant's English tests through the brain", ["file", "sentences", *OUTCOMES], rows))
    wrong = [o for o in outcomes if outcome(o).startswith("wrong")]
    for o in wrong:
        print(f"  {outcome(o).upper()}: {o.case['text']!r}: {o.intent} {o.actions} {o.reply!r}")
    result = {
        "machine": machine(),
        "command": "python -m bench.ha_tests --intents-dir <home-assistant/intents checkout>",
        "devices": len(config["devices"]),
        "totals": dict(total),
        "files": {name: dict(c) for name, c in per_file.items()},
        "wrong": [{"text": o.case["text"], "intent": o.intent, "actions": o.actions, "reply": o.reply} for o in wrong],
    }
    print(f"\nwrote {write_json('ha_tests', result)}")


if __name__ == "__main__":
    main()
