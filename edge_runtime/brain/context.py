"""One conversation's memory: what was said, which devices were last meant, what awaits a yes."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from edge_runtime.brain.intents import IntentMatch


@dataclass
class Pending:
    """Actions held back until the user says yes (locks, garage doors, alarms)."""

    matches: list[IntentMatch]
    intent: str
    question: str
    expires: float


@dataclass
class Conversation:
    id: str = "local"
    language: str = "en"
    ttl_s: float = 300.0  # after this long, "it" no longer means the last device
    history: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=12))
    last_intent: str | None = None
    last_slots: dict[str, Any] = field(default_factory=dict)
    last_ids: list[str] = field(default_factory=list)
    pending: Pending | None = None
    last_list: str | None = None  # "shopping list", when the last turn added to it: "and eggs" goes on it too
    updated: float = field(default_factory=time.monotonic)

    def targets(self) -> list[str]:
        """The devices "it" and "them" refer to, if the conversation is still fresh."""
        if time.monotonic() - self.updated > self.ttl_s:
            return []
        return list(self.last_ids)

    def acted(self, intent: str, slots: dict[str, Any], ids: list[str]) -> None:
        if ids:
            self.last_intent, self.last_slots, self.last_ids = intent, dict(slots), list(ids)
        self.updated = time.monotonic()

    def said(self, role: str, text: str) -> None:
        if text:
            self.history.append((role, text))
        self.updated = time.monotonic()

    def take_list(self) -> str | None:
        """The list the turn before added to (once: any other turn in between ends it)."""
        last, self.last_list = self.last_list, None
        return last if time.monotonic() - self.updated <= self.ttl_s else None

    def take_pending(self) -> Pending | None:
        pending, self.pending = self.pending, None
        if pending is not None and pending.expires < time.monotonic():
            return None
        return pending
