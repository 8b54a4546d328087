"""Target matching the Home Assistant way, and the guard on the small LLM's calls: unit tests over
registry records (no broker)."""

from __future__ import annotations

from device_drivers import Convention, Device, Kind
from device_drivers.model import kind_attributes
from edge_runtime.brain.guard import fitting, judge
from edge_runtime.brain.intents import IntentEngine, IntentMatch
from edge_runtime.brain.planner import Planner
from edge_runtime.brain.spoken import floor_words, head_nouns
from edge_runtime.brain.targets import Constraints, MatchFailed, Preferences, device_class_of, match_targets
from edge_runtime.brain.text import without_reason
from edge_runtime.devices.registry import DeviceRecord, DeviceRegistry
from edge_runtime.devices.store import DeviceStore


def record(native: str, name: str, kind: Kind, area: str, floor: str, device_class: str = "") -> DeviceRecord:
    device = Device(
        f"ha:{native}", Convention.HOME_ASSISTANT, kind, name, kind_attributes(kind), device_class=device_class
    )
    return DeviceRecord(device, area=area, floor=floor)


HOME = [
    record("lamp", "Lamp", Kind.LIGHT, "Kitchen", "Ground"),
    record("lamp2", "Lamp", Kind.LIGHT, "Bedroom", "Upstairs"),
    record("door", "Front Door", Kind.LOCK, "Hallway", "Ground"),
    record("curtain", "Curtain", Kind.COVER, "Living Room", "Ground", "curtain"),
    record("phone_battery", "Phone", Kind.BINARY_SENSOR, "Bedroom", "Upstairs", "battery"),
    record("phone_motion", "Phone", Kind.BINARY_SENSOR, "Bedroom", "Upstairs", "moving"),
]


def test_same_names_are_asked_about_unless_the_hubs_room_settles_it() -> None:
    two = match_targets(HOME, Constraints(name="lamp", domains=("light",)))
    assert not two.ok and two.reason is MatchFailed.DUPLICATE_NAME and len(two.duplicates) == 2
    here = match_targets(HOME, Constraints(name="lamp"), Preferences(area="Bedroom"))
    assert here.ok and [r.id for r in here.records] == ["ha:lamp2"]
    by_class = match_targets(HOME, Constraints(name="phone", device_classes=("battery",)))
    assert by_class.ok and [r.id for r in by_class.records] == ["ha:phone_battery"]
    same_room = match_targets(HOME, Constraints(name="phone"), Preferences(area="Bedroom"))
    assert same_room.reason is MatchFailed.DUPLICATE_NAME  # both are in the bedroom: still ask


def test_each_failure_says_why() -> None:
    assert match_targets(HOME, Constraints(domains=("lock",), area="Kitchen")).reason is MatchFailed.AREA
    assert match_targets(HOME, Constraints(domains=("lock",), area="Cellar")).reason is MatchFailed.INVALID_AREA
    assert match_targets(HOME, Constraints(domains=("fan",))).reason is MatchFailed.DOMAIN
    assert match_targets(HOME, Constraints(name="desk lamp")).reason is MatchFailed.NAME
    upstairs = match_targets(HOME, Constraints(domains=("light",), floor="upstairs"))
    assert upstairs.ok and [r.id for r in upstairs.records] == ["ha:lamp2"]
    curtains = match_targets(HOME, Constraints(domains=("cover",), device_classes=("blind",)))
    assert curtains.reason is MatchFailed.DEVICE_CLASS


