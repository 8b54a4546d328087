"""Deciding a turn by meaning: which transcripts are complete enough to act on at a short pause.

A complete local command ("turn on the kitchen light": every slot resolved to devices, or a
built-in such as "what time is it") is acted on at the first short pause. Anything open (a
question to the LLM or the cloud, small talk, a timer whose length may still be coming, a
half-heard device name) keeps the full trailing-silence wait.
"""

from __future__ import annotations

import difflib
import re
from typing import Protocol

# Built-ins whose words cannot grow into another request: a timer ("... for ten") can.
COMPLETE_BUILTINS = frozenset({"time", "date", "stop"})
_WORD = re.compile(r"[\w']+")


class _Builtins(Protocol):
    def intent_of(self, transcript: str) -> str: ...


class TurnJudge:
    """`complete(text)`: is this, as heard so far, a whole local command? Pure: it acts on nothing."""

    def __init__(self, builtins: _Builtins | None, devices: object | None) -> None:
        self.builtins = builtins
        self.devices = devices  # edge_runtime.brain.device_skill.DeviceSkill (duck-typed: `match`)

    def complete(self, text: str) -> bool:
        return self.meaning(text) is not None

    def meaning(self, text: str) -> tuple[object, ...] | None:
        """What a complete command would do (comparable), or None when it is not one."""
        if not text.strip():
            return None
        if self.builtins is not None and (intent := self.builtins.intent_of(text)) in COMPLETE_BUILTINS:
            return ("builtin", intent)
        match = getattr(self.devices, "match", None)
        found = match(text) if match is not None else None
        if not found or not all(_acts(m) for m in found):
            return None
        return tuple(
            (m.intent, tuple(sorted((a.device_id, repr(sorted(a.values.items()))) for a in m.actions))) for m in found
        )


def _acts(m: object) -> bool:
    """A device command that names devices the home has, heard exactly (no repaired names)."""
    return (
        bool(getattr(m, "actions", None))
        and not getattr(m, "query", None)
        and getattr(m, "reply", None) is None
        and not getattr(m, "problem", "")
        and getattr(m, "confidence", 0.0) >= 1.0
    )


def wake_words(wake: str) -> str:
    """What a wake word's phrase is written as: "hey_jarvis" -> "Hey Jarvis,"."""
    return wake.replace("_", " ").title() + ","


def strip_wake(text: str, wake: str, *, within: int = 3, cutoff: float = 0.6) -> str:
    """Drop a leading wake phrase ("Hey Jarvis, turn on ..." -> "turn on ..."): the last word of
    the phrase, heard closely enough ("Jarvis", "Jervis"), within the first few words."""
    last = wake.replace("_", " ").split()[-1].lower()
    words = list(_WORD.finditer(text))
    cut = None
    for w in words[:within]:
        if difflib.SequenceMatcher(None, w.group().lower(), last).ratio() >= cutoff:
            cut = w.end()
            break
    if cut is None:
        return text
    rest = text[cut:].lstrip(" ,.!?;:-")
    return rest[:1].upper() + rest[1:] if rest else ""
