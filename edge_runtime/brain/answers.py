"""Answers to questions about devices, in Home Assistant's response forms: one device's state
("The Outside Temperature is 12.5 °C"), yes or no for one ("No, the Garage Door is closed"), and
over several: are any, are all, which, how many. Each device class speaks its own words: a leak
sensor is wet or dry, a battery low or normal, a door open or closed, never "on".
"""

from __future__ import annotations

from typing import Any

from device_drivers import Kind
from edge_runtime.brain.intents import IntentMatch
from edge_runtime.brain.replies import say, state_word
from edge_runtime.brain.vocab import BINARY_STATES, BINARY_WORDS, CLASS_SUBJECTS, CLASS_WORDS, KIND_NOUNS, Intent
from edge_runtime.devices.registry import DeviceRecord


def current(rec: DeviceRecord) -> str | None:
    """The device's state as a word ("on", "locked", "wet", "12.5 °C"), or None if unknown."""
    state, kind = rec.state, rec.device.kind
    if kind is Kind.SENSOR:
        if state.get("value") is None:
            return None
        attr = rec.device.attributes.get("value")
        unit = f" {attr.unit}" if attr is not None and attr.unit else ""
        return f"{state['value']:g}{unit}" if isinstance(state["value"], float | int) else f"{state['value']}{unit}"
    if kind is Kind.LOCK and "locked" in state:
        return "locked" if state["locked"] else "unlocked"
    if kind is Kind.VACUUM and state.get("state"):
        return str(state["state"])  # cleaning, docked, returning... (Home Assistant's vacuum states)
    if kind is Kind.SELECT and state.get("option"):
        return str(state["option"])
    if kind in (Kind.COVER, Kind.VALVE) and ("state" in state or "position" in state):
        word = str(state.get("state") or ("open" if state.get("position") else "closed"))
        return {"close": "closed", "stopped": "open" if state.get("position") else "closed"}.get(word, word)
    if kind is Kind.CLIMATE and "mode" in state:
        return str(state["mode"])
    if "on" in state:
        if kind is Kind.BINARY_SENSOR:
            on_word, off_word = BINARY_STATES.get(rec.device.device_class, ("on", "off"))
            return on_word if state["on"] else off_word
        return "on" if state["on"] else "off"
    return None


def subject(rec: DeviceRecord, language: str = "en") -> str:
    """The device as a reply's subject: its name, plus its class's noun where the state word needs
    one ("the Phone battery is low"), unless the name already says it. English nouns only."""
    binary = rec.device.kind is Kind.BINARY_SENSOR and language == "en"
    noun = CLASS_SUBJECTS.get(rec.device.device_class or "") if binary else None
    return f"{rec.name} {noun}" if noun and noun not in rec.name.lower() else rec.name


def is_in(rec: DeviceRecord, wanted: str) -> bool:
    """Whether the device is in the state the user asked about ("wet", "open", "locked", "on")."""
    wanted = wanted.lower()
    if rec.device.kind is Kind.BINARY_SENSOR:
        if "on" not in rec.state or wanted not in BINARY_WORDS:
            return False
        classes = CLASS_WORDS.get(wanted)
        if classes is not None and rec.device.device_class not in classes:
            return False
        return bool(rec.state["on"]) == BINARY_WORDS[wanted]
    now = current(rec)
    if rec.device.kind in (Kind.COVER, Kind.VALVE) and wanted in ("open", "closed"):
        return now == wanted or (wanted == "open" and now in ("opening",))
    return now == wanted


