"""The JSON shapes of each convention for the discovery fuzzer: mostly well-formed (so devices are taken,
decoded and commanded), then spoilt a field or two at a time with wrong types, odd topics, and numbers
that are not."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e999, 10**400, "inf", "nan", "1e999", "-0", "0x10", ""]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=12))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
# Topics a device could give: its own, wildcards, NUL and control characters, `$`, another device's (the
# anchor's), a convention's own, empty, too long, or not a string at all.
ODD_TOPICS = [
    "#",
    "+/x",
    "a/+/b",
    "$SYS/x",
    "",
    "a\x00b",
    "a\x01b",
    "a\ufffeb",
    "~/set",
    "~",
    "x" * 70_000,
    "sim/anchor/set",
    "sim/anchor/state",
    "zigbee2mqtt/bridge/request/permit_join",
    "homeassistant/status",
    "homeassistant/lock/anchor/config",
    "homie/5/fz/$state",
    "zigbee2mqtt/bridge/state",
]
TOPICS = st.one_of(
    st.sampled_from(["fz/a/set", "fz/a/state", "fz/b/set", "fz/b", *ODD_TOPICS]),
    st.text(max_size=10).map(lambda t: f"fz/{t}"),
    VALUES,
)
PAYLOADS = st.one_of(
    st.sampled_from(
        [
            b"ON",
            b"OFF",
            b"inf",
            b"nan",
            b"1e999",
            b"-1",
            b"LOCKED",
            b"open",
            b"",
            b"\xff\xfe",
            b"[" * 3000,
            b'{"state": "ON", "brightness": 1e999}',
        ]
    ),
    VALUES.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
)


def _json(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


# --- Home Assistant: component configs, abbreviated or not, and device configs with components

HA_TOPIC_KEYS = ["cmd_t", "stat_t", "avty_t", "bri_cmd_t", "bri_stat_t", "clr_temp_cmd_t", "rgb_cmd_t", "pct_cmd_t"]
HA_TOPIC_KEYS += ["pos_t", "set_pos_t", "mode_cmd_t", "mode_stat_t", "temp_cmd_t", "temp_stat_t", "curr_temp_t"]
HA_TOPIC_KEYS += ["command_topic", "state_topic", "json_attr_t"]
HA_OTHER_KEYS = ["name", "uniq_id", "pl_on", "pl_off", "stat_on", "pl_lock", "pl_unlk", "val_tpl", "~", "schema"]
HA_OTHER_KEYS += ["sup_clrm", "modes", "dev", "availability", "dev_cla", "brightness", "color_temp_kelvin"]
HA_OTHER_KEYS += ["bri_scl", "min_temp", "max_temp", "min_mirs", "unit_of_meas"]
# Mostly well-formed configs, so devices are taken and then decoded and commanded; then a few fields spoilt.
OWN = st.sampled_from(["fz/a", "fz/b", "fz/c", "fz/d", "fz/e"])
SET, STATE = OWN.map(lambda t: f"{t}/set"), OWN.map(lambda t: f"{t}/state")
NAMES = st.sampled_from(["Fz Lamp", "Fz \x1b[2J Plug", "\u202eFz", "Fz " + "x" * 200]) | st.text(max_size=10)
GOOD = {
    "light": {
        "cmd_t": SET,
        "stat_t": STATE,
        "bri_cmd_t": SET,
        "bri_stat_t": STATE,
        "bri_scl": st.integers(1, 1000),
        "schema": st.sampled_from(["json", "basic"]),
        "sup_clrm": st.lists(st.sampled_from(["onoff", "brightness", "color_temp", "rgb"]), max_size=2),
    },
    "switch": {"cmd_t": SET, "stat_t": STATE, "pl_on": st.sampled_from(["ON", "1", "UNLOCK"])},
    "lock": {"cmd_t": SET, "stat_t": STATE},
    "cover": {"cmd_t": SET, "stat_t": STATE, "pos_t": STATE, "set_pos_t": SET, "dev_cla": st.sampled_from(["garage"])},
    "climate": {
        "mode_cmd_t": SET,
        "mode_stat_t": STATE,
        "temp_cmd_t": SET,
        "temp_stat_t": STATE,
        "min_temp": st.floats(0, 20),
        "max_temp": st.floats(20, 40),
        "modes": st.just(["heat", "off"]),
    },
    "fan": {"cmd_t": SET, "stat_t": STATE, "pct_cmd_t": SET, "pct_stat_t": STATE},
    "sensor": {"stat_t": STATE, "val_tpl": st.sampled_from(["{{ value_json.v }}", "{{ value }}"])},
    "binary_sensor": {"stat_t": STATE},
}
SPOILT = st.dictionaries(st.sampled_from(HA_TOPIC_KEYS + HA_OTHER_KEYS), TOPICS | NUMBERS | VALUES, max_size=2)
UNIQUE = st.sampled_from(["fz1", "fz2", "fz3", "fz4", "fz5", "fz6", "anchor", "fuzz_sentinel"])


def _ha_config(component: str) -> st.SearchStrategy[dict[str, Any]]:
    good = st.fixed_dictionaries({"name": NAMES, "uniq_id": UNIQUE, **GOOD.get(component, {})})
    return st.builds(lambda g, s: {**g, **s}, good, st.one_of(st.just({}), st.just({}), SPOILT))


@st.composite
def ha_messages(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    messages = []
    for n in range(draw(st.integers(1, 4))):
        object_id = draw(st.sampled_from(["fz1", "fz2", "fz3", "fz_node/fz4"]))
        if draw(st.integers(0, 3)) < 3:
            component = draw(st.sampled_from([*GOOD, "camera"]))
            config = _ha_config(component).map(_json)
            payload = draw(st.one_of(config, config, config, st.sampled_from([b"{", b"[]", b"null"]), PAYLOADS))
            messages.append((f"homeassistant/{component}/{object_id}/config", payload))
        else:
            platforms = st.sampled_from([*GOOD, "camera"])
            component = platforms.flatmap(lambda p: _ha_config(p).map(lambda c, p=p: {"p": p, **c}))
            cmps = draw(st.dictionaries(st.sampled_from(["a", "b", "c"]), component | VALUES, min_size=1, max_size=3))
            shared = draw(st.fixed_dictionaries({}, optional={"dev": VALUES, "~": TOPICS, "o": VALUES}))
            messages.append((f"homeassistant/device/fzdev{n}/config", _json({**shared, "cmps": cmps})))
    return messages


def _spoil(good: st.SearchStrategy[dict[str, Any]], keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A well-formed object, left alone three times in four, else with a field or two of the wrong shape."""
    bad = st.dictionaries(st.sampled_from(keys), TOPICS | NUMBERS | VALUES, min_size=1, max_size=2)
    return st.builds(lambda g, b: {**g, **b}, good, st.one_of(st.just({}), st.just({}), st.just({}), bad))


