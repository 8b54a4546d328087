"""`companion ask` as a user runs it: German end to end, the route and timings in --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from device_drivers.mosquitto import Mosquitto
from tests.cli.simhome import simulated_home

EXE = [sys.executable, "-m", "cli"]
GERMAN_HOME = Path(__file__).resolve().parents[1] / "eval" / "home_de.toml"


@pytest.fixture
def german_home(mosquitto: Mosquitto, tmp_path: Path):
    with simulated_home(mosquitto, tmp_path, GERMAN_HOME) as env:
        yield env


def ask(env: dict[str, str], *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [*EXE, "ask", *args, "--json"], env=env, capture_output=True, text=True, timeout=90, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def test_german_end_to_end(german_home: dict[str, str]) -> None:
    on = ask(german_home, "--lang", "de", "Schalte das Küchenlicht ein")
    assert on["route"] == "local-intent" and on["reply"] == "Küchenlicht eingeschaltet."
    assert on["actions"] == [
        {"device": "ha:kuechenlicht", "name": "Küchenlicht", "values": {"on": True}, "confirmed": True}
    ]
    dim = ask(german_home, "--lang", "de", "Dimme die Stehlampe auf dreißig Prozent")
    assert [(a["name"], a["values"]) for a in dim["actions"]] == [("Stehlampe", {"brightness": 30})]
    heat = ask(german_home, "--lang", "de", "Stelle die Heizung auf einundzwanzig Grad")
    assert [a["values"] for a in heat["actions"]] == [{"target_temperature": 21.0}]
    locked = ask(german_home, "--lang", "de", "Ist die Haustür abgeschlossen?")
    assert locked["route"] == "local-intent" and str(locked["reply"]).startswith(("Ja,", "Nein,"))
    unlock = ask(german_home, "--lang", "de", "Schließe die Haustür auf")
    assert unlock["actions"] == [] and unlock["reply"] == "Soll ich wirklich: Haustür aufschließen?"
    clock = ask(german_home, "--lang", "de", "Wie spät ist es?")
    assert clock["route"] == "builtin" and str(clock["reply"]).startswith("Es ist ")
    weather = ask(german_home, "--lang", "de", "Wie wird das Wetter morgen?")
    assert weather["route"] == "cloud" and "Cloud" in str(weather["reply"])


def test_ask_prints_route_actions_and_timings(german_home: dict[str, str]) -> None:
    record = ask(german_home, "--lang", "de", "Öffne den Rollladen")
    assert {"route", "intent", "signals", "actions", "reply", "timings_ms", "ms"} <= set(record)
    assert record["timings_ms"]["actions"] > 0
    plain = subprocess.run(
        [*EXE, "ask", "--lang", "de", "Öffne den Rollladen"],
        env=german_home,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert plain.returncode == 0 and plain.stdout.strip() == "Rollladen geöffnet."
    assert "route local-intent" in plain.stderr and "confirmed" in plain.stderr


def test_a_timer_asked_for_is_set_once(tmp_path: Path) -> None:
    """`ask` once ran the skill to decide its path, then the brain ran it again: two timers for one request.
    Timer ids count from 1 in each process, so the one the reply names must be the first."""
    env = {**os.environ, "COMPANION_CONFIG_DIR": str(tmp_path / "c"), "COMPANION_DATA_DIR": str(tmp_path / "d")}
    record = ask(env, "set a timer for ten minutes")
    assert record["route"] == "builtin" and record["intent"] == "timer-set"
    assert record["data"] == {"timer_id": 1, "seconds": 600}, record


HOUSE = Path(__file__).resolve().parents[1] / "eval" / "house.toml"
# One example of each class of issue #16's table, as a user runs it: (sentence, reply starts with, devices).
ISSUE_16 = [
    ("unlock the kitchen door", "There is no lock in the Kitchen.", []),
    ("activate party mode in the kitchen", "There is no scene in the Kitchen.", []),
    ("play The Office", "I can't control media players yet", []),
    ("set living room volume to 90 percent", "I can't control media players yet", []),
    ("open the garage door in 5 minutes", "I won't open the Garage Door later", []),
    ("tell me if there are any switches on in the kitchen", "No, no switches are on.", []),
    ("is the phone on?", "There are 7 devices called Phone", []),
    ("set the temperature to 40 degrees", "The Office Thermostat can be set between 5 and 35 degrees", []),
    ("add 5 minutes to my timer", "You have no timers running.", []),
    (
        "turn all fans off",
        "Turned off 5 fans.",
        ["Attic Fan", "Bedroom Fan", "Garage Fan", "Kitchen ceiling fan", "Living Room Fan"],
    ),
]


@pytest.fixture
def issue_house(mosquitto: Mosquitto, tmp_path: Path):
    with simulated_home(mosquitto, tmp_path, HOUSE) as env:
        yield env


def test_the_issue_16_classes_through_companion_ask(issue_house: dict[str, str]) -> None:
    """The small LLM is on (the default): none of these may become an action on another device."""
    for text, reply, devices in ISSUE_16:
        record = ask(issue_house, text)
        assert str(record["reply"]).startswith(reply), (text, record)
        assert sorted(a["name"] for a in record["actions"]) == devices, (text, record)
        assert all(a["confirmed"] for a in record["actions"]), (text, record)
