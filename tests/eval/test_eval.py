"""The brain's evaluation in CI: 150+ labelled utterances over a 30-device home in all three
MQTT conventions, run by the simulator on a real broker, with the real small LLM."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from device_drivers.mosquitto import Mosquitto
from models.llm import LLM
from tests.eval.home import home_config
from tests.eval.run import evaluate, load_cases, print_table, report


def test_the_evaluation_set_is_a_realistic_home() -> None:
    cases, devices = load_cases(), home_config()["devices"]
    assert len(cases) >= 150
    assert len(devices) >= 25 and {d["convention"] for d in devices} == {"ha", "z2m", "homie"}
    assert len({d["area"] for d in devices}) >= 6
    assert all({"text", "category", "route"} <= set(c) for c in cases)
    names = {d["name"] for d in devices}
    assert all(set(c.get("actions") or {}) <= names and set(c.get("may_touch", [])) <= names for c in cases)


def test_brain_meets_its_goals(mosquitto: Mosquitto, llm: LLM, tmp_path: Path) -> None:
    outcomes = asyncio.run(evaluate(mosquitto.url, tmp_path, llm=llm, cloud=None))
    summary = report(outcomes)
    print_table(summary)
    (tmp_path / "eval.json").write_text(json.dumps(summary, indent=2))
    assert summary["utterances"] >= 150
    assert summary["device_commands_local_accuracy"] >= 0.95, summary["failures"]
    assert summary["routing_accuracy"] >= 0.90, summary["failures"]
    assert summary["actions_on_unnamed_devices"] == 0, summary["failures"]
    # Every category is exercised and the LLM and cloud routes were really taken.
    routes = {o.route for o in outcomes}
    assert {"builtin", "local-intent", "local-llm", "cloud", "confirm"} <= routes
