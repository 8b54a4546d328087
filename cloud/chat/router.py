"""OpenAI-compatible /v1/chat/completions (streamed as server-sent events, or not) and /v1/models."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from cloud.chat.gateway import Gateway
from cloud.chat.schemas import ChatCompletionRequest, Completion
from cloud.common.auth import require
from cloud.common.errors import ApiError
from cloud.common.tokens import Principal

router = APIRouter(prefix="/v1", tags=["chat"])
Chatter = Annotated[Principal, Depends(require("chat"))]


async def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


GatewayDep = Annotated[Gateway, Depends(gateway)]


@router.get("/models", summary="Models this gateway serves ('companion' is the default chain)")
async def models(gw: GatewayDep, _: Chatter) -> dict[str, Any]:
    return {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "companion"} for m in gw.models()]}


@router.post("/chat/completions", summary="OpenAI-compatible chat completion", response_model=None)
async def chat(body: ChatCompletionRequest, gw: GatewayDep, _: Chatter) -> dict[str, Any] | StreamingResponse:
    completion = Completion()
    if not body.stream:
        text, finish, usage = await gw.complete(body)
        return completion.whole(body.model, text, finish, usage)
    pieces = gw.stream(body)
    try:
        first = await anext(pieces)  # errors before the first token still get a proper status code
    except StopAsyncIteration:
        first = None
    return StreamingResponse(_sse(completion, body.model, first, pieces), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})  # fmt: skip


async def _sse(completion: Completion, model: str, first: Any, pieces: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    def event(data: dict[str, Any]) -> bytes:
        return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"

    yield event(completion.chunk(model, {"role": "assistant", "content": ""}))
    finish = "stop"
    try:
        chunk = first
        while chunk is not None:
            if chunk.text:
                yield event(completion.chunk(model, {"content": chunk.text}))
            finish = chunk.finish_reason or finish
            chunk = await anext(pieces, None)
    except ApiError as err:  # mid-stream: the status is sent already, so say it in the stream
        yield event({"error": {"code": err.code, "message": err.message}})
        return
    yield event(completion.chunk(model, {}, finish))
    yield b"data: [DONE]\n\n"
