"""A voice pipeline's events, onto the LAN API's event stream and into the history."""

from __future__ import annotations

from edge_runtime.api.context import HubContext
from edge_runtime.api.metrics_routes import hub_metrics
from edge_runtime.app_events import ReplyEvent, TranscriptEvent, _Event
from edge_runtime.hub import VoiceHub


def attach_voice(hub: HubContext, voice: VoiceHub, *, source: str, conversation: str) -> None:
    """Every event of the pipeline's turns goes to the apps as it is, with where it came from; a
    reply is also kept in the history (`record_turn` publishes it, with the history's turn id)."""

    def on_event(event: _Event) -> None:
        if isinstance(event, ReplyEvent):
            result = {"reply": event.text, "route": event.route, "intent": event.intent, "actions": event.actions}
            hub.record_turn(source=source, conversation=conversation, text=event.heard or "", result=result)
        elif not isinstance(event, TranscriptEvent) or event.text:  # nothing heard is no transcript
            hub.bus.publish_event(event, conversation=conversation, source=source)

    voice.events.listeners.append(on_event)
    hub_metrics(hub).observe(voice.tracer)  # the turn's stage latencies, for /metrics
