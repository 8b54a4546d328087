"""Valves, vacuums, scenes, buttons and selects from Home Assistant MQTT discovery, in the abbreviated
form firmware sends (unit tests; the end-to-end path is tests/edge_runtime/test_devices.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from device_drivers import Device, DriverError, HomeAssistant, InvalidPayload, Kind
from device_drivers.simulator import device_from


def _parse(component: str, config: dict[str, Any]) -> Device:
    found = HomeAssistant().parse_discovery(f"homeassistant/{component}/x1/config", json.dumps(config).encode())
    assert found is not None
    (device,) = found.devices
    return device


def test_valve_with_its_own_payloads_and_state_words() -> None:
    valve = _parse(
        "valve",
        {
            "~": "shelly/valve",
            "name": "Water Valve",
            "uniq_id": "wv1",
            "cmd_t": "~/cmd",
            "stat_t": "~/status",
            "pl_open": "ON",
            "pl_cls": "OFF",
            "stat_open": "is_open",
            "stat_clsd": "is_closed",
            "stat_opening": "going",
        },
    )
    codec = HomeAssistant()
    assert valve.kind is Kind.VALVE
    assert codec.encode(valve, {"state": valve.attributes["state"].validate("close")}) == [("shelly/valve/cmd", b"OFF")]
    assert codec.decode(valve, "shelly/valve/status", b"going").values == {"state": "opening"}
    assert codec.decode(valve, "shelly/valve/status", b"is_closed").values == {"state": "closed"}
    assert "stop" not in valve.attributes["state"].options  # no payload_stop: a stop is not offered


def test_valve_that_reports_a_position_takes_one() -> None:
    valve = _parse(
        "valve",
        {
            "name": "Irrigation",
            "uniq_id": "irr",
            "cmd_t": "irr/set",
            "stat_t": "irr/pos",
            "rpt_pos": True,
            "pos_open": 255,
            "pos_clsd": 0,
        },
    )
    codec = HomeAssistant()
    assert set(valve.attributes) == {"position"}
    assert codec.encode(valve, {"position": 100}) == [("irr/set", b"255")]
    assert codec.decode(valve, "irr/pos", b"0").values == {"position": 0}


def test_vacuum_state_schema_plain_commands_and_json_state() -> None:
    vacuum = _parse(
        "vacuum",
        {
            "name": "Robot",
            "uniq_id": "rb",
            "cmd_t": "rb/command",
            "stat_t": "rb/state",
            "pl_ret": "dock",
            "sup_feat": ["start", "stop", "return_home", "status"],
        },
    )
    codec = HomeAssistant()
    assert codec.encode(vacuum, {"state": "return_to_base"}) == [("rb/command", b"dock")]
    assert codec.encode(vacuum, {"state": "start"}) == [("rb/command", b"start")]
    update = codec.decode(vacuum, "rb/state", b'{"state": "returning", "battery_level": 61}')
    assert update.values == {"state": "returning"}
    with pytest.raises(InvalidPayload):
        codec.decode(vacuum, "rb/state", b'{"state": "flying"}')


@pytest.mark.parametrize(
    ("component", "config", "payload"),
    [
        ("scene", {"name": "Movie Night", "uniq_id": "mn", "cmd_t": "scenes/mn", "pl_on": "ACTIVATE"}, b"ACTIVATE"),
        ("button", {"name": "Restart", "uniq_id": "rs", "cmd_t": "esp/restart", "pl_prs": "GO"}, b"GO"),
        ("button", {"name": "Doorbell", "uniq_id": "db", "cmd_t": "esp/bell"}, b"PRESS"),
    ],
)
def test_scenes_and_buttons_are_pressed_and_report_nothing(
    component: str, config: dict[str, Any], payload: bytes
) -> None:
    device = _parse(component, config)
    assert set(device.attributes) == {"press"} and device.wiring["state"] == {}
    assert HomeAssistant().encode(device, {"press": True}) == [(config["cmd_t"], payload)]


def test_select_keeps_its_options_spelling_and_needs_options() -> None:
    select = _parse(
        "select",
        {
            "name": "Heat Pump Mode",
            "uniq_id": "hp",
            "cmd_t": "hp/mode/set",
            "stat_t": "hp/mode",
            "ops": ["Eco", "Comfort", "Boost"],
        },
    )
    codec = HomeAssistant()
    assert select.attributes["option"].validate("comfort") == "Comfort"
    assert codec.encode(select, {"option": "Comfort"}) == [("hp/mode/set", b"Comfort")]
    assert codec.decode(select, "hp/mode", b"Boost").values == {"option": "Boost"}
    bad = json.dumps({"name": "Bad", "uniq_id": "bad", "cmd_t": "b/set"}).encode()
    found = HomeAssistant().parse_discovery("homeassistant/select/bad/config", bad)
    assert found is not None and not found.devices  # refused alone, with its code and the device it named
    (refused,) = found.refused
    assert (refused.device_id, refused.error.code) == ("ha:bad", "DEVICE_BAD_CONFIG")


def test_the_new_kinds_are_home_assistant_only_in_the_simulator() -> None:
    with pytest.raises(DriverError) as err:
        device_from({"id": "v", "kind": "valve", "convention": "z2m"})
    assert err.value.code == "SIM_BAD_CONFIG"
    assert device_from({"id": "s", "kind": "select", "choices": ["A", "B"]}).state == {"option": "A"}
