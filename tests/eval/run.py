"""The brain's evaluation: every labelled utterance through the real brain on the simulated home.

    python -m tests.eval.run [--json eval.json] [--no-llm]

Prints accuracy per category and writes the report as JSON. `tests/eval/test_eval.py` runs the
same evaluation in CI and holds it to the issue's goals.
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
from tests.eval.home import running_home

UTTERANCES = Path(__file__).with_name("utterances.yaml")
LOCAL_COMMANDS = {"command", "stt-errors", "follow-up", "confirmation"}


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


def _values_match(want: dict[str, Any], got: dict[str, Any]) -> bool:
    return all(k in got and (v == "*" or got[k] == v) for k, v in want.items())


def judge(case: dict[str, Any], route: str, intent: str, reply: str, actions: dict[str, dict[str, Any]],
          signals: list[str]) -> tuple[bool, bool, list[str]]:  # fmt: skip
    """(route right, actions right, devices acted on that the utterance did not name)."""
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
        actions_ok = actions_ok and case["reply_contains"] in reply
    return route_ok, actions_ok, unnamed


async def evaluate(broker_url: str, workdir: Path, *, llm: LLM | None, cloud: Escalator | None,
                   cases: list[dict[str, Any]] | None = None) -> list[Outcome]:  # fmt: skip
    cases = cases or load_cases()
    outcomes = []
    async with running_home(broker_url, workdir / "devices.sqlite3", llm=llm, cloud=cloud) as home:
        for case in cases:
            conversation = Conversation()
            for before in case.get("after", []):
                await home.brain.handle(before, conversation)
            started = time.perf_counter()
            result = await home.brain.handle(case["text"], conversation)
            ms = round(1000 * (time.perf_counter() - started), 2)
            actions = {a["name"]: a["values"] for a in result.actions if a.get("confirmed")}
            outcome = Outcome(case, result.route, result.intent, result.reply, actions, result.signals, ms)
            outcome.route_ok, outcome.actions_ok, outcome.unnamed = judge(
                case, result.route, result.intent, result.reply, actions, result.signals
            )
            outcomes.append(outcome)
    return outcomes


def report(outcomes: list[Outcome]) -> dict[str, Any]:
    by_category: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_category[o.case["category"]].append(o)
    local = [o for o in outcomes if o.case["category"] in LOCAL_COMMANDS]
    return {
        "utterances": len(outcomes),
        "categories": {
            c: {
                "n": len(os),
                "accuracy": round(sum(o.ok for o in os) / len(os), 4),
                "routing": round(sum(o.route_ok for o in os) / len(os), 4),
            }
            for c, os in sorted(by_category.items())
        },
        "device_commands_local_accuracy": round(sum(o.ok for o in local) / len(local), 4) if local else 0.0,
        "routing_accuracy": round(sum(o.route_ok for o in outcomes) / len(outcomes), 4),
        "actions_on_unnamed_devices": sum(len(o.unnamed) for o in outcomes),
        "failures": [
            {
                "text": o.case["text"],
                "category": o.case["category"],
                "want_route": o.case["route"],
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
    print(f"{'category':<14}{'n':>5}{'accuracy':>10}{'routing':>9}")
    for name, row in summary["categories"].items():
        print(f"{name:<14}{row['n']:>5}{row['accuracy']:>10.1%}{row['routing']:>9.1%}")
    print(f"device commands on the local route: {summary['device_commands_local_accuracy']:.1%}")
    print(f"routing overall: {summary['routing_accuracy']:.1%}")
    print(f"actions on devices the utterance did not name: {summary['actions_on_unnamed_devices']}")
    for f in summary["failures"]:
        print(f"  FAIL [{f['category']}] {f['text']!r}: route {f['route']} (want {f['want_route']}), "
              f"{f['actions']} {f['reply']!r}")  # fmt: skip


def main() -> None:
    from device_drivers.mosquitto import Mosquitto
    from edge_runtime.brain.factory import load_llm
    from edge_runtime.settings import EdgeSettings
    from models.registry import Registry

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path("eval.json"))
    parser.add_argument("--no-llm", action="store_true")
    args = parser.parse_args()
    settings = EdgeSettings(llm_enabled=not args.no_llm)
    llm = load_llm(settings, Registry())
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "mosquitto").start()
        try:
            outcomes = asyncio.run(evaluate(broker.url, Path(tmp), llm=llm, cloud=None))
        finally:
            broker.stop()
    summary = report(outcomes)
    print_table(summary)
    args.json.write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
