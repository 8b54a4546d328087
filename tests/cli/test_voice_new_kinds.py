"""Issue #16's acceptance by voice: three spoken requests of the new kinds through `companion hub up --wav`
(real wake word, VAD, Whisper and brain in a subprocess; a simulated home on a real Mosquitto): a valve,
a list and the whole home. Each counts only when the device's own state echo confirmed it (the
simulator's state agrees) or the synced list changed on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from device_drivers.simulator import Simulator, device_from
from sync import Replica
from tests.cli.test_cli import command, run
from tests.speech import join, silence, write_wav

HOME: list[dict[str, Any]] = [
    {"id": "water_valve", "name": "Water Valve", "kind": "valve", "area": "Laundry Room"},
    {"id": "kitchen_light", "name": "Kitchen Light", "kind": "light", "area": "Kitchen"},
    {"id": "hall_light", "name": "Hallway Light", "kind": "light", "area": "Hallway"},
    {"id": "desk_lamp", "name": "Desk Lamp", "kind": "light", "area": "Office"},
    {"id": "coffee_maker", "name": "Coffee Maker", "kind": "switch", "area": "Kitchen"},
]
# "Put ... on" rather than "add": Whisper tiny hears Piper's "Add milk" as "And milk".
REQUESTS = (
    "Close the water valve.",
    "Put milk on my shopping list.",
    "Are any lights on in the house?",
    "Turn off all the lights in the house.",
    "Are any lights on in the house?",
)


def _skills(log: str) -> list[dict[str, Any]]:
    """The `hub.skill` records of the run, one per answered request, in order."""
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{") and '"hub.skill"' in line]
    return [r for r in records if r.get("event") == "hub.skill"]


def test_a_valve_a_list_and_the_whole_home_by_voice(voices, mosquitto, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    audio = join(*(join(command(voices, text), silence(1.5)) for text in REQUESTS))
    wav = write_wav(tmp_path / "requests.wav", audio)
    devices = [device_from({**spec, "convention": "ha"}) for spec in HOME]
    for vdev in devices:
        if vdev.kind.value in ("light", "switch"):
            vdev.state["on"] = True  # every light on: the whole-home request has something to do
    env = {"COMPANION_MQTT_URL": mosquitto.url, "COMPANION_DATA_DIR": str(tmp_path / "data")}
    with Simulator(mosquitto.url, devices) as sim:
        proc = run(
            "--log-level",
            "INFO",
            "hub",
            "up",
            "--wav",
            str(wav),
            "--out",
            str(tmp_path / "out.wav"),
            "--no-realtime",
            "--no-api",
            env=env,
            tmp=tmp_path,
            timeout=600,
        )
        states = {vdev.id: dict(vdev.state) for vdev in sim.devices.values()}
        received = {vdev.id: list(vdev.received) for vdev in sim.devices.values()}
    assert proc.returncode == 0, proc.stderr[-3000:]
    skills = _skills(proc.stderr)
    replies = [s.get("reply", "") for s in skills]
    assert len(skills) == 5, replies

    # A valve: "Closed" is said only once the valve's own echo confirmed it ("did not respond" otherwise),
    # and the valve agrees: it received one close and reported closing, then closed.
    assert skills[0]["reply"] == "Closed the Water Valve.", replies
    assert states["water_valve"]["state"] == "closed" and received["water_valve"] == [{"state": "close"}]

    # A list: the synced document on disk has milk on the shopping list.
    assert skills[1]["reply"].lower().startswith("added milk"), replies
    replica = Replica.open(tmp_path / "data" / "sync.sqlite3")
    try:
        assert [i["text"] for i in replica.doc.list_items_of("shopping")] == ["milk"]
    finally:
        replica.store.close()

    # The whole home, asked about and then acted on: every light off, each confirmed by its echo; the coffee
    # maker (a switch) untouched; asked again, the answer follows the confirmed state.
    assert skills[2]["reply"].startswith("Yes") and skills[2]["intent"] == "HassGetState", replies
    assert skills[3]["reply"] == "Turned off 3 lights.", replies
    assert skills[4]["reply"].startswith("No"), replies
    assert all(states[i]["on"] is False for i in ("kitchen_light", "hall_light", "desk_lamp"))
    assert states["coffee_maker"]["on"] is True and received["coffee_maker"] == []
