"""Real device definitions, written from the formats' documentation (Zigbee2MQTT's exposes, Tasmota's
SetOption19 discovery, ESPHome's MQTT discovery), not from the hub's simulator: what each announces, the
state it starts in, a command and the state it must end in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from device_drivers import Kind


def binary(prop: str, on: Any = "ON", off: Any = "OFF", access: int = 7, **extra: Any) -> dict[str, Any]:
    return {
        "type": "binary",
        "name": prop,
        "property": prop,
        "access": access,
        "value_on": on,
        "value_off": off,
        **extra,
    }


def numeric(prop: str, access: int = 1, **extra: Any) -> dict[str, Any]:
    return {"type": "numeric", "name": prop, "property": prop, "access": access, **extra}


def enum(prop: str, values: list[str], access: int = 7) -> dict[str, Any]:
    return {"type": "enum", "name": prop, "property": prop, "access": access, "values": values}


LINK = numeric("linkquality", unit="lqi", value_min=0, value_max=255, category="diagnostic")
BATTERY = numeric("battery", unit="%", value_min=0, value_max=100, category="diagnostic")
VOLTAGE = numeric("voltage", unit="mV", category="diagnostic")
COLOR_XY = {
    "type": "composite",
    "name": "color_xy",
    "property": "color",
    "access": 7,
    "features": [numeric("x", 7), numeric("y", 7)],
}


def light(ct: tuple[int, int] | None, colour: bool) -> dict[str, Any]:
    features = [binary("state", value_toggle="TOGGLE"), numeric("brightness", 7, value_min=0, value_max=254)]
    if ct:
        features.append(numeric("color_temp", 7, unit="mired", value_min=ct[0], value_max=ct[1]))
    if colour:
        features.append(COLOR_XY)
    return {"type": "light", "features": features}


def z2m(ieee: str, name: str, vendor: str, model: str, exposes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ieee_address": ieee,
        "friendly_name": name,
        "type": "Router",
        "supported": True,
        "definition": {"vendor": vendor, "model": model, "exposes": [*exposes, LINK]},
    }


Z2M_DEVICES = [
    z2m(
        "0x000b57fffe8a1b01",
        "Kitchen Light",
        "IKEA",
        "LED1924G9",
        [light((250, 454), True), enum("power_on_behavior", ["off", "on", "toggle", "previous"])],
    ),
    z2m("0x0017880104a1b202", "Hallway Ceiling", "Philips", "9290022166", [light((153, 454), False)]),
    z2m("0x000d6ffffe1c2d03", "Coffee Machine", "IKEA", "E1603", [{"type": "switch", "features": [binary("state")]}]),
    z2m(
        "0xa4c138d2e1f0a404",
        "Washing Machine Plug",
        "TuYa",
        "TS011F_plug_1",
        [
            {"type": "switch", "features": [binary("state")]},
            numeric("power", unit="W"),
            numeric("energy", unit="kWh"),
            numeric("current", unit="A"),
            numeric("voltage", unit="V"),
        ],
    ),
    z2m(
        "0x680ae2fffe3b4c05",
        "Bedroom Blind",
        "IKEA",
        "E1757",
        [
            {
                "type": "cover",
                "features": [
                    enum("state", ["OPEN", "CLOSE", "STOP"], 3),
                    numeric("position", 7, value_min=0, value_max=100, unit="%"),
                ],
            },
            BATTERY,
        ],
    ),
    z2m(
        "0x00158d0003a1b206",
        "Office Radiator",
        "Eurotronic",
        "SPZB0001",
        [
            {
                "type": "climate",
                "features": [
                    numeric("occupied_heating_setpoint", 7, value_min=5, value_max=30, value_step=0.5, unit="°C"),
                    numeric("local_temperature", 5, unit="°C"),
                    enum("system_mode", ["off", "auto", "heat"]),
                ],
            },
            BATTERY,
        ],
    ),
    z2m(
        "0x000d6f0011c2d307",
        "Front Door Lock",
        "Yale",
        "YRD226HA2619",
        [
            {
                "type": "lock",
                "features": [binary("state", "LOCK", "UNLOCK"), enum("lock_state", ["locked", "unlocked"], 1)],
            },
            BATTERY,
        ],
    ),
    z2m(
        "0x00158d000224f108",
        "Front Door Contact",
        "Xiaomi",
        "MCCGQ11LM",
        [
            binary("contact", False, True, 1),
            BATTERY,
            VOLTAGE,
            numeric("device_temperature", unit="°C"),
            numeric("power_outage_count"),
        ],
    ),
    z2m(
        "0x00158d0002c5f109",
        "Bedroom Climate",
        "Xiaomi",
        "WSDCGQ11LM",
        [
            numeric("temperature", unit="°C"),
            numeric("humidity", unit="%"),
            numeric("pressure", unit="hPa"),
            BATTERY,
            VOLTAGE,
        ],
    ),
]
Z2M_STATES: dict[str, dict[str, Any]] = {
    "Kitchen Light": {
        "state": "ON",
        "brightness": 254,
        "color": {"x": 0.4599, "y": 0.4106},
        "color_mode": "xy",
        "color_temp": 370,
        "linkquality": 120,
        "power_on_behavior": "previous",
    },
    "Hallway Ceiling": {
        "state": "OFF",
        "brightness": 127,
        "color_temp": 366,
        "color_mode": "color_temp",
        "linkquality": 90,
    },
    "Coffee Machine": {"state": "OFF", "linkquality": 80},
    "Washing Machine Plug": {
        "state": "ON",
        "power": 1930,
        "energy": 12.4,
        "current": 8.5,
        "voltage": 229,
        "linkquality": 60,
    },
    "Bedroom Blind": {"state": "CLOSE", "position": 0, "battery": 87, "linkquality": 70},
    "Office Radiator": {
        "occupied_heating_setpoint": 20,
        "local_temperature": 19.5,
        "system_mode": "heat",
        "battery": 100,
        "linkquality": 50,
    },
    "Front Door Lock": {"state": "LOCK", "lock_state": "locked", "battery": 64, "linkquality": 40},
    "Front Door Contact": {
        "contact": True,
        "battery": 91,
        "voltage": 3005,
        "device_temperature": 22,
        "power_outage_count": 3,
        "linkquality": 110,
    },
    "Bedroom Climate": {
        "temperature": 21.3,
        "humidity": 48.2,
        "pressure": 1008.5,
        "battery": 95,
        "voltage": 2985,
        "linkquality": 100,
    },
}


def tasmota_light(topic: str, mac: str, name: str) -> dict[str, dict[str, Any]]:
    """Tasmota's SetOption19 light, as xdrv_12_home_assistant publishes it for an RGBCCT bulb."""
    result = f"stat/{topic}/RESULT"
    return {
        f"homeassistant/light/{mac}_LI_1/config": {
            "name": name,
            "cmd_t": f"cmnd/{topic}/POWER",
            "stat_t": result,
            "val_tpl": "{{value_json.POWER}}",
            "pl_off": "OFF",
            "pl_on": "ON",
            "avty_t": f"tele/{topic}/LWT",
            "pl_avail": "Online",
            "pl_not_avail": "Offline",
            "uniq_id": f"{mac}_LI_1",
            "dev": {"ids": [mac], "name": name, "mdl": "RGBCCT", "sw": "9.1.0(tasmota)", "mf": "Tasmota"},
            "bri_cmd_t": f"cmnd/{topic}/Dimmer",
            "bri_stat_t": result,
            "bri_scl": 100,
            "on_cmd_type": "brightness",
            "bri_val_tpl": "{{value_json.Dimmer}}",
            "rgb_cmd_t": f"cmnd/{topic}/Color2",
            "rgb_stat_t": result,
            "rgb_val_tpl": "{{value_json.Color.split(',')[0:3]|join(',')}}",
            "clr_temp_cmd_t": f"cmnd/{topic}/CT",
            "clr_temp_stat_t": result,
            "clr_temp_val_tpl": "{{value_json.CT}}",
        }
    }


