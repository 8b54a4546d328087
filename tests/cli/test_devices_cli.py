"""`companion devices ...` as a user runs it, against real Mosquitto and `devices simulate`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from device_drivers.mosquitto import Mosquitto
from tests.cli.simhome import simulated_home

EXE = [sys.executable, "-m", "cli"]
CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "devices.example.toml"


@pytest.fixture
def home(mosquitto: Mosquitto, tmp_path: Path):  # type: ignore[no-untyped-def]
    with simulated_home(mosquitto, tmp_path, CONFIG) as env:
        yield env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_list_show_set_edit(home) -> None:  # type: ignore[no-untyped-def]
    listed = cli(home, "devices", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    devices = {d["name"]: d for d in json.loads(listed.stdout)}
    assert {"Kitchen Light", "Bedroom Light", "Front Door", "Thermostat", "Bathroom Sensor temperature"} <= set(devices)
    assert devices["Kitchen Light"]["area"] == "Kitchen" and devices["Kitchen Light"]["available"] is True

    done = cli(home, "devices", "set", "kitchen light", "brightness=30", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["confirmed"] and result["state"]["brightness"] == 30 and result["state"]["on"] is True

    shown = json.loads(cli(home, "devices", "show", "Front Door", "--json").stdout)
    assert shown["attributes"]["locked"]["writable"] and shown["state"]["locked"] is True

    assert cli(home, "devices", "edit", "Front Door", "--alias", "the door", "--area", "Entrance").returncode == 0
    assert cli(home, "devices", "floor", "Entrance", "ground").returncode == 0
    assert cli(home, "devices", "set", "the door", "locked=false").returncode == 0
    door = json.loads(cli(home, "devices", "show", "the door", "--json").stdout)
    assert (door["area"], door["floor"], door["state"]["locked"]) == ("Entrance", "ground", False)


def test_errors_exit_2_with_a_code(home) -> None:  # type: ignore[no-untyped-def]
    cases = [
        (("devices", "set", "Kitchen Light", "brightness=300"), "DEVICE_OUT_OF_RANGE"),
        (("devices", "set", "Kitchen Ligth", "on=true"), "DEVICE_UNKNOWN"),
        (("devices", "set", "Bathroom Sensor temperature", "value=3"), "DEVICE_INVALID_COMMAND"),
        (("devices", "set", "Kitchen Light", "bright"), "DEVICE_INVALID_COMMAND"),
    ]
    for args, code in cases:
        proc = cli(home, *args)
        assert proc.returncode == 2 and code in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)
    unknown = cli(home, "devices", "set", "Kitchen Ligth", "on=true")
    assert "Kitchen Light" in unknown.stderr  # the near miss is suggested
    # Garage Light drops half its commands: some tries may be unconfirmed, which is a clear error too.
    outcomes = {
        cli(home, "devices", "set", "Garage Light", f"brightness={b}", "--timeout", "0.5").returncode
        for b in range(10, 70, 10)
    }
    assert outcomes <= {0, 2} and 2 in outcomes


def test_broker_down_is_a_clear_error(tmp_path: Path) -> None:
    from device_drivers.mosquitto import free_port

    env = {**os.environ, "COMPANION_MQTT_URL": f"mqtt://127.0.0.1:{free_port()}", "COMPANION_DATA_DIR": str(tmp_path)}
    proc = cli(env, "devices", "list", "--wait", "1")
    assert proc.returncode == 2 and "MQTT_DISCONNECTED" in proc.stderr and "Traceback" not in proc.stderr


def test_watch_streams_changes(home) -> None:  # type: ignore[no-untyped-def]
    watcher = subprocess.Popen(
        [*EXE, "devices", "watch", "--json", "--seconds", "4"],
        env=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    assert cli(home, "devices", "set", "Hallway Switch", "on=true").returncode == 0
    out, _ = watcher.communicate(timeout=20)
    events = [json.loads(line) for line in out.splitlines()]
    assert any(e["type"] == "device-added" for e in events)
    assert any(e["type"] == "state" and e["name"] == "Hallway Switch" and e["values"].get("on") is True for e in events)


def test_ask_runs_the_brain_on_text(home) -> None:  # type: ignore[no-untyped-def]
    done = cli(home, "ask", "turn on the kitchen light", "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["route"] == "local-intent" and record["reply"] == "Turned on the Kitchen Light."
    actions = [(a["name"], a["values"], a["confirmed"]) for a in record["actions"]]
    assert actions == [("Kitchen Light", {"on": True}, True)]
    other = json.loads(cli(home, "ask", "book me a flight to Paris", "--json").stdout)
    # Nothing local can do that, and this hub is not linked: the router says so instead of guessing.
    assert other["route"] == "cloud" and other["actions"] == [] and other["data"]["fallback"] == "CLOUD_NOT_LINKED"
    assert "not linked" in other["reply"]
    time_of_day = json.loads(cli(home, "ask", "what time is it", "--json").stdout)
    assert time_of_day["route"] == "builtin" and time_of_day["intent"] == "time"


def test_a_device_whose_messages_cannot_be_read_is_flagged(home) -> None:  # type: ignore[no-untyped-def]
    """`devices list` and `doctor` name the device, the topic, an excerpt of the payload and the code."""
    import paho.mqtt.publish as publish

    from device_drivers.mqtt_url import BrokerAddress

    assert "Bedroom Light" in cli(home, "devices", "list", "--json").stdout  # the hub knows it (and keeps it)
    broker = BrokerAddress.parse(home["COMPANION_MQTT_URL"])
    bad = '{"state": "ON", "brightness": "bright"}'
    publish.single("zigbee2mqtt/Bedroom Light", bad, qos=1, retain=True, hostname=broker.host, port=broker.port)
    listed = cli(home, "devices", "list")
    assert listed.returncode == 0, listed.stderr
    row = " ".join(line for line in listed.stdout.splitlines() if "Bedroom Light" in line or "DEVICE_BAD" in line)
    assert "[!]" in row and "DEVICE_BAD_PAYLOAD" in row and "zigbee2mqtt/Bedroom Light" in row, listed.stdout
    doctor = cli(home, "doctor", "--json")
    (messages,) = [r for r in json.loads(doctor.stdout) if r["check"] == "device messages"]
    assert messages["status"] == "warn" and "brightness" in messages["detail"] and "Bedroom Light" in messages["detail"]