class Answers:
    def __init__(self, language: str = "en") -> None:
        self.language = language

    def answer(self, match: IntentMatch) -> tuple[str, dict[str, Any]]:
        lang, records = self.language, match.query
        data: dict[str, Any] = {"devices": [r.id for r in records], "states": {r.name: current(r) for r in records}}
        if match.intent == Intent.CLIMATE_GET_TEMPERATURE:
            return self._temperature(records), data
        offline = [r for r in records if r.available is False]
        if len(records) == 1 and offline:
            return say(lang, "offline_device", name=records[0].name), data
        wanted = str(match.slots.get("state", "") or "")
        wanted = _wanted_word(records, wanted)
        matched = [r for r in records if wanted and is_in(r, wanted)]
        data.update(matched=[r.name for r in matched])
        response = match.response if match.response in ("any", "all", "which", "how_many") else "one"
        if response == "one" and len(records) == 1:
            rec = records[0]
            now = current(rec)
            if wanted:
                key = "state_yes" if rec in matched else "state_no"
                return say(lang, key, name=subject(rec, lang), state=state_word(lang, now or "unknown")), data
            if now is None:
                return say(lang, "state_unknown", name=rec.name), data
            return say(lang, "state_is", name=subject(rec, lang), state=state_word(lang, now)), data
        if response == "one":  # a room's or a floor's devices asked about as one: say each
            parts = [
                say(lang, "state_is", name=r.name, state=state_word(lang, current(r) or "unknown")) for r in records
            ]
            return " ".join(parts[:6]), data
        return self._many(response, records, matched, wanted, _plural(records)), data

    def _many(
        self, response: str, records: list[DeviceRecord], matched: list[DeviceRecord], wanted: str, noun: str
    ) -> str:
        lang, word = self.language, state_word(self.language, wanted)
        names = _names([r.name for r in matched])
        verb = "is" if len(matched) == 1 else "are"
        if response == "any":
            if not matched:
                return say(lang, "any_no", noun=noun, state=word)
            return say(lang, "any_yes", names=names, verb=verb, state=word)
        if response == "all":
            rest = [r.name for r in records if r not in matched]
            if not rest and len(records) == 1:  # not "all 1 fans are off"
                return say(lang, "any_yes", names=names, verb=verb, state=word)
            if not rest:
                return say(lang, "all_yes", noun=noun, state=word, n=len(records))
            return say(lang, "all_no", names=_names(rest), verb="is" if len(rest) == 1 else "are", state=word)
        if response == "which":
            if not matched:
                return say(lang, "which_none", noun=noun, state=word)
            return say(lang, "which", names=names, verb=verb, state=word)
        return say(lang, "how_many", n=len(matched), total=len(records), noun=noun, state=word)

    def _temperature(self, records: list[DeviceRecord]) -> str:
        for rec in records:
            value = rec.state.get("current_temperature", rec.state.get("value"))
            if value is not None:
                where = rec.area or rec.name
                return say(self.language, "temperature", value=float(value), where=where)
        return say(self.language, "state_unknown", name=records[0].name)


def _wanted_word(records: list[DeviceRecord], wanted: str) -> str:
    """Home Assistant's lists say "on" for an open door sensor; a reply should say "open"."""
    if wanted in ("on", "off") and records and all(r.device.kind is Kind.BINARY_SENSOR for r in records):
        classes = {r.device.device_class for r in records}
        if len(classes) == 1 and (cls := classes.pop()) in BINARY_STATES:
            return BINARY_STATES[cls][0 if wanted == "on" else 1]
    return wanted


def _plural(records: list[DeviceRecord]) -> str:
    kinds = {r.device.kind.value for r in records}
    classes = {r.device.device_class for r in records}
    noun = KIND_NOUNS.get(kinds.pop(), "device") if len(kinds) == 1 else "device"
    if len(classes) == 1 and (cls := classes.pop()) and noun in ("cover", "sensor"):
        noun = f"{cls.replace('_', ' ')} sensor" if noun == "sensor" else cls.replace("_", " ")
    return noun + ("es" if noun.endswith(("sh", "ch", "s")) else "s")


def _names(names: list[str]) -> str:
    names = sorted(names)
    if not names:
        return ""
    if len(names) > 4:
        return f"{', '.join(names[:3])} and {len(names) - 3} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
