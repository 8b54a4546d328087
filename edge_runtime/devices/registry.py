"""The device registry: built from discovery, named and placed by the user, with live state."""

from __future__ import annotations

import difflib
import math
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from device_drivers import Device, DriverError
from device_drivers.codec import combine_availability
from device_drivers.validate import check_device, device_topics
from edge_runtime.devices.claims import Claims, Refusal
from edge_runtime.devices.classes import CONFIRM_CLASSES, safety_class
from edge_runtime.devices.errors import DeviceUnknown
from edge_runtime.devices.record import DeviceRecord
from edge_runtime.devices.store import MAX_REFUSALS, DeviceStore

STORED = "store"  # the source of a refusal made when loading the store, not from a discovery message


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


class DeviceRegistry:
    """Records by id, state routes by topic, and who may announce what (`claims`); what discovery
    announced and the hub would not take is kept in `refusals`, for the owner and for `doctor`."""

    def __init__(
        self,
        store: DeviceStore,
        *,
        guarded: frozenset[str] = CONFIRM_CLASSES,
        family: Callable[[str], str] | None = None,
    ) -> None:
        self.store = store
        self.records: dict[str, DeviceRecord] = {}
        self.routes: dict[str, set[str]] = {}  # topic -> device ids
        self.claims = Claims(guarded, family)
        self.refusals: dict[tuple[str, str], Refusal] = {}  # (source, device id) -> why
        self._refused_from: dict[str, set[tuple[str, str]]] = {}  # discovery topic -> its refusals' keys
        self._dirty: set[str] = set()
        self.home_area: str | None = None  # the room the hub stands in: "the lights" are its lights
        self.areas = store.areas()
        for info in store.refusals():
            refusal = Refusal(**info)
            key = (refusal.source, refusal.device_id)
            self.refusals[key] = refusal
            self._refused_from.setdefault(refusal.source.split("#", 1)[0], set()).add(key)
            self.claims.guard(key, refusal.safety_class, refusal.commands)
        for row in store.load():
            self._load(row)

    def _load(self, row: dict[str, Any]) -> None:
        """A stored device is checked as a new one is: one saved before topics were checked is not taken."""
        try:
            device = Device.from_dict(row["info"])
            check_device(device)
        except DriverError as err:
            self.refuse(STORED, row["id"], err.code, f"stored device: {err.message}")
            return
        except (KeyError, TypeError, ValueError) as err:
            self.refuse(STORED, row["id"], "DEVICE_BAD_PAYLOAD", f"unreadable stored device: {err}")
            return
        state = {k: v for k, v in row["state"].items() if not (isinstance(v, float) and not math.isfinite(v))}
        rec = DeviceRecord(device, row["user_name"], row["aliases"], row["area"], None, row["available"], state)
        rec.floor = self.areas.get(rec.area or "")
        self.records[device.id] = rec
        self.claims.bind(device.id, row["source"], device_topics(device), safety_class(device, rec.names()))
        self._route(device)

    def admit(self, device: Device, source: str) -> tuple[str, str] | None:
        """(code, reason) if `source` may not announce this device, else None."""
        return self.claims.conflict(device.id, source, device_topics(device))

    def upsert(self, devices: list[Device], sources: dict[str, str]) -> tuple[list[DeviceRecord], set[str]]:
        """Admitted devices in; returns those that are new or changed, and the topics no device uses now."""
        changed, rows, unused = [], [], set()
        for device in devices:
            source = sources[device.id]
            rec = self.records.get(device.id)
            if rec is None:
                rec = DeviceRecord(device, area=device.area_hint or None)
                rec.floor = self.areas.get(rec.area or "")
                self.records[device.id] = rec
                changed.append(rec)
            elif rec.device.to_dict() != device.to_dict():
                unused |= self._unroute(device.id)
                rec.device = device
                changed.append(rec)
            rec.discovered = True
            self.claims.bind(device.id, source, device_topics(device), safety_class(device, rec.names()))
            self._route(device)
            rows.append((device.id, device.to_dict(), device.area_hint or None, source))
            if (STORED, device.id) in self.refusals:  # the stored copy was bad; this announcement is not
                self._forget((STORED, device.id))
                self.store.delete_refusals([(STORED, device.id)])
        if rows:
            self.store.save_many(rows)
        return changed, unused - set(self.routes)

    def _route(self, device: Device) -> None:
        topics = device_topics(device)
        for topic in topics["state"] | topics["avail"]:
            self.routes.setdefault(topic, set()).add(device.id)

    def _unroute(self, device_id: str) -> set[str]:
        """Forget the device's routes; the topics left with no device."""
        rec = self.records.get(device_id)
        if rec is None:
            return set()
        topics = device_topics(rec.device)
        emptied = set()
        for topic in topics["state"] | topics["avail"]:
            ids = self.routes.get(topic)
            if ids is not None:
                ids.discard(device_id)
                if not ids:
                    del self.routes[topic]
                    emptied.add(topic)
        return emptied

    def remove(self, device_id: str) -> set[str]:
        """Forget a device; the topics no device uses any more (to unsubscribe)."""
        unused = self._unroute(device_id)
        self.claims.release(device_id)
        if self.records.pop(device_id, None) is not None:
            self.store.delete(device_id)
        return unused

    def withdraw(self, source: str) -> tuple[list[str], set[str]]:
        """An empty config: remove what `source` announced (by the id recorded for it), and its refusals."""
        ids = self.claims.announced_by(source)
        unused: set[str] = set()
        for device_id in ids:
            unused |= self.remove(device_id)
        self.restate(source)
        return ids, unused

    def restate(self, source: str, keep: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset()) -> None:
        """A source spoke again: its refusals other than those it just earned again (`keep`) are gone."""
        mine = self._refused_from.get(source.split("#", 1)[0], set())
        stale = [k for k in mine if (k[0] == source or k[0].startswith(source + "#")) and k not in keep]
        for key in stale:
            self._forget(key)
        if stale:
            self.store.delete_refusals(stale)

    def _forget(self, key: tuple[str, str]) -> None:
        self.refusals.pop(key, None)
        self.claims.unguard(key)
        mine = self._refused_from.get(key[0].split("#", 1)[0], set())
        mine.discard(key)
        if not mine:
            self._refused_from.pop(key[0].split("#", 1)[0], None)

    def refuse(self, source: str, device_id: str, code: str, reason: str, device: Device | None = None) -> Refusal:
        """Record what the hub would not take; a refused lock still guards its command topics."""
        key = (source, device_id)
        cls = safety_class(device) if device is not None else ""
        commands = sorted(device_topics(device)["cmd"]) if device is not None else []
        refusal = self.refusals.get(key)
        if refusal is None:
            refusal = self.refusals[key] = Refusal(source, device_id, code, reason, cls, commands)
            self._refused_from.setdefault(source.split("#", 1)[0], set()).add(key)
            if len(self.refusals) > MAX_REFUSALS:  # an attacker announcing without end fills no memory
                self._forget(min(self.refusals, key=lambda k: self.refusals[k].last))
        else:
            refusal.count += 1
            refusal.code, refusal.reason, refusal.safety_class, refusal.commands = code, reason, cls, commands
            refusal.last = time.time()
        self.claims.guard(key, cls, commands)
        self.store.save_refusal(refusal.to_dict())
        return refusal

    def guard_problem(self, rec: DeviceRecord, topics: Iterable[str]) -> str | None:
        """Why this device may not publish on one of `topics`: a lock's (garage's, alarm's) topic."""
        cls = safety_class(rec.device, rec.names())
        for topic in topics:
            owner = self.claims.guarded_by(rec.id, cls, topic)
            if owner is not None:
                return f"{topic!r} is the command topic of {owner}; only a device of that class may use it"
        return None

    def apply(
        self, device_id: str, values: dict[str, Any], available: bool | None, topic: str | None = None
    ) -> DeviceRecord:
        rec = self.records[device_id]
        rec.state.update(values)
        if available is not None and topic is not None:
            rec.links[topic] = available
            topics = [a["t"] for a in rec.device.wiring["avail"]]
            mode = rec.device.wiring.get("avail_mode", "latest")
            combined = combine_availability(mode, {t: v for t, v in rec.links.items() if t in topics}, topics)
            available = available if combined is None else combined
        if available is not None:
            if available is False and rec.available is not False:
                rec.offline_since = time.monotonic()
            rec.available = available
        elif values and rec.available is None:
            rec.available = True
        rec.last_seen = time.time()
        self._dirty.add(device_id)
        return rec

    def flush(self) -> int:
        """Write the state cache of changed devices (batched: a flood costs one transaction)."""
        dirty, self._dirty = self._dirty, set()
        rows = [(i, self.records[i].available, self.records[i].state) for i in dirty if i in self.records]
        if rows:
            self.store.save_states(rows)
        return len(rows)

    def resolve(self, ref: str) -> DeviceRecord:
        """By id, name or alias; forgiving of case and punctuation; suggests near misses."""
        if ref in self.records:
            return self.records[ref]
        key = _key(ref)
        for rec in self.records.values():
            if key in (_key(n) for n in rec.names()):
                return rec
        names = list(dict.fromkeys(n for rec in self.records.values() for n in rec.names()))
        close = difflib.get_close_matches(ref, names, n=3, cutoff=0.6)
        raise DeviceUnknown(
            f"no device called '{ref}'",
            hint=f"did you mean: {', '.join(close)}" if close else "see `companion devices list`",
        )

    def edit(
        self, ref: str, *, name: str | None = None, aliases: list[str] | None = None, area: str | None = None
    ) -> DeviceRecord:
        rec = self.resolve(ref)
        if name is not None:
            rec.user_name = name or None
        if aliases is not None:
            rec.aliases = [a for a in dict.fromkeys(a.strip() for a in aliases) if a]
        if area is not None:
            rec.area = area or None
            rec.floor = self.areas.get(area)
        self.store.save_user(rec.id, user_name=rec.user_name, aliases=rec.aliases, area=rec.area)
        return rec

    def set_floor(self, area: str, floor: str | None) -> None:
        self.store.save_area(area, floor)
        self.areas[area] = floor
        for rec in self.records.values():
            if rec.area == area:
                rec.floor = floor

    def note_problem(self, device_id: str, topic: str, payload: bytes, code: str, message: str) -> None:
        """A message from this device the hub could not read: kept for `devices list` and `doctor`."""
        rec = self.records.get(device_id)
        if rec is None:
            return
        before = rec.problem or {}
        count = before.get("count", 0) + 1
        excerpt = payload[:80].decode("utf-8", "replace")
        rec.problem = {
            "topic": topic,
            "payload": excerpt,
            "code": code,
            "error": message[:200],
            "count": count,
            "at": time.time(),
        }
        if before.get("code") != code or count % 100 == 0:  # a flood costs a write per hundred, not per message
            self.store.save_problem(device_id, rec.problem)

    def clear_problem(self, rec: DeviceRecord) -> None:
        """It spoke readably again: what it sent before is no longer a problem."""
        rec.problem = None
        self.store.delete_problem(rec.id)

    def spoken(self) -> list[DeviceRecord]:
        """What voice may name or act on: as Home Assistant exposes no diagnostic or config entity to
        Assist, "the front door contact" is the door, never its battery or link-quality entity."""
        return [r for r in self.records.values() if not r.hidden]

    def listing(self, *, hidden: bool = True) -> list[DeviceRecord]:
        """Every record by area and name; without diagnostic and config entities when `hidden` is False."""
        shown = (r for r in self.records.values() if hidden or not r.hidden)
        return sorted(shown, key=lambda r: (r.area or "~", r.group_name_key(), r.name.lower()))
