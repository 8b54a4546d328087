"""Parsing what real devices send: configs as firmware and bridges publish them (unit tests)."""

from __future__ import annotations

import json

import pytest

from device_drivers import HomeAssistant, Homie, InvalidCommand, InvalidPayload, Kind, Zigbee2MQTT, implied


def test_ha_abbreviated_config_with_base_topic() -> None:
    # Abbreviations, `~`, a value template, availability. `val_tpl` is the basic light's fallback for every
    # value template (as in Home Assistant), so the plain Dimmer topic names its own.
    config = {
        "~": "tasmota/kitchen",
        "name": "Kitchen",
        "uniq_id": "A1B2C3_LI_1",
        "cmd_t": "~/cmnd/POWER",
        "stat_t": "~/tele/STATE",
        "val_tpl": "{{ value_json.POWER }}",
        "pl_on": "ON",
        "pl_off": "OFF",
        "bri_cmd_t": "~/cmnd/Dimmer",
        "bri_stat_t": "~/stat/Dimmer",
        "bri_scl": 100,
        "bri_val_tpl": "{{ value }}",
        "avty_t": "~/tele/LWT",
        "pl_avail": "Online",
        "pl_not_avail": "Offline",
        "dev": {"ids": ["A1B2C3"], "name": "Kitchen", "mf": "Tasmota", "mdl": "Sonoff Basic", "sa": "Kitchen"},
    }
    found = HomeAssistant().parse_discovery("homeassistant/light/A1B2C3_LI_1/config", json.dumps(config).encode())
    assert found is not None
    (light,) = found.devices
    assert (light.id, light.kind, light.area_hint, light.manufacturer) == (
        "ha:A1B2C3_LI_1",
        Kind.LIGHT,
        "Kitchen",
        "Tasmota",
    )
    codec = HomeAssistant()
    assert codec.decode(light, "tasmota/kitchen/tele/STATE", b'{"POWER": "ON", "Dimmer": 40}').values == {"on": True}
    assert codec.decode(light, "tasmota/kitchen/stat/Dimmer", b"40").values == {"brightness": 40}
    assert codec.decode(light, "tasmota/kitchen/tele/LWT", b"Offline").available is False
    msgs = codec.encode(light, implied(light, {"brightness": 30}))
    assert sorted(msgs) == [("tasmota/kitchen/cmnd/Dimmer", b"30"), ("tasmota/kitchen/cmnd/POWER", b"ON")]


def test_ha_json_light_and_brightness_scale() -> None:
    config = {
        "schema": "json",
        "name": "Lamp",
        "unique_id": "lamp1",
        "command_topic": "z/lamp/set",
        "state_topic": "z/lamp",
        "brightness": True,
        "supported_color_modes": ["color_temp", "rgb"],
    }
    (lamp,) = HomeAssistant().parse_discovery("homeassistant/light/lamp1/config", json.dumps(config).encode()).devices  # type: ignore[union-attr]
    codec = HomeAssistant()
    ((topic, payload),) = codec.encode(lamp, {"on": True, "brightness": 50, "color_temp": 2700, "rgb": [255, 0, 0]})
    assert topic == "z/lamp/set"
    assert json.loads(payload) == {
        "state": "ON",
        "brightness": 128,
        "color_temp": 370,
        "color": {"r": 255, "g": 0, "b": 0},
    }
    state = codec.decode(lamp, "z/lamp", b'{"state":"OFF","brightness":255,"color_temp":250}').values
    assert state == {"on": False, "brightness": 100, "color_temp": 4000}


def test_ha_device_level_discovery_with_components() -> None:
    config = {
        "dev": {"ids": "ea334450945afc", "name": "Kitchen", "mf": "Bla electronics"},
        "o": {"name": "fw"},
        "cmps": {
            "some_unique_component_id1": {
                "p": "sensor",
                "stat_t": "sensorBedroom/state",
                "val_tpl": "{{ value_json.temperature}}",
                "unique_id": "temp01ae_t",
                "unit_of_measurement": "°C",
            },
            "some_unique_id2": {"p": "switch", "cmd_t": "sw/set", "stat_t": "sw/state", "unique_id": "sw01"},
            "some_unique_id3": {"p": "camera", "topic": "cam"},
        },
        "stat_t": "sensorBedroom/state",
        "qos": 2,
    }
    found = HomeAssistant().parse_discovery("homeassistant/device/ea334450945afc/config", json.dumps(config).encode())
    assert found is not None
    kinds = {d.id: d.kind for d in found.devices}
    assert kinds == {"ha:temp01ae_t": Kind.SENSOR, "ha:sw01": Kind.SWITCH}
    sensor = next(d for d in found.devices if d.kind is Kind.SENSOR)
    assert sensor.attributes["value"].unit == "°C"
    assert HomeAssistant().decode(sensor, "sensorBedroom/state", b'{"temperature": 22.4}').values == {"value": 22.4}