def test_the_guard_lets_the_sentence_decide_the_kind() -> None:
    assert judge("tell me if there are any switches on in the kitchen").refusal == "QUESTION"
    assert judge("pause music in the living room").refusal == "MEDIA_UNSUPPORTED"
    assert judge("activate party mode in the kitchen").refusal == "SCENE_ONLY"  # a scene only by its own name
    assert judge("run the bedtime routine").refusal == "SCENE_UNSUPPORTED"
    assert judge("open the garage door in 5 minutes").refusal == "NOT_NOW"
    unlock = judge("unlock the kitchen door")
    assert unlock.kinds == {"lock"} and unlock.attributes == {"locked"}
    assert fitting(HOME, unlock) == [HOME[2]]  # only the lock, never the lamps of the named room
    dim = judge("it's too dark in the kitchen")
    assert dim.kinds == {"light"} and fitting(HOME, dim) == HOME[:2]
    assert fitting(HOME[:2], judge("lock the lamp")) == []  # the lamp is named, but a lamp cannot lock
    assert judge("open the bedroom lamp").refusal == "KIND_MISMATCH"
    # A device's own name is not a verb: the Towel Warmer is a switch, not a heater.
    assert judge("i'm done with the towel warmer", ["Towel Warmer"]).kinds == {"light", "switch", "fan"}


def test_the_guard_keeps_the_new_kinds_to_their_own_words() -> None:
    """Open/close may act on valves as on covers; a vacuum moves only by its own sentences (the local
    intents), even when a device is called "Vacuum"; "on"/"off" alone never reaches a valve or a scene."""
    shut = judge("shut the water valve")
    assert shut.kinds == {"valve"} and "state" in shut.attributes
    assert judge("close the kitchen blinds").kinds == {"cover"} and judge("close it").kinds == {"cover", "valve"}
    assert judge("open the bedroom valve").named_kinds == {"valve"}
    for sentence in ("vacuum the kitchen", "start vacuuming the living room", "hoover the hallway"):
        assert judge(sentence, ["Vacuum"]).refusal == "VACUUM_ONLY", sentence
    assert "valve" not in judge("turn off the water").kinds and "scene" not in judge("turn on the lights").kinds


def test_diagnostic_and_config_entities_are_not_spoken_to() -> None:
    """As Home Assistant exposes no diagnostic or config entity to Assist: voice names the door contact,
    never its battery or link-quality entity, while the registry still holds them for `devices show`."""
    from dataclasses import replace

    from edge_runtime.brain.intents import IntentEngine
    from edge_runtime.devices.registry import DeviceRegistry
    from edge_runtime.devices.store import DeviceStore

    registry = DeviceRegistry(DeviceStore(":memory:"))
    contact = record("contact", "Front Door Contact", Kind.BINARY_SENSOR, "Hallway", "Ground", "door")
    battery = record("contact_battery", "Front Door Contact battery", Kind.SENSOR, "Hallway", "Ground", "battery")
    battery = DeviceRecord(replace(battery.device, entity_category="diagnostic"), area="Hallway", floor="Ground")
    registry.records = {r.id: r for r in (contact, battery)}
    assert [r.id for r in registry.spoken()] == ["ha:contact"]
    names = {v.value_out for v in IntentEngine(registry).slot_lists()["name"].values}
    assert names == {"front door contact"}
    assert registry.records["ha:contact_battery"].hidden  # still there, only not spoken to


# --- words for devices and places, over a registry in memory (Home Assistant's phrasings where it has them)

WORDY = [
    record("kitchen_blinds", "Kitchen Blinds", Kind.COVER, "Kitchen", "Ground Floor"),
    record("bedroom_blinds", "Bedroom Blinds", Kind.COVER, "Bedroom", "Upstairs"),
    record("garage_door", "Garage Door", Kind.COVER, "Garage", "Ground Floor", "garage"),
    record("front", "Front Door", Kind.LOCK, "Entrance", "Ground Floor"),
    record("back", "Back Door", Kind.LOCK, "Entrance", "Ground Floor"),
    record("shed", "Shed Lock", Kind.LOCK, "Garden", "Ground Floor"),
    record("kitchen_light", "Kitchen Light", Kind.LIGHT, "Kitchen", "Ground Floor"),
    record("bedroom_lamp", "Bedroom Lamp", Kind.LIGHT, "Bedroom", "Upstairs"),
    record("sofa", "Sofa Lamp", Kind.LIGHT, "Living Room", "Ground Floor"),
    record("tv", "TV Plug", Kind.SWITCH, "Living Room", "Ground Floor"),
    record("coffee", "Coffee Maker", Kind.SWITCH, "Kitchen", "Ground Floor"),
    record("siren", "Siren Plug", Kind.SWITCH, "Garage", "Ground Floor"),
    record("alarm", "Alarm Plug", Kind.SWITCH, "Garage", "Ground Floor"),
    record("thermostat", "Thermostat", Kind.CLIMATE, "Hallway", "Ground Floor"),
    record("heater", "Office Heater", Kind.CLIMATE, "Office", "Ground Floor"),
    record("fan", "Bedroom Fan", Kind.FAN, "Bedroom", "Upstairs"),
]


