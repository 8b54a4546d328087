"""From a recognised intent to what to do: the devices it targets (Home Assistant's target
matching, `targets.py`), the values each gets, a question about their state, or an honest answer
when there is nothing to do ("There is no lock in the Kitchen", "Which Phone do you mean?").

Each intent acts only on the kinds it is for: locking only locks, opening only covers, brightness
only lights. A value a device cannot take (22° on a thermostat limited to 30°... or 40°) is
answered with its range, never sent.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from device_drivers import Kind
from edge_runtime.brain.intents import COLOURS, Action, IntentMatch
from edge_runtime.brain.replies import say
from edge_runtime.brain.scope import ONE_PER_HOME, one_device_meant, room_unless_everywhere, says_here, whole_home
from edge_runtime.brain.targets import (
    Constraints,
    MatchFailed,
    Preferences,
    TargetMatch,
    house_thermostat,
    match_targets,
    norm,
    settled_by_state,
)
from edge_runtime.brain.vocab import (
    CLASS_WORDS,
    KIND_NOUNS,
    MEDIA_INTENTS,
    NAMED_WHITES,
    STATE_CLASSES,
    UNSUPPORTED_DOMAINS,
    UNSUPPORTED_INTENTS,
    Intent,
)
from edge_runtime.devices.registry import DeviceRecord, DeviceRegistry

# Home Assistant calls locking, opening, activating a scene and pressing a button "turning on".
ON_VALUES: dict[Kind, tuple[str, Any]] = {
    Kind.LOCK: ("locked", True),
    Kind.COVER: ("state", "open"),
    Kind.VALVE: ("state", "open"),
    Kind.VACUUM: ("state", "start"),
    Kind.SCENE: ("press", True),
    Kind.BUTTON: ("press", True),
}
OFF_VALUES: dict[Kind, tuple[str, Any]] = {
    Kind.LOCK: ("locked", False),
    Kind.COVER: ("state", "close"),
    Kind.VALVE: ("state", "close"),
    Kind.VACUUM: ("state", "stop"),
}
# Acted on only when named: "turn on the kitchen" never presses the Kitchen's buttons or starts its vacuum.
BY_NAME_ONLY = frozenset({Kind.SCENE, Kind.BUTTON, Kind.VACUUM})
VACUUM_COMMANDS: dict[str, str] = {Intent.VACUUM_START: "start", Intent.VACUUM_RETURN: "return_to_base"}
QUESTIONS = {Intent.GET_STATE, Intent.CLIMATE_GET_TEMPERATURE}
TEMPERATURE_CLASSES = ("temperature",)
CLIMATE = (Intent.CLIMATE_SET_TEMPERATURE, Intent.CLIMATE_GET_TEMPERATURE)


class Planner:
    def __init__(self, registry: DeviceRegistry, language: str = "en") -> None:
        self.registry = registry
        self.language = language

    def preferences(self) -> Preferences:
        home = self.registry.home_area
        floor = next((r.floor for r in self.registry.spoken() if home and norm(r.area) == norm(home)), None)
        return Preferences(home, floor)

    def plan(self, match: IntentMatch) -> IntentMatch:
        """Fill in the match's actions, or its query, or its reply; returns it for chaining."""
        intent = match.intent
        if intent in MEDIA_INTENTS or match.domains == ("media_player",):
            return self.decline(match, "MEDIA_UNSUPPORTED", "cannot_media")
        if intent == "HassVacuumCleanArea":
            return self.decline(match, "KIND_UNSUPPORTED", "cannot_clean_area")
        if intent in UNSUPPORTED_INTENTS or (match.domains and set(match.domains) <= UNSUPPORTED_DOMAINS):
            return self.decline(match, "KIND_UNSUPPORTED", "cannot_kind", kind=_noun(match.domains))
        targets = self._targets(match)
        if not targets.ok:
            return self._failed(match, targets)
        if intent in QUESTIONS:
            match.query = targets.records
            return match
        for rec in targets.records:
            values = self._values(match, rec)
            if values is None:
                return match  # answered: out of range
            values = {k: v for k, v in values.items() if (a := rec.device.attributes.get(k)) and a.writable}
            if values:
                match.actions.append(Action(rec.id, rec.name, values, rec.device.kind.value))
        if not match.actions:  # found, but none takes what was asked ("set the main valve to 50" on an on/off valve)
            name = targets.records[0].name if len(targets.records) == 1 else _noun(match.domains)
            return self.decline(match, "FEATURE_UNSUPPORTED", "cannot_feature", name=name)
        return match

    # --- targets

    def _constraints(self, match: IntentMatch) -> Constraints:
        slots, intent = match.slots, match.intent
        name = slots.get("name")
        domains: tuple[str, ...] = (str(slots["domain"]),) if slots.get("domain") else tuple(match.domains)
        if intent == Intent.CLIMATE_SET_TEMPERATURE:
            domains = ("climate",)
        if intent == Intent.CLIMATE_GET_TEMPERATURE and not name:
            domains = ("climate", "sensor")
        classes: tuple[str, ...] = (str(slots["device_class"]),) if slots.get("device_class") else ()
        if intent == Intent.CLIMATE_GET_TEMPERATURE and not name:
            classes = ()
        word = str(slots.get("state", "")) if intent == Intent.GET_STATE else ""
        if name and not classes and word in CLASS_WORDS:
            classes = tuple(CLASS_WORDS[word])  # "is the phone charging": the charging Phone
        elif (
            not name and "binary_sensor" in domains and word in STATE_CLASSES and not set(classes) & STATE_CLASSES[word]
        ):
            classes = tuple(sorted(STATE_CLASSES[word]))  # "which devices are connected", "are any batteries charging"
        area = str(slots["area"]) if slots.get("area") else None
        home = self.registry.home_area
        if not area and home and room_unless_everywhere(match):
            area = home  # "turn off all the fans" said in the Garage: its fans, as HA's "in here" templates read it
        return Constraints(
            name=str(name) if name else None,
            area=area,
            floor=str(slots["floor"]) if slots.get("floor") else None,
            domains=tuple(d for d in domains if d not in UNSUPPORTED_DOMAINS),
            device_classes=classes,
            single_target=one_device_meant(match),
        )

    def _targets(self, match: IntentMatch) -> TargetMatch:
        if "ids" in match.slots:  # a follow-up or a tool call names its devices by id
            named = [self.registry.records[i] for i in match.slots["ids"] if i in self.registry.records]
            return TargetMatch(bool(named), None if named else MatchFailed.NAME, named)
        constraints = self._constraints(match)
        records = self.registry.spoken()
        if match.intent in CLIMATE and match.combination == "temperature_home":
            return house_thermostat(
                match_targets(records, Constraints(domains=("climate",), single_target=True), self.preferences())
            )
        if match.combination == "device_class_cover" and "area" in match.implied:
            found = match_targets(records, constraints, self.preferences())
            if found.ok or set(constraints.device_classes) - ONE_PER_HOME or says_here(match):
                return found  # "close the garage door in here": this room's, as said
            # "close the garage" said in the hallway: the home's one garage door, as the hub's room has none.
            return match_targets(records, replace(constraints, area=None, single_target=True), self.preferences())
        if match.intent == Intent.CLIMATE_GET_TEMPERATURE and constraints.domains == ("climate", "sensor"):
            found = match_targets(records, constraints, self.preferences())
            found.records = [r for r in found.records if r.device.kind is Kind.CLIMATE or _measures_temperature(r)]
            found.ok = bool(found.records)
            found.reason = found.reason or (None if found.ok else MatchFailed.DEVICE_CLASS)
            return found
        if not (constraints.name or constraints.area or constraints.floor or whole_home(match)):
            return TargetMatch(False, MatchFailed.AREA)  # "turn on the lights" with no room to mean
        found = match_targets(records, constraints, self.preferences())
        wanted = match.said.get("state", match.slots.get("state")) if match.intent == Intent.GET_STATE else None
        if found.reason is MatchFailed.DUPLICATE_NAME and wanted:
            one = settled_by_state(found.duplicates, str(wanted))  # "is the pet door locked?": its lock sensor
            return found if one is None else TargetMatch(True, records=[one])
        return found

    def _failed(self, match: IntentMatch, found: TargetMatch) -> IntentMatch:
        slots, reason = match.slots, found.reason
        kind = _noun(self._constraints(match).domains, slots.get("device_class"))
        area, floor, name = slots.get("area"), slots.get("floor"), slots.get("name")
        if reason is MatchFailed.DUPLICATE_NAME or reason is MatchFailed.MULTIPLE_TARGETS:
            options = " or ".join(_where(r) for r in found.duplicates[:4])
            if name:
                return self.decline(
                    match,
                    "DUPLICATE_NAME",
                    "which_name",
                    n=len(found.duplicates),
                    name=found.duplicates[0].name,
                    options=options,
                )
            return self.decline(match, "MULTIPLE_TARGETS", "which_kind", kind=kind, options=options)
        if reason is MatchFailed.INVALID_AREA:
            return self.decline(match, "NO_AREA", "no_area", area=area)
        if reason is MatchFailed.INVALID_FLOOR:
            return self.decline(match, "NO_FLOOR", "no_floor", floor=floor)
        if name and reason is not MatchFailed.DOMAIN:
            key = "no_name_in_area" if area else "no_name"
            return self.decline(match, "NO_NAME", key, name=name, area=area)
        if area and "area" not in match.implied:
            return self.decline(match, "NO_KIND_IN_AREA", "no_kind_in_area", kind=kind, area=area)
        if floor:
            return self.decline(match, "NO_KIND_ON_FLOOR", "no_kind_on_floor", kind=kind, floor=floor)
        if "area" in match.implied and area:
            return self.decline(match, "NO_KIND_HERE", "no_kind_in_area", kind=kind, area=area)
        if reason is MatchFailed.AREA:
            return self.decline(match, "NO_AREA_GIVEN", "which_area", kind=kind)
        return self.decline(match, "NO_KIND", "no_kind", kind=kind)

    def decline(self, match: IntentMatch, code: str, key: str, **values: Any) -> IntentMatch:
        match.problem, match.reply = code, say(self.language, key, **values)
        return match

    # --- values

    def _beyond_colour_range(self, match: IntentMatch, rec: DeviceRecord, kelvin: int) -> bool:
        """A colour temperature the bulb cannot show is answered with its own limit, never sent and unconfirmed
        ("the kitchen light goes up to 4000 K"); within one step of a limit is the limit (the device layer)."""
        attr = rec.device.attributes.get("color_temp")
        if attr is None or attr.min is None or attr.max is None:
            return False
        slack = attr.step or 0
        if attr.min - slack <= kelvin <= attr.max + slack:
            return False
        above = kelvin > attr.max
        key = "colour_temp_max" if above else "colour_temp_min"
        self.decline(match, "OUT_OF_RANGE", key, name=rec.name, limit=_kelvin(attr.max if above else attr.min))
        match.actions.clear()
        return True

    def _values(self, match: IntentMatch, rec: DeviceRecord) -> dict[str, Any] | None:
        intent, slots, kind = match.intent, match.slots, rec.device.kind
        if kind in BY_NAME_ONLY and not (slots.get("name") or "ids" in slots):
            return {}
        if intent in VACUUM_COMMANDS:
            return {"state": VACUUM_COMMANDS[intent]} if kind is Kind.VACUUM else {}
        if intent == Intent.TOGGLE:  # the other state, each device its own; only what is plainly on or off
            return {"on": not rec.state.get("on")} if kind in (Kind.LIGHT, Kind.SWITCH, Kind.FAN) else {}
        if intent in (Intent.TURN_ON, Intent.TURN_OFF):
            on = intent == Intent.TURN_ON
            if kind is Kind.CLIMATE:
                modes = rec.device.attributes.get("mode")
                return {"mode": ("heat" if modes and "heat" in modes.options else "auto") if on else "off"}
            if kind in (Kind.SCENE, Kind.BUTTON) and not on:
                return {}  # a scene or a button is only ever turned on (activated, pressed)
            if kind is Kind.VALVE and "state" not in rec.device.attributes:
                return {"position": 100 if on else 0}  # a valve that reports a position opens to one
            if kind is Kind.SELECT:
                return {}
            attr, value = (ON_VALUES if on else OFF_VALUES).get(kind, ("on", on))
            return {attr: value}
        if intent == Intent.LIGHT_SET and kind is Kind.LIGHT:
            values: dict[str, Any] = {}
            if "brightness" in slots:
                values["brightness"] = round(float(slots["brightness"]))
            if slots.get("color") in COLOURS:
                values["rgb"] = COLOURS[str(slots["color"])]
            if "temperature" in slots:
                values["color_temp"] = round(float(slots["temperature"]))
                if NAMED_WHITES.search(match.heard_as or ""):  # "candle light": the bulb's warmest, as HA clamps
                    values["color_temp"] = _clamped(rec, values["color_temp"])
                if self._beyond_colour_range(match, rec, values["color_temp"]):
                    return None
            return values
        if intent == Intent.SET_POSITION and kind in (Kind.COVER, Kind.VALVE):
            return {"position": round(float(slots["position"]))}
        if intent == Intent.FAN_SET_SPEED and kind is Kind.FAN:
            percentage = round(float(slots["percentage"]))
            start = {"on": True} if percentage > 0 and rec.state.get("on") is False else {}
            return {**start, "percentage": percentage}  # as Home Assistant's set_percentage turns a fan on
        if intent == Intent.CLIMATE_SET_TEMPERATURE and kind is Kind.CLIMATE:
            target = rec.device.attributes.get("target_temperature")
            wanted = in_unit(
                float(slots["temperature"]), slots.get("temperature_unit"), target.unit if target else None
            )
            if target is not None and not (target.min or 0) <= wanted <= (target.max if target.max is not None else 99):
                self.decline(
                    match,
                    "OUT_OF_RANGE",
                    "out_of_range",
                    name=rec.name,
                    value=wanted,
                    low=target.min or 0,
                    high=target.max,
                )
                match.actions.clear()
                return None
            return {"target_temperature": wanted}
        return {}


