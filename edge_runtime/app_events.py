"""What an app hears about a turn, typed once: wake and phase, transcript, route, each device action,
each reply sentence, the reply, turn done, a timer ringing, device changes.

A voice pipeline emits these on its `TurnStream`; the LAN API's `/v1/events`, the WebRTC data
channel, the history and the tests all consume the same models, and `/openapi.json` publishes
their schema (`HubEvent`). The tracer keeps timings only; the one place that still reads its marks
is `PhaseEvents`, because a phase change *is* a timing (wake, end of speech, first audio)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from edge_runtime.trace import Mark


class Phase(StrEnum):
    LISTENING = "listening"
    HEARING = "hearing"
    THINKING = "thinking"
    SPEAKING = "speaking"
    IDLE = "idle"
    INTERRUPTED = "interrupted"


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    def wire(self) -> dict[str, Any]:
        """The message as sent: None fields left out, so an app sees only what happened."""
        return self.model_dump(mode="json", exclude_none=True)


class StateEvent(_Event):
    """The turn's phase, as the app shows it (`reason`: what moved it, where that matters)."""

    type: Literal["state"] = "state"
    state: Phase
    reason: str | None = None


class TranscriptEvent(_Event):
    type: Literal["transcript"] = "transcript"
    text: str
    final: bool = True
    stt_ms: float | None = None


class RouteEvent(_Event):
    """Where the brain sent the turn: a local intent, a skill, the small LLM, the cloud."""

    type: Literal["route"] = "route"
    route: str
    intent: str | None = None


class ActionEvent(_Event):
    """One device command of the turn and how it ended: confirmed by the device's own report, or not."""

    type: Literal["action"] = "action"
    device: str | None = None
    name: str
    values: dict[str, Any] = Field(default_factory=dict)
    outcome: Literal["confirmed", "failed"]
    error: str | None = None


class SentenceEvent(_Event):
    """A sentence of the reply, as soon as it is ready to be spoken (before the whole reply)."""

    type: Literal["sentence"] = "sentence"
    text: str
    final: bool = False


class ReplyEvent(_Event):
    type: Literal["reply"] = "reply"
    text: str
    heard: str | None = None
    intent: str | None = None
    route: str | None = None
    actions: list[dict[str, Any]] | None = None


class TurnDoneEvent(_Event):
    type: Literal["turn_done"] = "turn_done"
    spoken: bool


class TimerEvent(_Event):
    type: Literal["timer"] = "timer"
    event: Literal["ringing"] = "ringing"
    timer_id: int | str
    repeat: int = 0


class AnnouncementEvent(_Event):
    """Another hub of the home asked this one to say something ("tell everyone dinner is ready")."""

    type: Literal["announcement"] = "announcement"
    text: str
    from_hub: str
    from_room: str | None = None


class ErrorEvent(_Event):
    type: Literal["error"] = "error"
    code: str
    message: str


class CameraEvent(_Event):
    """What a camera saw, in words (motion, a person, the camera gone or back): never a picture."""

    type: Literal["camera"] = "camera"
    kind: str
    camera: str
    room: str | None = None
    text: str
    people: int | None = None


class DeviceChange(_Event):
    """A device's state, availability or registration changed (`event`: the device layer's own type)."""

    model_config = ConfigDict(frozen=True, extra="allow")
    type: Literal["device"] = "device"
    event: str
    device: str


TurnEvent = Annotated[
    StateEvent
    | TranscriptEvent
    | RouteEvent
    | ActionEvent
    | SentenceEvent
    | ReplyEvent
    | TurnDoneEvent
    | TimerEvent
    | AnnouncementEvent
    | ErrorEvent
    | CameraEvent
    | DeviceChange,
    Field(discriminator="type"),
]
TURN_EVENTS: TypeAdapter[TurnEvent] = TypeAdapter(TurnEvent)
EVENT_ENVELOPE = (
    "An event on the LAN API's /v1/events WebSocket: one of these models, plus `at` (Unix time), and for a "
    "turn's events `conversation` and `source` (hub, webrtc:<app>, app:<app>, text); a reply also carries "
    "`turn`, its id in /v1/history. The WebRTC data channel sends the same models without them. The hub's "
    "own notices (ready, paired, revoked, linked, settings) share the stream."
)

Listener = Callable[[_Event], None]


class TurnStream:
    """One pipeline's events, in order, to every listener (synchronous: a listener never blocks)."""

    def __init__(self) -> None:
        self.listeners: list[Listener] = []

    def emit(self, event: _Event) -> None:
        for listener in list(self.listeners):
            listener(event)


_PHASES = {
    "wake": Phase.LISTENING,
    "speech_start": Phase.HEARING,
    "endpoint": Phase.THINKING,
    "committed": Phase.THINKING,  # a command acted on at a short pause, before its endpoint (#18)
    "first_audio": Phase.SPEAKING,
    "playback_stop": Phase.IDLE,
    "interrupt": Phase.INTERRUPTED,
}


class PhaseEvents:
    """A Tracer listener: phase marks become `state` events (one mark in, at most one event out).
    A command acted on at a short pause (`committed`) is already "thinking", and may be speaking,
    when its endpoint comes: that endpoint is no new phase. Nor is a mark naming the phase the turn
    is already in."""

    def __init__(self, stream: TurnStream) -> None:
        self.stream = stream
        self._phase: Phase | None = None
        self._committed = False

    def __call__(self, mark: Mark) -> None:
        if mark.event in ("committed", "endpoint"):
            late, self._committed = self._committed and mark.event == "endpoint", mark.event == "committed"
            if late:
                return
        phase = _PHASES.get(mark.event)
        if phase is None or phase == self._phase:
            return
        self._phase = phase
        self.stream.emit(StateEvent(state=phase, reason=mark.data.get("reason")))


def decided(route: str, intent: str, actions: list[dict[str, Any]] | None) -> list[_Event]:
    """What the brain decided, as events: the route, then each device action and how it ended."""
    return [RouteEvent(route=str(route), intent=str(intent))] + [
        ActionEvent(
            device=a.get("device"),
            name=str(a.get("name", "")),
            values=a.get("values") or {},
            outcome="confirmed" if a.get("confirmed") else "failed",
            error=a.get("error"),
        )
        for a in actions or []
    ]


def device_change(event: Any) -> DeviceChange:
    """A device layer `DeviceEvent` as the apps receive it (the same on the LAN API and WebRTC)."""
    return DeviceChange(event=event.type, device=event.device_id, **event.data)
