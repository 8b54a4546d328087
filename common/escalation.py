"""The escalation wire: what a hub sends the cloud when it cannot answer a turn itself, and the
events the cloud streams back (Server-Sent Events, one JSON object per `data:` line). The cloud
serves these models and the hub parses the replies with the same ones."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    text: str = Field(max_length=4000)


class DeviceContext(BaseModel):
    name: str = Field(max_length=100)
    kind: str = Field(max_length=32)
    area: str | None = Field(None, max_length=100)
    state: dict[str, Any] = Field(default_factory=dict)


class HubContext(BaseModel):
    """What the hub knows that the cloud may not: where, when, and what is around."""

    local_time: str | None = Field(None, max_length=64, description="ISO 8601 with offset")
    room: str | None = Field(None, max_length=100)
    language: str | None = Field(None, max_length=16)
    devices: list[DeviceContext] = Field(default_factory=list, max_length=200)


class EscalationRequest(BaseModel):
    hub_id: str = Field(min_length=1, max_length=128)
    conversation: list[Turn] = Field(min_length=1, max_length=50, description="oldest first; the last is the user's")
    context: HubContext = Field(default_factory=HubContext)
    stream: bool = True
    max_tokens: int = Field(200, ge=1, le=1024)


class Action(BaseModel):
    """Something for the hub to do. The hub validates every action against its registry first."""

    type: Literal["device.set", "timer.start", "say"]
    target: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)


class EscalationReply(BaseModel):
    reply: str
    actions: list[Action] = Field(default_factory=list)
    usage: dict[str, int] = Field(default_factory=dict)


class ReplyDelta(BaseModel):
    """A piece of the reply, as soon as the model has written it."""

    type: Literal["reply.delta"] = "reply.delta"
    text: str


class StreamError(BaseModel):
    type: Literal["error"] = "error"
    code: str
    message: str


class StreamDone(EscalationReply):
    """The whole reply, its actions and the tokens used: the stream's last event."""

    type: Literal["done"] = "done"


EscalationEvent = Annotated[ReplyDelta | StreamError | StreamDone, Field(discriminator="type")]
ESCALATION_EVENTS: TypeAdapter[EscalationEvent] = TypeAdapter(EscalationEvent)
