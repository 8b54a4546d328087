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
    assert judge("activate party mode in the kitchen").refusal == "SCENE_UNSUPPORTED"
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