def test_ha_empty_config_removes_and_other_platforms_are_ignored() -> None:
    codec = HomeAssistant()
    # An empty config withdraws what its topic announced (the hub knows which id that was).
    assert codec.parse_discovery("homeassistant/switch/x/config", b"").withdrawn == [  # type: ignore[union-attr]
        "homeassistant/switch/x/config"
    ]
    assert codec.parse_discovery("homeassistant/camera/x/config", b"{}").devices == []  # type: ignore[union-attr]
    assert codec.parse_discovery("zigbee2mqtt/x", b"{}") is None


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b"\xff\xfe", b'"a string"'])
def test_ha_malformed_configs_raise_a_coded_error(payload: bytes) -> None:
    with pytest.raises(InvalidPayload) as exc:
        HomeAssistant().parse_discovery("homeassistant/light/x/config", payload)
    assert exc.value.code == "DEVICE_BAD_PAYLOAD"


def test_z2m_bridge_devices_and_exposes() -> None:
    devices = [
        {"ieee_address": "0x00", "type": "Coordinator", "friendly_name": "Coordinator"},
        {
            "ieee_address": "0x01",
            "friendly_name": "hall/bulb",
            "type": "Router",
            "definition": {
                "vendor": "IKEA",
                "model": "LED1545G12",
                "exposes": [
                    {
                        "type": "light",
                        "features": [
                            {
                                "type": "binary",
                                "name": "state",
                                "property": "state",
                                "value_on": "ON",
                                "value_off": "OFF",
                                "access": 7,
                            },
                            {
                                "type": "numeric",
                                "name": "brightness",
                                "property": "brightness",
                                "value_min": 0,
                                "value_max": 254,
                                "access": 7,
                            },
                        ],
                    },
                    {"type": "numeric", "name": "linkquality", "property": "linkquality", "access": 1},
                ],
            },
        },
        {"ieee_address": "0x02", "friendly_name": "no definition yet"},
    ]
    codec = Zigbee2MQTT()
    found = codec.parse_discovery("zigbee2mqtt/bridge/devices", json.dumps(devices).encode())
    assert found is not None
    bulb = next(d for d in found.devices if d.kind is Kind.LIGHT)
    assert bulb.id == "z2m:0x01" and bulb.manufacturer == "IKEA" and set(bulb.attributes) == {"on", "brightness"}
    assert codec.encode(bulb, {"brightness": 100}) == [("zigbee2mqtt/hall/bulb/set", b'{"brightness":254}')]
    assert codec.decode(bulb, "zigbee2mqtt/hall/bulb", b'{"state":"ON","brightness":127,"linkquality":80}').values == {
        "on": True,
        "brightness": 50,
    }
    assert codec.decode(bulb, "zigbee2mqtt/hall/bulb/availability", b"offline").available is False  # legacy
    assert codec.decode(bulb, "zigbee2mqtt/hall/bulb/availability", b'{"state":"online"}').available is True
    assert codec.refresh(bulb) == [("zigbee2mqtt/hall/bulb/get", b'{"state": "", "brightness": ""}')]


def test_homie_description_and_values() -> None:
    desc = {
        "homie": "5.0",
        "version": 7,
        "name": "Porch",
        "nodes": {
            "light": {
                "name": "Porch light",
                "properties": {
                    "on": {"datatype": "boolean", "settable": True},
                    "brightness": {"datatype": "integer", "format": "0:255", "settable": True},
                },
            },
            "climate": {"name": "Porch sensor", "properties": {"temperature": {"datatype": "float", "unit": "°C"}}},
        },
    }
    codec = Homie()
    found = codec.parse_discovery("homie/5/porch/$description", json.dumps(desc).encode())
    assert found is not None
    light = next(d for d in found.devices if d.kind is Kind.LIGHT)
    sensor = next(d for d in found.devices if d.kind is Kind.SENSOR)
    assert light.id == "homie:porch/light" and sensor.attributes["value"].unit == "°C"
    assert sorted(codec.encode(light, {"on": True, "brightness": 100})) == [
        ("homie/5/porch/light/brightness/set", b"255"),
        ("homie/5/porch/light/on/set", b"true"),
    ]
    assert codec.decode(light, "homie/5/porch/$state", b"lost").available is False
    with pytest.raises(InvalidPayload):
        codec.parse_discovery("homie/5/porch/$description", b'{"homie": "4.0", "nodes": {}}')


def test_validation_of_command_values() -> None:
    found = HomeAssistant().parse_discovery(
        "homeassistant/light/l/config", b'{"schema":"json","cmd_t":"l/set","stat_t":"l","brightness":true}'
    )
    assert found is not None
    (lamp,) = found.devices
    attr = lamp.attributes["brightness"]
    assert attr.validate("30") == 30
    for bad in (101, -1, "bright", 2.5):
        with pytest.raises(InvalidCommand):
            attr.validate(bad)
    assert lamp.attributes["on"].validate("off") is False
    with pytest.raises(InvalidCommand):
        HomeAssistant().encode(lamp, {"color_temp": 3000})  # this lamp has no colour temperature