# --- Zigbee2MQTT: the bridge's device list, then state on the devices' topics


def _feature(name: str, kind: str = "numeric", **extra: Any) -> dict[str, Any]:
    return {"name": name, "property": name, "type": kind, "access": 7, **extra}


Z2M_FEATURES = {
    "light": [
        _feature("state", "binary", value_on="ON", value_off="OFF"),
        _feature("brightness", value_max=254),
        _feature("color_temp", value_max=500),
        _feature("color_xy", "composite", property="color"),
    ],
    "switch": [_feature("state", "binary", value_on="ON", value_off="OFF")],
    "lock": [_feature("state", "binary", value_on="LOCK", value_off="UNLOCK")],
    "cover": [_feature("state", "enum"), _feature("position", value_max=100)],
    "climate": [
        _feature("system_mode", "enum"),
        _feature("occupied_heating_setpoint"),
        _feature("local_temperature", access=1),
    ],
    "fan": [_feature("fan_state", "binary", value_on="ON", value_off="OFF"), _feature("percentage")],
}
FEATURE_KEYS = ["name", "property", "type", "access", "value_max", "value_on", "value_off"]
EXPOSE = st.sampled_from(sorted(Z2M_FEATURES)).flatmap(
    lambda kind: st.fixed_dictionaries(
        {
            "type": st.just(kind),
            "features": st.lists(_spoil(st.sampled_from(Z2M_FEATURES[kind]), FEATURE_KEYS), min_size=1, max_size=4),
        }
    )
) | st.fixed_dictionaries(
    {
        "type": st.sampled_from(["numeric", "binary"]),
        "name": st.sampled_from(["temperature", "occupancy"]),
        "property": st.sampled_from(["temperature", "occupancy"]),
        "access": st.sampled_from([1, 5]),
    }
)
FRIENDLY = st.sampled_from(
    ["fz bulb", "fz/plug", "fz lock", "fz+plus", "fz#", "bridge/request/permit_join", "fz\x00nul", "$fz", "a" * 300, ""]
)
Z2M_ENTRY = _spoil(
    st.fixed_dictionaries(
        {
            "ieee_address": st.sampled_from(["0xfz01", "0xfz02", "0xfz03"]),
            "friendly_name": st.sampled_from(["fz bulb", "fz/plug", "fz lock"]) | FRIENDLY,
            "type": st.sampled_from(["Router", "EndDevice", "Router", "Coordinator"]),
            "definition": _spoil(
                st.fixed_dictionaries(
                    {
                        "vendor": st.just("Fz"),
                        "model": NAMES,
                        "exposes": st.lists(_spoil(EXPOSE, ["features", "type"]), min_size=1, max_size=3),
                    }
                ),
                ["exposes", "vendor"],
            ),
        }
    ),
    ["ieee_address", "friendly_name", "definition"],
)


