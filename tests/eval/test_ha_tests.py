"""bench/ha_tests.py's reading of Home Assistant's test format (tests/en/*.yaml and _fixtures.yaml),
on a small home and sentences of our own in that format: HA's files are not in this repository."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

from bench.ha_tests import cases_from, home_from, outcome, replay

FIXTURES = {
    "floors": [{"name": "Ground Floor", "id": "ground_floor_id"}],
    "areas": [
        {"name": "Kitchen", "id": "kitchen_id", "floor": "ground_floor_id"},
        {"name": "Hall", "id": "hall_id", "floor": "ground_floor_id"},
    ],
    "entities": [
        {"name": "Kitchen Lamp", "id": "light.kitchen_lamp", "area": "kitchen_id", "state": "off"},
        {"name": "Hall Lamp", "id": "light.hall_lamp", "area": "hall_id", "state": "on"},
        {"name": "Hall Door", "id": "lock.hall_door", "area": "hall_id", "state": "locked"},
        {
            "name": "Tea Kettle",
            "id": "binary_sensor.kettle",
            "state": {"in": "running", "out": "on"},
            "attributes": {"device_class": "running"},
        },
        {"name": "Next Holiday", "id": "sensor.holiday", "state": "2026-12-24", "attributes": {"device_class": "date"}},
        {"name": "TV", "id": "media_player.tv", "area": "kitchen_id", "state": "idle"},
    ],
}
TESTS = {
    "language": "en",
    "tests": [
        {
            "sentences": ["switch on the kitchen lamp"],
            "intent": {"name": "HassTurnOn", "slots": {"name": "light.kitchen_lamp"}},
            "response": "Turned on",
        },
        {
            "sentences": ["lights off in here"],
            "intent": {
                "name": "HassTurnOff",
                "slots": {"area": "Hall", "domain": "light"},
                "context": {"area": "Hall"},
            },
            "response": "Turned off",
        },
        {
            "sentences": ["is the hall door locked"],
            "intent": {"name": "HassGetState", "slots": {"name": "Hall Door", "domain": "lock", "state": "locked"}},
            "response": "Yes",
        },
        {"sentences": ["what's on the telly"], "intent": {"name": "HassMediaSearchAndPlay"}, "response": "Playing"},
    ],
}


def test_the_fixtures_become_the_simulated_home() -> None:
    home = home_from(FIXTURES)
    assert home["floors"] == {"Ground Floor": ["Kitchen", "Hall"]}
    by_name = {d["name"]: d for d in home["devices"]}
    assert set(by_name) == {"Kitchen Lamp", "Hall Lamp", "Hall Door", "Tea Kettle"}  # no media, no date
    assert by_name["Hall Lamp"]["state"] == {"on": True} and by_name["Hall Lamp"]["area"] == "Hall"
    assert by_name["Hall Door"]["state"] == {"locked": True}
    assert by_name["Tea Kettle"]["device_class"] == "running" and by_name["Tea Kettle"]["state"] == {"on": True}


def test_each_sentence_of_a_device_intent_is_a_case_with_names_and_rooms_resolved(tmp_path: Path) -> None:
    path = tmp_path / "light_HassTurnOn.yaml"
    path.write_text(yaml.safe_dump(TESTS))
    cases = cases_from(path, FIXTURES)
    assert [c["text"] for c in cases] == ["switch on the kitchen lamp", "lights off in here", "is the hall door locked"]
    switch, here, question = cases
    assert switch["slots"] == {"name": "Kitchen Lamp"} and switch["domains"] == ["light"]  # from the file's name
    assert here["room"] == "Hall" and here["slots"] == {"area": "Hall", "domain": "light"}
    assert question["ha_response"] == "Yes" and question["intent"] == "HassGetState"


def test_the_replay_judges_commands_by_the_slots_and_questions_by_the_response(tmp_path: Path) -> None:
    path = tmp_path / "homeassistant_HassTurnOn.yaml"
    path.write_text(yaml.safe_dump(TESTS))
    outcomes = asyncio.run(replay(cases_from(path, FIXTURES), home_from(FIXTURES)))
    assert [outcome(o) for o in outcomes] == ["right", "right", "right"], [(o.case["text"], o.reply) for o in outcomes]
    assert outcomes[0].actions == {"Kitchen Lamp": {"on": True}} and outcomes[1].actions == {"Hall Lamp": {"on": False}}
    lying = outcomes[2]
    lying.case["ha_response"] = "No"  # had HA answered otherwise, ours is a wrong answer, not a decline
    assert outcome(lying) == "wrong answer"