def plan(sentence: str, room: str | None, home: list[DeviceRecord] = WORDY) -> IntentMatch | None:
    registry = DeviceRegistry(DeviceStore(":memory:"))
    registry.records = {r.id: r for r in home}
    registry.home_area = room
    match = IntentEngine(registry).recognize(sentence)
    return None if match is None else Planner(registry).plan(match)


def acted(match: IntentMatch | None) -> dict[str, dict[str, object]]:
    assert match is not None
    return {a.name: a.values for a in match.actions}


def test_a_cover_is_of_the_class_its_own_name_says() -> None:
    """An MQTT cover often comes without a device class; "Kitchen Blinds" is still a blind, "Garage Door" a garage."""
    assert device_class_of(WORDY[0]) == "blind" and device_class_of(WORDY[2]) == "garage"
    unclassed_garage = record("g2", "Garage Door", Kind.COVER, "Garage", "Ground Floor")
    assert device_class_of(unclassed_garage) == "garage"  # a garage door, never a plain "door"
    assert device_class_of(HOME[3]) == "curtain" and device_class_of(WORDY[6]) == ""  # announced class; a light


def test_blinds_by_class_here_or_in_the_whole_home_never_the_garage_door() -> None:
    assert acted(plan("open the blinds", "Bedroom")) == {"Bedroom Blinds": {"state": "open"}}
    assert acted(plan("close the blinds in the kitchen", "Bedroom")) == {"Kitchen Blinds": {"state": "close"}}
    everywhere = {"Kitchen Blinds": {"state": "close"}, "Bedroom Blinds": {"state": "close"}}
    assert acted(plan("close all the blinds", "Kitchen")) == everywhere  # HA's in-here cover sentence has no "all"
    nothing = plan("open the blinds", "Hallway")
    assert nothing is not None and not nothing.actions and nothing.reply == "There is no blind in the Hallway."


def test_the_garage_is_the_homes_one_garage_door() -> None:
    assert acted(plan("close the garage", "Hallway")) == {"Garage Door": {"state": "close"}}
    assert acted(plan("close the garage door", "Kitchen")) == {"Garage Door": {"state": "close"}}
    two = [*WORDY, record("gate", "Garage Door", Kind.COVER, "Driveway", "Ground Floor", "garage")]
    asked = plan("close the garage", "Hallway", two)
    assert asked is not None and not asked.actions and asked.problem == "MULTIPLE_TARGETS"


def test_the_door_is_one_lock_here_or_the_user_is_asked() -> None:
    asked = plan("lock the door", "Entrance")  # two locks at the entrance: which one, nothing done
    assert asked is not None and not asked.actions and asked.problem == "MULTIPLE_TARGETS"
    assert "Front Door" in (asked.reply or "") and "Back Door" in (asked.reply or "")
    assert acted(plan("lock the door", "Garden")) == {"Shed Lock": {"locked": True}}
    assert acted(plan("unlock the door", "Garden")) == {"Shed Lock": {"locked": False}}
    every = {"Front Door": {"locked": True}, "Back Door": {"locked": True}, "Shed Lock": {"locked": True}}
    assert acted(plan("lock all the doors", "Bedroom")) == every  # locks only: the garage door is no lock
    assert acted(plan("lock the front door", "Garden")) == {"Front Door": {"locked": True}}


