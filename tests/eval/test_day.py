"""A realistic day with the internet down (issue #23): the household's 135 turns of `day.yaml`,
written apart from the brain's templates, through the real brain, the real small LLM and a real
broker, with the cloud unreachable. Nothing may be done to a lock, a door, a blind or the alarm that
the day did not ask for, and every turn the hub hands to the cloud comes back as the offline answer."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.day import OFFLINE, judge, load_day, replay, summarize, unreachable_cloud
from device_drivers.mosquitto import Mosquitto
from edge_runtime.brain.replies import say
from models.llm import LLM
from tests.eval.home import home_config


def test_the_day_is_a_household_day_on_the_homes_devices() -> None:
    start, turns = load_day()
    names = {d["name"] for d in home_config()["devices"]}
    assert len(turns) >= 100 and len({t["part"] for t in turns}) >= 6
    for turn in [{"act": start}, *turns]:
        assert set(turn.get("act") or {}) | set(turn.get("one_of") or []) | set(turn.get("may") or []) <= names, turn
    assert all(t["want"] in ("act", "answer", "decline") and t["say"].strip() for t in turns)


def test_the_judge_calls_a_door_it_was_not_asked_about_wrong() -> None:
    turn = {"want": "act", "act": {"Front Door": {"locked": True}}}
    before = {"Front Door": {"locked": False}, "Back Door": {"locked": True}}
    right = {"Front Door": {"locked": True}, "Back Door": {"locked": True}}
    assert judge(turn, before, right, {"Front Door"}, "Locked.", "local-intent")["verdict"] == "right"
    opened = {"Front Door": {"locked": True}, "Back Door": {"locked": False}}
    verdict = judge(turn, before, opened, {"Front Door", "Back Door"}, "Done.", "local-intent")
    assert verdict["verdict"] == "wrong" and verdict["wrong"][0].startswith("Back Door:")
    nothing = judge(turn, before, before, set(), "Which door?", "local-intent")
    assert nothing["verdict"] == "missed" and not nothing["wrong"]


def test_a_realistic_day_offline(mosquitto: Mosquitto, llm: LLM, tmp_path: Path) -> None:
    outcomes = asyncio.run(replay(mosquitto.url, tmp_path, llm=llm, cloud=unreachable_cloud()))
    summary = summarize(outcomes, offline=True)
    print({k: v for k, v in summary.items() if k != "parts"})
    assert summary["turns"] >= 100 and summary["crashes"] == 0
    assert all(o["reply"].strip() for o in outcomes)
    assert [o["say"] for o in outcomes if o["security"]] == []
    escalated = [o for o in outcomes if o["route"] == "cloud"]
    assert escalated, "the day has questions only the cloud can answer"
    assert all(o["fallback"] == OFFLINE and o["reply"] == say("en", "offline") for o in escalated)
    # Goal (issue #23): 80 % of the day handled on the hub, and no offline turn worse than "I can't
    # do that". First run on 2026-11-30: 64.4 % and two wrong commands from the small LLM's tool
    # calls. After the fixes that day: 73.3 % (99 of 135) and none; then 83.0 % (112 of 135) with
    # alarms, reminders, comfort complaints and list follow-ups on the hub. The goal is asserted.
    assert summary["hub_share"] >= 0.80
    assert summary["worse_than_cannot"] == [], summary["worse_than_cannot"]
