"""Names the brain shares: its routes, Home Assistant's intents, and the words each device class
uses for its states ("wet" for a moisture sensor, "low" for a battery), so that a reply says
"the Garage Door is open" where a bare binary sensor would only know "on"."""

from __future__ import annotations

import re
from enum import StrEnum

# Home Assistant's color_temperature_names (English): "set the spotlights to warm white". A name asks
# for a kind of light, not a number, so the planner clamps it to the bulb, and the reply says the name.
NAMED_WHITES = re.compile(r"\b(?:candle ?light|warm white|cold white|cool white|day ?light)\b", re.IGNORECASE)


class Route(StrEnum):
    """Which part of the brain answered a turn (as Home Assistant's assist pipeline names its stages)."""

    CONFIRM = "confirm"
    BUILTIN = "builtin"
    LOCAL_MEMORY = "local-memory"
    LOCAL_INTENT = "local-intent"
    LOCAL_LLM = "local-llm"
    CLOUD = "cloud"


class Intent(StrEnum):
    """Home Assistant's intent names (home-assistant-intents), plus the few of the hub's own."""

    TURN_ON = "HassTurnOn"
    TURN_OFF = "HassTurnOff"
    TOGGLE = "HassToggle"
    LIGHT_SET = "HassLightSet"
    SET_POSITION = "HassSetPosition"
    FAN_SET_SPEED = "HassFanSetSpeed"
    CLIMATE_SET_TEMPERATURE = "HassClimateSetTemperature"
    CLIMATE_GET_TEMPERATURE = "HassClimateGetTemperature"
    GET_STATE = "HassGetState"
    VACUUM_START = "HassVacuumStart"
    VACUUM_RETURN = "HassVacuumReturnToBase"
    START_TIMER = "HassStartTimer"
    CANCEL_TIMER = "HassCancelTimer"
    CANCEL_ALL_TIMERS = "HassCancelAllTimers"
    INCREASE_TIMER = "HassIncreaseTimer"
    DECREASE_TIMER = "HassDecreaseTimer"
    PAUSE_TIMER = "HassPauseTimer"
    UNPAUSE_TIMER = "HassUnpauseTimer"
    TIMER_STATUS = "HassTimerStatus"
    GET_TIME = "HassGetCurrentTime"
    GET_DATE = "HassGetCurrentDate"
    NEVERMIND = "HassNevermind"
    SHOPPING_ADD = "HassShoppingListAddItem"
    SHOPPING_COMPLETE = "HassShoppingListCompleteItem"
    LIST_ADD = "HassListAddItem"
    LIST_COMPLETE = "HassListCompleteItem"
    LIST_REMOVE = "HassListRemoveItem"
    LIST_GET = "CompanionListGetItems"  # ours: "what's on my shopping list"
    TOOL_CALL = "ToolCall"  # the small LLM's validated call


def _table(text: str) -> dict[str, str]:
    """ "a: b; c: d" -> {"a": "b", "c": "d"}: long word tables stay readable and short."""
    pairs = (item.split(":") for item in text.split(";") if item.strip())
    return {k.strip(): v.strip() for k, v in pairs}


# What the hub acts on or answers from its own devices.
DEVICE_INTENTS = frozenset(
    {Intent.TURN_ON, Intent.TURN_OFF, Intent.TOGGLE, Intent.LIGHT_SET, Intent.SET_POSITION, Intent.FAN_SET_SPEED}
    | {Intent.CLIMATE_SET_TEMPERATURE, Intent.CLIMATE_GET_TEMPERATURE, Intent.GET_STATE}
    | {Intent.VACUUM_START, Intent.VACUUM_RETURN}
)
TIMER_INTENTS = frozenset(
    {Intent.START_TIMER, Intent.CANCEL_TIMER, Intent.CANCEL_ALL_TIMERS, Intent.INCREASE_TIMER}
    | {Intent.DECREASE_TIMER, Intent.PAUSE_TIMER, Intent.UNPAUSE_TIMER, Intent.TIMER_STATUS}
)
LIST_INTENTS = frozenset(
    {Intent.SHOPPING_ADD, Intent.SHOPPING_COMPLETE, Intent.LIST_ADD, Intent.LIST_COMPLETE, Intent.LIST_REMOVE}
    | {Intent.LIST_GET}
)
CLOCK_INTENTS = frozenset({Intent.GET_TIME, Intent.GET_DATE})
# Home Assistant intents for things the hub cannot control yet: matched so that the answer is an
# honest "I can't", never a guess on some other device.
MEDIA_INTENTS = frozenset(
    [
        "HassMediaPause",
        "HassMediaUnpause",
        "HassMediaNext",
        "HassMediaPrevious",
        "HassSetVolume",
        "HassSetVolumeRelative",
        "HassMediaPlayerMute",
        "HassMediaPlayerUnmute",
        "HassMediaSearchAndPlay",
    ]
)
UNSUPPORTED_INTENTS = frozenset(
    [
        "HassVacuumCleanArea",
        "HassLawnMowerStartMowing",
        "HassLawnMowerDock",
        "HassClimateSetFanMode",
        "HassBroadcast",
    ]
)
# Domains the templates name that the hub cannot act on yet.
# (Valves, vacuums, scenes and buttons it can: `planner.py` acts on them only as their intents say.)
UNSUPPORTED_DOMAINS = frozenset(
    [
        "media_player",
        "script",
        "input_button",
        "input_boolean",
        "lawn_mower",
        "todo",
    ]
)

