"""The brain's evaluation: every labelled utterance through the real brain on a simulated home.

    python -m tests.eval.run [--json eval.json] [--no-llm]

Three sets: `utterances.yaml` over `home.toml` (30 devices, all three MQTT conventions, with the
small LLM and the cloud routes), `house.yaml` over `house.toml` (issue #16's home: 58 devices on 5
floors, near-duplicate names) and the sentences `generate.py` expands from home-assistant-intents'
own templates over `house.toml`, labelled by `oracle.py`. Prints accuracy per category and per
intent, counts actions on a device the sentence did not mean, and writes the report as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from edge_runtime.brain.context import Conversation
from edge_runtime.brain.escalate import Escalator
from models.llm import LLM
from tests.eval import oracle
from tests.eval.generate import generate
from tests.eval.home import HOME, HOUSE, RunningHome, home_config, running_home

UTTERANCES = Path(__file__).with_name("utterances.yaml")
HOUSE_UTTERANCES = Path(__file__).with_name("house.yaml")
LOCAL_COMMANDS = {"command", "stt-errors", "follow-up", "confirmation", "generated"}


@dataclass
class Outcome:
    case: dict[str, Any]
    route: str
    intent: str
    reply: str
    actions: dict[str, dict[str, Any]]
    signals: list[str]
    ms: float
    route_ok: bool = False
    actions_ok: bool = False
    unnamed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.route_ok and self.actions_ok


def load_cases(path: Path = UTTERANCES) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text()))


def house_cases() -> list[dict[str, Any]]:
    """The hand-written house sentences, then the generated ones."""
    return [*load_cases(HOUSE_UTTERANCES), *generate(home_config(HOUSE))]


def _values_match(want: dict[str, Any], got: dict[str, Any]) -> bool:
    return all(k in got and (v == "*" or got[k] == v) for k, v in want.items())


def judge(
    case: dict[str, Any], route: str, intent: str, reply: str, actions: dict[str, dict[str, Any]], signals: list[str]
) -> tuple[bool, bool, list[str]]:
    """(route right, actions right, devices acted on that the utterance did not mean)."""
    route_ok = route == case["route"]
    if "signal" in case:
        route_ok = route_ok and case["signal"] in signals
    if "intent" in case:
        route_ok = route_ok and intent == case["intent"]
    expected = case.get("actions")
    allowed = set(expected or {}) | set(case.get("may_touch", []))
    unnamed = sorted(set(actions) - allowed)
    if expected is None:
        actions_ok = not unnamed
    else:
        actions_ok = set(actions) == set(expected) and all(_values_match(expected[n], actions[n]) for n in expected)
    if "reply_contains" in case:
        actions_ok = actions_ok and case["reply_contains"].lower() in reply.lower()
    if "answer" in case:
        actions_ok = actions_ok and oracle.check(case["answer"], reply)
    return route_ok, actions_ok, unnamed


def _labelled(case: dict[str, Any], home: RunningHome, config: dict[str, Any]) -> dict[str, Any]:
    """A generated case with its labels from the oracle, over the simulator's state right now."""
    if "slots" not in case:
        return case
    floors = {area: floor for floor, areas in config.get("floors", {}).items() for area in areas}
    expected = oracle.expect(case, config["devices"], floors, home.states_by_id())
    labelled = {**case, "actions": expected.get("actions", {})}
    if expected.get("question"):
        labelled["answer"] = expected
    return labelled


async def evaluate(
    broker_url: str,
    workdir: Path,
    *,
    llm: LLM | None,
    cloud: Escalator | None,
    cases: list[dict[str, Any]] | None = None,
    config: dict[str, Any] | None = None,
) -> list[Outcome]:
    cases = cases if cases is not None else load_cases()
    config = config or home_config(HOME)
    outcomes = []
    workdir.mkdir(parents=True, exist_ok=True)
    async with running_home(broker_url, workdir / "devices.sqlite3", llm=llm, cloud=cloud, config=config) as home:
        for raw in cases:
            home.devices.registry.home_area = raw.get("room")  # where the hub stands, for "in here"
            conversation = Conversation()
            for before in raw.get("after", []):
                await home.brain.handle(before, conversation)
            case = _labelled(raw, home, config)
            started = time.perf_counter()
            result = first = await home.brain.handle(case["text"], conversation)
            if "needs-confirmation" in first.signals and case.get("confirm"):
                result = await home.brain.handle("yes", conversation)  # the user says yes to "Do you want me to..."
            ms = round(1000 * (time.perf_counter() - started), 2)
            actions = {a["name"]: a["values"] for a in result.actions if a.get("confirmed")}
            outcome = Outcome(case, first.route, first.intent, result.reply, actions, first.signals, ms)
            outcome.route_ok, outcome.actions_ok, outcome.unnamed = judge(
                case, first.route, first.intent, result.reply, actions, first.signals
            )
            outcomes.append(outcome)
    return outcomes