def tasmota_relays(topic: str, mac: str, names: list[str], model: str) -> dict[str, dict[str, Any]]:
    configs = {}
    for n, name in enumerate(names, 1):
        power = "POWER" if len(names) == 1 else f"POWER{n}"
        configs[f"homeassistant/switch/{mac}_RL_{n}/config"] = {
            "name": name,
            "cmd_t": f"cmnd/{topic}/{power}",
            "stat_t": f"stat/{topic}/RESULT",
            "val_tpl": f"{{{{value_json.{power}}}}}",
            "pl_off": "OFF",
            "pl_on": "ON",
            "avty_t": f"tele/{topic}/LWT",
            "pl_avail": "Online",
            "pl_not_avail": "Offline",
            "uniq_id": f"{mac}_RL_{n}",
            "dev": {"ids": [mac], "name": names[0] if len(names) == 1 else model, "mdl": model, "mf": "Tasmota"},
        }
    return configs


TASMOTA_SENSOR = {
    "homeassistant/sensor/C4D5E6_AM2301_Temperature/config": {
        "name": "Porch Temperature",
        "stat_t": "tele/porch/SENSOR",
        "avty_t": "tele/porch/LWT",
        "pl_avail": "Online",
        "pl_not_avail": "Offline",
        "uniq_id": "C4D5E6_AM2301_Temperature",
        "dev_cla": "temperature",
        "unit_of_meas": "°C",
        "val_tpl": "{{value_json['AM2301'].Temperature}}",
        "dev": {"ids": ["C4D5E6"], "name": "Porch", "mf": "Tasmota", "mdl": "Sonoff TH"},
    }
}


