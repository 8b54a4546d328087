"""escalation: the endpoint a hub calls when a turn needs more than it can do locally.

Request and response are pydantic models (below) and appear in the OpenAPI schema; docs/ESCALATION.md
describes them for the hub's brain.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from cloud.chat import start_gateway, stop_gateway
from cloud.chat.gateway import Gateway
from cloud.chat.schemas import ChatCompletionRequest, Message
from cloud.common.auth import require
from cloud.common.db import SessionDep
from cloud.common.errors import ApiError
from cloud.common.service import Service
from cloud.common.tokens import Principal
from cloud.tables import Profile

router = APIRouter(prefix="/v1", tags=["escalation"])
log = logging.getLogger("cloud.escalation")
Escalator = Annotated[Principal, Depends(require("escalate"))]


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


def _system_prompt(body: EscalationRequest, profile: Profile | None, notes: str = "") -> str:
    parts = []
    if profile and profile.name:
        parts.append(f"The user's name is {profile.name}.")
    if body.context.room:
        parts.append(f"They are in the {body.context.room}.")
    if body.context.local_time:
        parts.append(f"Their local time is {body.context.local_time}.")
    if body.context.devices:
        listed = ", ".join(f"{d.name} ({d.kind}{', ' + d.area if d.area else ''})" for d in body.context.devices[:20])
        parts.append(f"Devices at home: {listed}.")
    if notes:
        parts.append(f"From the user's own notes and memories: {notes}")
    return " ".join(parts)


@router.post("/escalate", summary="Answer a turn the hub escalated; streams events (SSE) or returns JSON",
             response_model=EscalationReply, responses={200: {"content": {"text/event-stream": {}}}})  # fmt: skip
async def escalate(body: EscalationRequest, request: Request, session: SessionDep, principal: Escalator) -> Any:
    if body.conversation[-1].role != "user":
        raise ApiError("the last turn must be the user's", code="INVALID_REQUEST", status=422)
    gateway: Gateway = request.app.state.gateway
    profile = await session.get(Profile, principal.user_id)
    notes = await _notes(request, principal.user_id, body.conversation[-1].text)
    system = _system_prompt(body, profile, notes)
    messages = [Message(role="system", content=system)] if system else []
    messages += [Message(role=t.role, content=t.text) for t in body.conversation]
    chat = ChatCompletionRequest(messages=messages, max_tokens=body.max_tokens, temperature=0.4)
    if not body.stream:
        text, _, usage = await gateway.complete(chat)
        return EscalationReply(reply=text.strip(), usage=usage)
    pieces = gateway.stream(chat)
    first = await anext(pieces, None)
    return StreamingResponse(
        _events(first, pieces), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


async def _notes(request: Request, user_id: str, question: str) -> str:
    """What the user's documents and synced memory say about the question, when rag runs here."""
    if getattr(request.app.state, "rag", None) is None:
        return ""
    from cloud.rag.router import notes_for, refresh_memory

    try:
        await refresh_memory(request, user_id)
        return notes_for(await request.app.state.rag.query(user_id, question, 3))
    except ApiError:
        raise
    except Exception as err:  # the notes only help: the turn is answered without them
        log.warning("escalate.notes_failed", extra={"code": "ESCALATE_NO_NOTES", "error": type(err).__name__})
        return ""


async def _events(first: Any, pieces: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    def event(data: dict[str, Any]) -> bytes:
        return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"

    text: list[str] = []
    usage: dict[str, int] = {}
    chunk = first
    try:
        while chunk is not None:
            if chunk.text:
                text.append(chunk.text)
                yield event({"type": "reply.delta", "text": chunk.text})
            usage = chunk.usage or usage
            chunk = await anext(pieces, None)
    except ApiError as err:
        yield event({"type": "error", "code": err.code, "message": err.message})
        return
    yield event({"type": "done", **EscalationReply(reply="".join(text).strip(), usage=usage).model_dump()})


service = Service("escalation", router, start_gateway, stop_gateway)