@st.composite
def z2m_messages(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    entries = draw(st.lists(Z2M_ENTRY | VALUES, min_size=1, max_size=4))
    bridge = draw(st.one_of(st.just(_json(entries)), st.just(_json(entries)), PAYLOADS))
    states = [
        (
            f"zigbee2mqtt/{name}",
            draw(st.one_of(st.dictionaries(st.sampled_from([*FEATURE_NAMES, "color"]), VALUES).map(_json), PAYLOADS)),
        )
        for name in draw(st.lists(st.sampled_from(["fz bulb", "fz/plug", "fz lock"]), max_size=3))
    ]
    return [("zigbee2mqtt/bridge/devices", bridge), *states]


FEATURE_NAMES = ["state", "brightness", "color_temp", "position", "system_mode", "occupied_heating_setpoint"]
FEATURE_NAMES += ["local_temperature", "percentage", "fan_state"]


# --- Homie 5: a device's $description, then property values

HOMIE_NODES = {
    "light": {
        "on": {"datatype": "boolean", "settable": True},
        "brightness": {"datatype": "integer", "format": "0:255", "settable": True},
    },
    "switch": {"on": {"datatype": "boolean", "settable": True}},
    "lock": {"locked": {"datatype": "boolean", "settable": True}},
    "cover": {"state": {"datatype": "enum", "settable": True}, "position": {"datatype": "integer", "settable": True}},
    "climate": {
        "mode": {"datatype": "enum", "settable": True},
        "target-temperature": {"datatype": "float", "settable": True},
    },
    "sensor": {"temperature": {"datatype": "float", "unit": "°C"}},
}
PROPERTY_KEYS = ["datatype", "settable", "format", "unit"]
PROPERTY_IDS = ["on", "brightness", "locked", "state", "position", "mode", "target-temperature", "temperature"]
NODE = st.sampled_from(sorted(HOMIE_NODES)).flatmap(
    lambda kind: _spoil(
        st.fixed_dictionaries(
            {
                "type": st.just(kind),
                "name": NAMES,
                "properties": st.fixed_dictionaries(
                    {p: _spoil(st.just(spec), PROPERTY_KEYS) for p, spec in HOMIE_NODES[kind].items()}
                ),
            }
        ),
        ["type", "name", "properties"],
    )
)
DESCRIPTION = _spoil(
    st.fixed_dictionaries(
        {
            "homie": st.just("5.0"),
            "name": NAMES,
            "nodes": st.dictionaries(st.sampled_from(["n1", "n2", "n3", "$n", "n+4"]), NODE, min_size=1, max_size=3)
            | VALUES,
        }
    ),
    ["homie", "nodes", "name"],
)


@st.composite
def homie_messages(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    device = draw(st.sampled_from(["fzdev", "fz-2", "fz_3"]))
    description = draw(st.one_of(DESCRIPTION.map(_json), DESCRIPTION.map(_json), PAYLOADS, st.just(b"")))
    values = [
        (f"homie/5/{device}/{node}/{prop}", draw(PAYLOADS))
        for node, prop in draw(
            st.lists(st.tuples(st.sampled_from(["n1", "n2"]), st.sampled_from(PROPERTY_IDS)), max_size=4)
        )
    ]
    return [(f"homie/5/{device}/$description", description), *values]
