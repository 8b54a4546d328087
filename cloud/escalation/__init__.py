"""escalation: the endpoint a hub calls when a turn needs more than it can do locally.

Request, reply and stream events are the wire models in `common.escalation` (the hub parses replies
with the same ones); they appear in the OpenAPI schema, and docs/ESCALATION.md describes them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from cloud.chat import start_gateway, stop_gateway
from cloud.chat.gateway import Gateway
from cloud.chat.schemas import ChatCompletionRequest, Message
from cloud.common.auth import require
from cloud.common.db import SessionDep
from cloud.common.errors import ApiError
from cloud.common.service import Service
from cloud.common.tokens import Principal
from cloud.tables import Profile
from common.escalation import EscalationReply, EscalationRequest, ReplyDelta, StreamDone, StreamError

router = APIRouter(prefix="/v1", tags=["escalation"])
log = logging.getLogger("cloud.escalation")
Escalator = Annotated[Principal, Depends(require("escalate"))]


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


@router.post(
    "/escalate",
    summary="Answer a turn the hub escalated; streams events (SSE) or returns JSON",
    response_model=EscalationReply,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def escalate(body: EscalationRequest, request: Request, session: SessionDep, principal: Escalator) -> Any:
    if body.conversation[-1].role != "user":
        raise ApiError("the last turn must be the user's", code="INVALID_REQUEST", status=422)
    gateway: Gateway = request.app.state.gateway
    profile = await session.get(Profile, principal.user_id)
    notes = await _notes(request, principal.user_id, body.conversation[-1].text)
    system = _system_prompt(body, profile, notes)
    messages = [Message(role="system", content=system)] if system else []
    messages += [Message(role=t.role, content=t.text) for t in body.conversation]
    temperature = request.app.state.settings.escalation_temperature
    chat = ChatCompletionRequest(messages=messages, max_tokens=body.max_tokens, temperature=temperature)
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
    def event(data: BaseModel) -> bytes:
        return b"data: " + data.model_dump_json().encode() + b"\n\n"

    text: list[str] = []
    usage: dict[str, int] = {}
    chunk = first
    try:
        while chunk is not None:
            if chunk.text:
                text.append(chunk.text)
                yield event(ReplyDelta(text=chunk.text))
            usage = chunk.usage or usage
            chunk = await anext(pieces, None)
    except ApiError as err:
        yield event(StreamError(code=err.code, message=err.message))
        return
    yield event(StreamDone(reply="".join(text).strip(), usage=usage))


service = Service("escalation", router, start_gateway, stop_gateway)
