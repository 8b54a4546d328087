"""What one turn of the brain returns, and the policy it runs under: shared by the router and its routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Speak = Callable[[str, bool], Awaitable[None]]  # (sentence, final)


@dataclass
class BrainPolicy:
    min_confidence: float = 0.8
    confirm_classes: frozenset[str] = frozenset({"lock", "garage", "alarm"})
    confirm_all_actions: bool = False
    confirm_ttl_s: float = 30.0


@dataclass(frozen=True)
class ActionOutcome:
    """What the brain did to one device: the values it sent, and whether the device's state echo
    confirmed them (else the error's stable code). `to_dict` is its shape on the wire."""

    device: str
    name: str
    values: dict[str, Any]
    confirmed: bool
    error: str | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ActionOutcome:
        return cls(
            str(record["device"]),
            str(record["name"]),
            dict(record["values"]),
            bool(record["confirmed"]),
            None if record.get("error") is None else str(record["error"]),
        )

    def to_dict(self) -> dict[str, Any]:
        out = {"device": self.device, "name": self.name, "values": self.values, "confirmed": self.confirmed}
        return out if self.error is None else {**out, "error": self.error}


@dataclass
class BrainResult:
    route: str  # a vocab.Route: builtin | local-intent | local-memory | local-llm | cloud | confirm
    intent: str
    reply: str
    actions: list[dict[str, Any]] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": str(self.route),
            "intent": str(self.intent),
            "reply": self.reply,
            "actions": self.actions,
            "signals": self.signals,
            "data": self.data,
            "timings_ms": self.timings_ms,
        }


async def silent(sentence: str, final: bool) -> None:
    return None