def esphome(node: str, component: str, object_id: str, name: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    base = f"{node}/{component}/{object_id}"
    config = {
        "name": name,
        "stat_t": f"{base}/state",
        "avty_t": f"{node}/status",
        "uniq_id": f"ESP{component}{object_id}",
        "dev": {
            "ids": f"{node}-2462abcd",
            "name": node.replace("-", " ").title(),
            "sw": "esphome v2024.5.0",
            "mdl": "esp32dev",
            "mf": "espressif",
        },
        **extra,
    }
    if component not in ("sensor", "binary_sensor"):
        config["cmd_t"] = f"{base}/command"
    return f"homeassistant/{component}/{node}/{object_id}/config", config


LIVING = "living-room"
ESPHOME_CONFIGS = dict(
    [
        esphome(
            LIVING,
            "light",
            "tv_strip",
            "TV Strip",
            schema="json",
            brightness=True,
            clrm=True,
            sup_clrm=["rgb", "color_temp"],
            min_mirs=153,
            max_mirs=500,
        ),
        esphome(
            LIVING,
            "fan",
            "ceiling_fan",
            "Ceiling Fan",
            pct_stat_t=f"{LIVING}/fan/ceiling_fan/speed_level/state",
            pct_cmd_t=f"{LIVING}/fan/ceiling_fan/speed_level/command",
            spd_rng_max=3,
        ),
        esphome(
            LIVING,
            "cover",
            "curtains",
            "Curtains",
            pos_t=f"{LIVING}/cover/curtains/position/state",
            set_pos_t=f"{LIVING}/cover/curtains/position/command",
            dev_cla="curtain",
        ),
        esphome(
            LIVING,
            "climate",
            "heat_pump",
            "Heat Pump",
            mode_cmd_t=f"{LIVING}/climate/heat_pump/mode/command",
            mode_stat_t=f"{LIVING}/climate/heat_pump/mode/state",
            modes=["off", "heat", "cool", "auto"],
            temp_cmd_t=f"{LIVING}/climate/heat_pump/target_temperature/command",
            temp_stat_t=f"{LIVING}/climate/heat_pump/target_temperature/state",
            curr_temp_t=f"{LIVING}/climate/heat_pump/current_temperature/state",
            min_temp=16,
            max_temp=30,
            temp_step=0.5,
        ),
        esphome(LIVING, "switch", "aquarium_pump", "Aquarium Pump"),
        esphome(
            LIVING,
            "sensor",
            "wifi_signal",
            "WiFi Signal",
            unit_of_meas="dBm",
            dev_cla="signal_strength",
            stat_cla="measurement",
            ent_cat="diagnostic",
        ),
        esphome(LIVING, "binary_sensor", "motion", "Motion", dev_cla="motion"),
    ]
)
ESPHOME_CONFIGS.update(
    dict([esphome("garage-door", "lock", "side_door", "Side Door", pl_lock="LOCK", pl_unlk="UNLOCK", pl_open="OPEN")])
)
ESPHOME_STATES = {
    f"{LIVING}/light/tv_strip/state": {
        "state": "OFF",
        "color_mode": "rgb",
        "brightness": 255,
        "color": {"r": 255, "g": 255, "b": 255},
        "color_temp": 370,
    },
    f"{LIVING}/fan/ceiling_fan/state": "OFF",
    f"{LIVING}/fan/ceiling_fan/speed_level/state": "0",
    f"{LIVING}/cover/curtains/state": "closed",
    f"{LIVING}/cover/curtains/position/state": "0",
    f"{LIVING}/climate/heat_pump/mode/state": "off",
    f"{LIVING}/climate/heat_pump/target_temperature/state": "21.0",
    f"{LIVING}/climate/heat_pump/current_temperature/state": "19.8",
    f"{LIVING}/switch/aquarium_pump/state": "ON",
    f"{LIVING}/sensor/wifi_signal/state": "-61",
    f"{LIVING}/binary_sensor/motion/state": "OFF",
}
GARAGE_STATES = {"garage-door/lock/side_door/state": "LOCKED"}


@dataclass
class Case:
    """One device: the name the hub must give it, what it reads first, and a command it must confirm."""

    ref: str
    kind: Kind
    read: dict[str, Any]
    command: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)  # the state it reached (defaults to the command)