def _clamped(rec: DeviceRecord, kelvin: int) -> int:
    attr = rec.device.attributes.get("color_temp")
    if attr is None or attr.min is None or attr.max is None:
        return kelvin
    return round(min(max(kelvin, attr.min), attr.max))


def _kelvin(value: float) -> str:
    return f"{round(value, -1):g}"


def in_unit(value: float, said: Any, unit: str | None) -> float:
    """A temperature said in one unit, in the thermostat's ("68 degrees Fahrenheit" is 20 °C), to the
    half degree; as said when no unit was said or the thermostat's is not known."""
    fahrenheit = (unit or "").upper().endswith("F")
    if said == "fahrenheit" and unit and not fahrenheit:
        return round((value - 32) * 5 / 9 * 2) / 2
    if said == "celsius" and fahrenheit:
        return round(value * 9 / 5 + 32)
    return value


def _measures_temperature(rec: DeviceRecord) -> bool:
    value = rec.device.attributes.get("value")
    return rec.device.device_class in TEMPERATURE_CLASSES or bool(value and value.unit in ("°C", "°F"))


def _noun(domains: tuple[str, ...] | Any, device_class: Any = None) -> str:
    if device_class:
        return str(device_class).replace("_", " ")
    first = next(iter(domains), "") if domains else ""
    return KIND_NOUNS.get(first, "device")


def _where(rec: DeviceRecord) -> str:
    place, cls = rec.area or rec.floor, (rec.device.device_class or "").replace("_", " ")
    what = f"the {rec.name} ({cls})" if cls else f"the {rec.name}"
    return f"{what} in the {place}" if place else what
