"""Which actions need a spoken yes first: unlocking a lock, opening a garage door, disarming an
alarm. Set per device class (`COMPANION_CONFIRM_CLASSES`); `COMPANION_CONFIRM_ALL_ACTIONS` makes
locking and closing ask too. A misheard "unlock the front door" must never open the house.
"""

from __future__ import annotations

from collections.abc import Iterable

from edge_runtime.brain.intents import Action
from edge_runtime.devices.classes import safety_class
from edge_runtime.devices.registry import DeviceRecord


def device_class(rec: DeviceRecord) -> str:
    """lock | garage | alarm | the device's kind; the device layer guards topics by the same classes."""
    return safety_class(rec.device, rec.names())


def risky_verb(rec: DeviceRecord, action: Action) -> str | None:
    """The less-safe direction of an action ("unlock", "open", "disarm"), or None if it secures."""
    values = action.values
    if values.get("locked") is False:
        return "unlock"
    if values.get("state") == "open" or (isinstance(values.get("position"), int) and values["position"] > 0):
        return "open"
    if values.get("on") is False and device_class(rec) == "alarm":
        return "disarm"
    return None


def needs_confirmation(
    records: dict[str, DeviceRecord], actions: Iterable[Action], classes: frozenset[str], *, every_action: bool
) -> list[tuple[Action, str]]:
    """The actions to ask about, each with its verb ("unlock", "open", "lock"...)."""
    out = []
    for action in actions:
        rec = records.get(action.device_id)
        if rec is None or device_class(rec) not in classes:
            continue
        verb = risky_verb(rec, action)
        if verb is None and every_action:
            verb = _secure_verb(action)
        if verb:
            out.append((action, verb))
    return out


def _secure_verb(action: Action) -> str:
    if action.values.get("locked") is True:
        return "lock"
    if action.values.get("state") == "close" or action.values.get("position") == 0:
        return "close"
    if action.values.get("on") is True:
        return "arm"
    return "change"