# Binary sensors: the words for "on" and "off", per Home Assistant device class.
BINARY_STATES: dict[str, tuple[str, str]] = {
    k: (v.split("/")[0], v.split("/")[1])
    for k, v in _table(
        "battery: low/normal; battery_charging: charging/not charging; cold: cold/normal; connectivity: "
        "connected/disconnected; door: open/closed; garage_door: open/closed; gas: detected/clear; heat: hot/normal;"
        "light: detecting light/dark; lock: unlocked/locked; moisture: wet/dry; motion: detected/clear; moving: "
        "moving/still; occupancy: occupied/clear; opening: open/closed; plug: plugged in/unplugged; power: on/off;"
        "presence: home/away; problem: a problem/OK; running: running/not running; safety: unsafe/safe; smoke: "
        "detected/clear; sound: detected/clear; tamper: tampered/clear; update: update available/up to date;"
        "vibration: detected/clear; window: open/closed; carbon_monoxide: detected/clear"
    ).items()
}
# The noun a reply adds after a binary sensor's name, as HA's response templates name the class:
# "the Phone battery is low", not "the Phone is low".
CLASS_SUBJECTS = {"battery": "battery", "battery_charging": "battery"}
# What a user may say of a binary sensor's state: True when it means "on".
BINARY_WORDS: dict[str, bool] = {
    word: meaning == "on"
    for word, meaning in _table(
        "on: on; off: off; open: on; opened: on; closed: off; shut: off; low: on; normal: off; ok: off; okay: off;"
        "wet: on; dry: off; detected: on; triggered: on; active: on; clear: off; occupied: on; empty: off;"
        "unoccupied: off; connected: on; disconnected: off; charging: on; home: on; away: off; running: on;"
        "hot: on; cold: on; moving: on; still: off; unlocked: on; locked: off; plugged in: on; unplugged: off;"
        "safe: off; unsafe: on; vibrating: on; powered: on; powered on: on; update available: on; up to date: off;"
        "tampered: on; not running: off"
    ).items()
}
# Words that belong to some device classes only ("wet" is never a door's state).
CLASS_WORDS: dict[str, frozenset[str]] = {
    word: frozenset(classes.split())
    for word, classes in _table(
        "low: battery; normal: battery cold heat; wet: moisture; dry: moisture; charging: battery_charging;"
        "connected: connectivity; disconnected: connectivity; hot: heat; cold: cold; home: presence;"
        "away: presence"
    ).items()
}
# The classes a state word belongs to (BINARY_STATES turned round, and a few more words people use), for a
# question that names no device or says another class: "which devices are connected?", "is anything
# vibrating?", "are any batteries charging?". Not the words locks, covers and every switch answer to too.
STATE_CLASSES: dict[str, frozenset[str]] = {
    word: frozenset(cls for cls, words in BINARY_STATES.items() if word in words)
    for word in {w for words in BINARY_STATES.values() for w in words}
    - {"on", "off", "open", "closed", "locked", "unlocked"}
} | {"vibrating": frozenset({"vibration"}), "powered": frozenset({"power"}), "powered on": frozenset({"power"})}
# A unit said after a temperature, as Home Assistant's `temperature_unit` slot names it.
TEMPERATURE_UNITS = _table("c: celsius; celsius: celsius; centigrade: celsius; f: fahrenheit; fahrenheit: fahrenheit")
# A user's word for a kind of sensor -> its Home Assistant device class.
SENSOR_NOUNS = _table(
    "temperature: temperature; humidity: humidity; air pressure: pressure; pressure: pressure; barometric "
    "pressure: pressure; power: power; power usage: power; energy: energy; illuminance: illuminance; light level:"
    "illuminance; co2: carbon_dioxide; carbon dioxide: carbon_dioxide; battery level: battery; wind speed: "
    "wind_speed"
)
BINARY_NOUNS = _table(
    "water: moisture; leak: moisture; moisture: moisture; flood: moisture; motion: motion; movement: motion;"
    "occupancy: occupancy; presence: presence; door: door; window: window; garage door: garage_door; smoke: smoke;"
    "gas: gas; battery: battery; batteries: battery; vibration: vibration; carbon monoxide: carbon_monoxide;"
    "opening: opening; sound: sound; noise: sound"
)
# How a reply names a kind: "there is no lock in the Kitchen".
KIND_NOUNS = _table(
    "light: light; switch: switch; fan: fan; cover: cover; lock: lock; climate: thermostat; sensor: sensor;"
    "binary_sensor: sensor; valve: valve; media_player: media player; scene: scene; vacuum: vacuum; script: "
    "script; button: button; select: select"
)
