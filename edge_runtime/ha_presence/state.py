"""What the hub shows Home Assistant, kept current from the voice pipeline's trace and its timers.

The tracer's marks are how a turn's progress reaches other consumers today (the LAN API reads
them the same way; issue #19 replaces them with a typed event stream).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edge_runtime.skills.timers import TimerManager
from edge_runtime.trace import Mark

MAX_STATE_CHARS = 255  # Home Assistant keeps at most 255 characters of a sensor's state


@dataclass
class PresenceState:
    assist_state: str = "idle"
    last_transcript: str = ""
    last_reply: str = ""
    muted: bool = False
    volume: int = 100
    wake_word: str = ""
    timers: list[dict[str, Any]] = field(default_factory=list)

    def messages(self) -> dict[str, str]:
        """Topic suffix -> payload, for every entity's state."""
        soonest = self.timers[0]["ends_at"] if self.timers else "None"
        return {
            "assist_state": self.assist_state,
            "last_transcript": self.last_transcript[:MAX_STATE_CHARS],
            "last_reply": self.last_reply[:MAX_STATE_CHARS],
            "mute": "ON" if self.muted else "OFF",
            "volume": str(self.volume),
            "wake_word": self.wake_word,
            "timers": str(len(self.timers)),
            "timers/attributes": json.dumps({"timers": self.timers}),
            "next_timer": soonest,
        }


class TurnTracker:
    """Marks of one voice pipeline -> idle / listening / thinking / speaking, and what was said."""

    def __init__(self, state: PresenceState, changed: Callable[[], None]) -> None:
        self.state, self.changed = state, changed
        self._committed = False  # a command acted on at a short pause (#18): its endpoint comes later

    def on_mark(self, mark: Mark) -> None:
        s, data, before = (
            self.state,
            mark.data,
            (self.state.assist_state, self.state.last_transcript, self.state.last_reply),
        )
        event = mark.event
        if event in ("wake", "speech_start") or (event == "interrupt" and data.get("reason") == "speech"):
            s.assist_state = "listening"
        elif event == "committed":
            s.assist_state, self._committed = "thinking", True
        elif event == "endpoint" and self._committed:
            self._committed = False
        elif event == "endpoint":
            s.assist_state = "idle" if data.get("reason") == "no-speech" else "thinking"
        elif event == "stt":
            s.assist_state = "thinking"
            if data.get("text"):
                s.last_transcript = str(data["text"])
        elif event == "skill":
            s.last_reply = str(data.get("reply") or "")
        elif event == "first_audio":
            s.assist_state = "speaking"
        elif event == "playback_stop" or (event == "turn_done" and not data.get("spoken")):
            s.assist_state = "idle"
        if (s.assist_state, s.last_transcript, s.last_reply) != before:
            self.changed()


def timers_now(timers: TimerManager) -> list[dict[str, Any]]:
    """Running timers, soonest first, with the wall-clock time each ends (what HA's timestamp shows)."""
    now = dt.datetime.now(dt.UTC)
    return [
        {
            "id": t.id,
            "label": t.label,
            "seconds": t.seconds,
            "ends_at": (now + dt.timedelta(seconds=round(timers.remaining(t)))).isoformat(timespec="seconds"),
        }
        for t in timers.active()
    ]


def same_timers(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Equal ids and end times within a second (the wall clock moves under a running timer)."""
    if [t["id"] for t in a] != [t["id"] for t in b]:
        return False
    return all(abs(_ts(x["ends_at"]) - _ts(y["ends_at"])) <= 1.0 for x, y in zip(a, b, strict=True))


def _ts(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()
