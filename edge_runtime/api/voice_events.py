"""A voice pipeline's trace, as app events and history: what was heard, what was answered."""

from __future__ import annotations

from typing import Any

from edge_runtime.api.context import HubContext
from edge_runtime.api.metrics_routes import hub_metrics
from edge_runtime.trace import Tracer


def attach_voice(hub: HubContext, tracer: Tracer, *, source: str, conversation: str) -> None:
    heard: dict[str, str] = {}

    def on_mark(mark: Any) -> None:
        data = mark.data
        if mark.event == "wake":
            hub.bus.publish("state", conversation=conversation, source=source, state="listening")
        elif mark.event == "typed":
            heard["text"] = data.get("text", "")
        elif mark.event == "stt" and data.get("text"):
            heard["text"] = data["text"]
            hub.bus.publish("transcript", conversation=conversation, source=source, text=data["text"], final=True)
        elif mark.event == "skill":
            extra = data.get("data") or {}
            result = {"reply": data.get("reply", ""), "route": extra.get("route"), "intent": data.get("intent"),
                      "actions": extra.get("actions")}  # fmt: skip
            hub.record_turn(source=source, conversation=conversation, text=heard.pop("text", ""), result=result)
        elif mark.event == "timer_alert":
            hub.bus.publish("timer", conversation=conversation, source=source, timer=data.get("timer_id"),
                            repeat=data.get("repeat"))  # fmt: skip
        elif mark.event == "interrupt":
            hub.bus.publish("state", conversation=conversation, source=source, state="interrupted",
                            reason=data.get("reason"))  # fmt: skip

    tracer.listeners.append(on_mark)
    hub_metrics(hub).observe(tracer)  # the turn's stage latencies, for /metrics
