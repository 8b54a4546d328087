"""Target matching the Home Assistant way, and the guard on the small LLM's calls: unit tests over
registry records (no broker)."""

from __future__ import annotations

from device_drivers import Convention, Device, Kind
from device_drivers.model import kind_attributes
from edge_runtime.brain.guard import fitting, judge
from edge_runtime.brain.targets import Constraints, MatchFailed, Preferences, match_targets
from edge_runtime.devices.registry import DeviceRecord


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
