"""Who may use which topic. Anyone on the broker can announce anything, so discovery is untrusted input:

- a device id belongs to the source (discovery topic) that first announced it, kept across restarts;
- a command topic belongs to one source, and is no other source's state or availability topic;
- a topic a lock (garage door, alarm) commands takes commands only from a device of that class, even from
  a source that announced both, and even when the lock itself was the one refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Topics = dict[str, set[str]]  # role (cmd | state | avail) -> topics


@dataclass
class Refusal:
    """A device the hub would not take, as `doctor` and the registry show it."""

    source: str
    device_id: str
    code: str
    reason: str
    safety_class: str = ""
    commands: list[str] = field(default_factory=list)  # what it would have commanded (guarded if a lock's)
    count: int = 1
    first: float = field(default_factory=time.time)
    last: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Claims:
    def __init__(self, guarded: frozenset[str], family: Callable[[str], str] | None = None) -> None:
        """`family` maps a source to the device it speaks for: the entities of one Home Assistant node
        (`<prefix>/<component>/<node>/<object>/config`) share their topics, as Zigbee2MQTT's own do."""
        self.guarded = guarded
        self.family = family or _topic
        self.source_of: dict[str, str | None] = {}  # device id -> source (None: stored before sources were)
        self._topics_of: dict[str, Topics] = {}
        self._holders: dict[str, dict[str, set[str]]] = {}  # topic -> device id -> roles
        self._guards: dict[str, dict[tuple[str, str], str]] = {}  # command topic -> (source, id) -> class
        self._by_topic: dict[str, set[str]] = {}  # discovery topic -> ids its sources announced

    def conflict(self, device_id: str, source: str, topics: Topics) -> tuple[str, str] | None:
        """(code, reason) if `source` may not announce this device with these topics, else None."""
        if device_id in self.source_of:
            owner = self.source_of[device_id]
            if owner is not None and _topic(owner) != _topic(source):
                return "DEVICE_ID_CLAIMED", f"{device_id} was first announced by {owner}, not {source}"
        for role, names in topics.items():
            for topic in names:
                for other, roles in self._holders.get(topic, {}).items():
                    theirs = self.source_of.get(other)
                    if other == device_id or (theirs is not None and self.family(theirs) == self.family(source)):
                        continue  # itself, or a sibling from the same device
                    if role == "cmd" or "cmd" in roles:
                        used = "/".join(sorted(roles))
                        return "DEVICE_TOPIC_CONFLICT", f"its {role} topic {topic!r} is {other}'s {used} topic"
        return None

    def bind(self, device_id: str, source: str | None, topics: Topics, safety_class: str) -> None:
        self._drop_topics(device_id)
        if source is not None or device_id not in self.source_of:
            self._unindex(device_id)
            self.source_of[device_id] = source
            if source is not None:
                self._by_topic.setdefault(_topic(source), set()).add(device_id)
        self._topics_of[device_id] = topics
        for role, names in topics.items():
            for topic in names:
                self._holders.setdefault(topic, {}).setdefault(device_id, set()).add(role)
        self.guard((source or "", device_id), safety_class, topics.get("cmd", set()))

    def release(self, device_id: str) -> None:
        self._drop_topics(device_id)
        self._unindex(device_id)
        self.source_of.pop(device_id, None)

    def announced_by(self, source: str) -> list[str]:
        """The ids `source` announced, with those of its components (`<source>#<object id>`)."""
        ids = self._by_topic.get(_topic(source), set())
        return [
            i for i in ids if (s := self.source_of.get(i)) is not None and (s == source or s.startswith(source + "#"))
        ]

    def _unindex(self, device_id: str) -> None:
        source = self.source_of.get(device_id)
        if source is not None:
            ids = self._by_topic.get(_topic(source), set())
            ids.discard(device_id)
            if not ids:
                self._by_topic.pop(_topic(source), None)

    def guard(self, key: tuple[str, str], safety_class: str, commands: set[str] | list[str]) -> None:
        """Record the command topics of a device of a guarded class (one the hub took, or one it refused)."""
        self.unguard(key)
        if safety_class in self.guarded:
            for topic in commands:
                self._guards.setdefault(topic, {})[key] = safety_class

    def unguard(self, key: tuple[str, str]) -> None:
        for topic in [t for t, keys in self._guards.items() if key in keys]:
            del self._guards[topic][key]
            if not self._guards[topic]:
                del self._guards[topic]

    def guarded_by(self, device_id: str, safety_class: str, topic: str) -> str | None:
        """The device of another class whose guarded topic this is, if any."""
        for (_, other), other_class in self._guards.get(topic, {}).items():
            if other != device_id and other_class != safety_class:
                return f"{other} ({other_class})"
        return None

    def _drop_topics(self, device_id: str) -> None:
        for names in self._topics_of.pop(device_id, {}).values():
            for topic in names:
                holders = self._holders.get(topic, {})
                holders.pop(device_id, None)
                if not holders:
                    self._holders.pop(topic, None)
        self.unguard((self.source_of.get(device_id) or "", device_id))


def _topic(source: str) -> str:
    return source.split("#", 1)[0]