CASES = [
    Case("Kitchen Light", Kind.LIGHT, {"on": True, "brightness": 100, "color_mode": "xy"}, {"rgb": [255, 0, 0]}),
    Case(
        "Hallway Ceiling",
        Kind.LIGHT,
        {"on": False, "brightness": 50, "color_temp": 2732},
        {"color_temp": 2700, "brightness": 80},
    ),
    Case("Coffee Machine", Kind.SWITCH, {"on": False}, {"on": True}),
    Case("Washing Machine Plug", Kind.SWITCH, {"on": True}, {"on": False}),
    Case("Bedroom Blind", Kind.COVER, {"state": "closed", "position": 0}, {"position": 60}),
    Case(
        "Office Radiator",
        Kind.CLIMATE,
        {"target_temperature": 20, "mode": "heat", "current_temperature": 19.5},
        {"target_temperature": 22.5},
    ),
    Case("Front Door Lock", Kind.LOCK, {"locked": True}, {"locked": False}),
    Case("Front Door Contact", Kind.BINARY_SENSOR, {"on": False}),
    Case("Bedroom Climate Temperature", Kind.SENSOR, {"value": 21.3}),
    Case("Sofa Lamp", Kind.LIGHT, {"on": False}, {"on": True, "brightness": 60}),
    Case("Boiler", Kind.SWITCH, {"on": False}, {"on": True}),
    Case("Porch Temperature", Kind.SENSOR, {"value": 17.5}),
    Case("Living Room TV Strip", Kind.LIGHT, {"on": False}, {"rgb": [0, 0, 255], "brightness": 50}, {"on": True}),
    Case("Living Room Ceiling Fan", Kind.FAN, {"on": False, "percentage": 0}, {"percentage": 66}, {"on": True}),
    Case("Living Room Curtains", Kind.COVER, {"state": "closed"}, {"state": "open"}, {"position": 100}),
    Case(
        "Living Room Heat Pump",
        Kind.CLIMATE,
        {"mode": "off", "target_temperature": 21.0},
        {"mode": "heat", "target_temperature": 23},
    ),
    Case("Living Room Aquarium Pump", Kind.SWITCH, {"on": True}, {"on": False}),
    Case("Garage Door Side Door", Kind.LOCK, {"locked": True}, {"locked": False}),
    Case("Living Room Motion", Kind.BINARY_SENSOR, {"on": False}),
    Case("Dual Relay Heater", Kind.SWITCH, {"on": False}, {"on": True}),
]


TASMOTA_FIRMWARE: dict[str, tuple[dict[str, dict[str, Any]], dict[str, Any]]] = {
    "sofa": (
        tasmota_light("sofa", "5A1B2C", "Sofa Lamp"),
        {"POWER": "OFF", "Dimmer": 100, "CT": 300, "rgb": [255, 255, 255], "mode": "ct"},
    ),
    "boiler": (tasmota_relays("boiler", "A0B1C2", ["Boiler"], "Sonoff Basic"), {"POWER": "OFF"}),
    "dualr2": (
        tasmota_relays("dualr2", "D1D2D3", ["Dual Relay Heater", "Dual Relay Fan"], "Dual Relay"),
        {"POWER1": "OFF", "POWER2": "ON"},
    ),
    "porch": (TASMOTA_SENSOR, {"AM2301": {"Temperature": 17.5, "Humidity": 60.1}}),
}