def test_floors_by_their_everyday_words() -> None:
    downstairs = acted(plan("turn off all the lights downstairs", "Bedroom"))
    assert set(downstairs) == {"Kitchen Light", "Sofa Lamp"}
    assert set(acted(plan("turn on the lights upstairs", None))) == {"Bedroom Lamp"}
    assert ("downstairs", "Ground Floor") in floor_words(["Ground Floor", "Upstairs"], [])
    assert ("upper floor", "Upstairs") in floor_words(["Ground Floor", "Upstairs"], [])
    assert not floor_words(["Ground Floor", "Main Floor"], [])  # two floors fit the words: neither gets them
    assert ("downstairs", "Ground Floor") not in floor_words(["Ground Floor"], ["Downstairs"])  # a room's name


def test_the_heating_and_the_temperature_inside_are_the_house_thermostat() -> None:
    assert acted(plan("turn the heating up to 21 degrees", "Kitchen")) == {"Thermostat": {"target_temperature": 21.0}}
    assert acted(plan("set the temperature to 19 degrees", "Bedroom")) == {"Thermostat": {"target_temperature": 19.0}}
    assert acted(plan("turn the thermostat down to 17", "Kitchen")) == {"Thermostat": {"target_temperature": 17.0}}
    inside = plan("what's the temperature inside", "Kitchen")
    assert inside is not None and [r.name for r in inside.query] == ["Thermostat"]
    rooms = [r for r in WORDY if r.name != "Thermostat"]
    rooms.append(record("h2", "Living Room Heater", Kind.CLIMATE, "Living Room", "Ground Floor"))
    asked = plan("set the heating to 21 degrees", "Kitchen", rooms)  # two heaters on this floor: which one
    assert asked is not None and not asked.actions and asked.problem == "MULTIPLE_TARGETS"


def test_a_plug_by_what_it_runs_only_when_that_is_one_device() -> None:
    assert acted(plan("turn on the tv", "Kitchen")) == {"TV Plug": {"on": True}}
    assert acted(plan("turn off the coffee machine", "Bedroom")) == {"Coffee Maker": {"on": False}}
    # An alarm's plug is never a head-noun guess, nor the home's alarm ("Alarm Plug" may run a clock).
    declined = plan("turn on the alarm", "Garage")
    assert declined is not None and not declined.actions and declined.problem == "NO_KIND"
    assert plan("turn on the siren", "Garage") is not None  # a plain plug is
    two = [*WORDY, record("tv2", "TV Switch", Kind.SWITCH, "Bedroom", "Upstairs")]
    assert plan("turn on the tv", "Kitchen", two) is None  # two devices run a tv: not guessed
    spoken = {words for words, _ in head_nouns(WORDY, ["Kitchen", "Garage"])}
    assert "tv" in spoken and "coffee machine" in spoken and "alarm" not in spoken and "garage" not in spoken


def test_a_reason_after_the_command_is_not_part_of_the_name() -> None:
    assert without_reason("unlock the back door so the kids can go out") == "unlock the back door"
    assert without_reason("turn on the light when i get home") == "turn on the light when i get home"
    assert acted(plan("unlock the back door so the kids can go in the garden", "Kitchen")) == {
        "Back Door": {"locked": False}
    }
    assert acted(plan("set the thermostat to 17 while we're out", "Kitchen")) == {
        "Thermostat": {"target_temperature": 17.0}
    }


def test_kill_the_lights_and_a_fan_on_at_a_speed() -> None:
    assert acted(plan("kill the lights in here", "Living Room")) == {"Sofa Lamp": {"on": False}}
    assert acted(plan("cut the lights in the kitchen", "Bedroom")) == {"Kitchen Light": {"on": False}}
    off_fan = record("fan", "Bedroom Fan", Kind.FAN, "Bedroom", "Upstairs")
    off_fan.state = {"on": False}
    home = [r for r in WORDY if r.id != "ha:fan"] + [off_fan]
    assert acted(plan("turn the bedroom fan on at 30 percent", "Bedroom", home)) == {
        "Bedroom Fan": {"on": True, "percentage": 30}
    }


def test_the_garage_door_in_here_is_only_this_rooms() -> None:
    """HA's generated "close up our garage door in the space": said here, so never the garage's door."""
    said_here = plan("close up our garage door in the space", "Hallway")
    assert said_here is not None and not said_here.actions and said_here.reply == "There is no garage in the Hallway."