async def evaluate_all(
    home_broker: str, house_broker: str, workdir: Path, *, llm: LLM | None, cloud: Escalator | None
) -> list[Outcome]:
    """Every set: the 30-device home, then the house (hand-written and generated). Each home has a
    broker of its own: retained discovery configs would otherwise mix the two homes."""
    home = await evaluate(home_broker, workdir / "home", llm=llm, cloud=cloud)
    house = await evaluate(
        house_broker, workdir / "house", llm=llm, cloud=cloud, cases=house_cases(), config=home_config(HOUSE)
    )
    return [*home, *house]


def _rates(outcomes: list[Outcome]) -> dict[str, Any]:
    return {
        "n": len(outcomes),
        "accuracy": round(sum(o.ok for o in outcomes) / len(outcomes), 4),
        "routing": round(sum(o.route_ok for o in outcomes) / len(outcomes), 4),
        "wrong_device_actions": sum(len(o.unnamed) for o in outcomes),
    }


def report(outcomes: list[Outcome]) -> dict[str, Any]:
    by_category: dict[str, list[Outcome]] = defaultdict(list)
    by_intent: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_category[o.case["category"]].append(o)
        by_intent[o.case.get("intent") or f"({o.case['route']})"].append(o)
    local = [o for o in outcomes if o.case["category"] in LOCAL_COMMANDS]
    return {
        "utterances": len(outcomes),
        "generated": sum(o.case["category"] == "generated" for o in outcomes),
        "accuracy": round(sum(o.ok for o in outcomes) / len(outcomes), 4),
        "categories": {c: _rates(os) for c, os in sorted(by_category.items())},
        "intents": {i: _rates(os) for i, os in sorted(by_intent.items())},
        "device_commands_local_accuracy": round(sum(o.ok for o in local) / len(local), 4) if local else 0.0,
        "routing_accuracy": round(sum(o.route_ok for o in outcomes) / len(outcomes), 4),
        "actions_on_unnamed_devices": sum(len(o.unnamed) for o in outcomes),
        "failures": [
            {
                "text": o.case["text"],
                "category": o.case["category"],
                "want_route": o.case["route"],
                "want_intent": o.case.get("intent"),
                "want_actions": o.case.get("actions"),
                "want_answer": o.case.get("answer"),
                "route": o.route,
                "intent": o.intent,
                "actions": o.actions,
                "reply": o.reply,
                "unnamed": o.unnamed,
            }
            for o in outcomes
            if not o.ok
        ],
        "ms_median": sorted(o.ms for o in outcomes)[len(outcomes) // 2],
    }


def print_table(summary: dict[str, Any]) -> None:
    for title, rows in (("category", summary["categories"]), ("intent", summary["intents"])):
        print(f"{title:<28}{'n':>5}{'accuracy':>10}{'routing':>9}{'wrong device':>14}")
        for name, row in rows.items():
            print(
                f"{name:<28}{row['n']:>5}{row['accuracy']:>10.1%}{row['routing']:>9.1%}"
                f"{row['wrong_device_actions']:>14}"
            )
        print()
    print(f"utterances: {summary['utterances']} ({summary['generated']} generated from HA's templates)")
    print(f"correct: {summary['accuracy']:.1%}")
    print(f"device commands on the local route: {summary['device_commands_local_accuracy']:.1%}")
    print(f"routing overall: {summary['routing_accuracy']:.1%}")
    print(f"actions on devices the utterance did not mean: {summary['actions_on_unnamed_devices']}")
    for f in summary["failures"]:
        print(
            f"  FAIL [{f['category']}] {f['text']!r}: route {f['route']} (want {f['want_route']}), "
            f"{f['intent']} {f['actions']} {f['reply']!r}"
        )


def main() -> None:
    from device_drivers.mosquitto import Mosquitto
    from edge_runtime.brain.factory import load_llm
    from edge_runtime.settings import EdgeSettings
    from models.registry import Registry

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path("eval.json"))
    parser.add_argument("--no-llm", action="store_true")
    parser.add_argument("--house-only", action="store_true", help="only the house sets (no LLM needed)")
    args = parser.parse_args()
    llm = None if args.house_only else load_llm(EdgeSettings(llm_enabled=not args.no_llm), Registry())
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "mosquitto").start()
        second = Mosquitto(Path(tmp) / "mosquitto-house").start()
        try:
            if args.house_only:
                run = evaluate(
                    second.url, Path(tmp), llm=None, cloud=None, cases=house_cases(), config=home_config(HOUSE)
                )
            else:
                run = evaluate_all(broker.url, second.url, Path(tmp), llm=llm, cloud=None)
            outcomes = asyncio.run(run)
        finally:
            second.stop()
            broker.stop()
    summary = report(outcomes)
    print_table(summary)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
