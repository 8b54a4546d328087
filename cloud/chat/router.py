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
from cloud.common.embedding import EMBED_MODEL
from cloud.common.errors import ERROR_TYPES, ApiError
from cloud.common.tokens import Principal

router = APIRouter(prefix="/v1", tags=["chat"])
Chatter = Annotated[Principal, Depends(require("chat"))]


async def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


GatewayDep = Annotated[Gateway, Depends(gateway)]


@router.get("/models", summary="Models this gateway serves ('companion' is the default chain)")
async def models(request: Request, _: Chatter) -> dict[str, Any]:
    gw: Gateway = request.app.state.gateway  # not a dependency: each one FastAPI solves costs a cheap request
    names = [*gw.models(), EMBED_MODEL]
    return {
        "object": "list",
        "data": [{"id": m, "object": "model", "created": gw.created, "owned_by": "companion"} for m in names],
    }


@router.post("/chat/completions", summary="OpenAI-compatible chat completion", response_model=None)
async def chat(body: ChatCompletionRequest, gw: GatewayDep, _: Chatter) -> dict[str, Any] | StreamingResponse:
    completion = Completion()
    if not body.stream:
        whole = await gw.collect(body)
        return completion.whole(body.model, "".join(whole.text), whole.finish, whole.usage, whole.tool_calls)
    pieces = gw.stream(body)
    try:
        first = await anext(pieces)  # errors before the first token still get a proper status code
    except StopAsyncIteration:
        first = None
    return StreamingResponse(
        _sse(completion, body, first, pieces),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _sse(
    completion: Completion, body: ChatCompletionRequest, first: Any, pieces: AsyncIterator[Any]
) -> AsyncIterator[bytes]:
    def event(data: dict[str, Any]) -> bytes:
        return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"

    model = body.model
    yield event(completion.chunk(model, {"role": "assistant", "content": ""}))
    finish, usage = "stop", None
    try:
        chunk = first
        while chunk is not None:
            if chunk.text or chunk.tool_calls:
                delta: dict[str, Any] = {"content": chunk.text} if chunk.text else {}
                if chunk.tool_calls:
                    delta["tool_calls"] = chunk.tool_calls
                yield event(completion.chunk(model, delta))
            finish = chunk.finish_reason or finish
            usage = chunk.usage or usage
            chunk = await anext(pieces, None)
    except ApiError as err:  # mid-stream: the status is sent already, so say it in the stream
        kind = ERROR_TYPES.get(err.status, "server_error" if err.status >= 500 else "invalid_request_error")
        yield event({"error": {"code": err.code, "message": err.message, "type": kind, "param": err.param}})
        return
    yield event(completion.chunk(model, {}, finish))
    if body.include_usage():
        empty = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        yield event(completion.usage_chunk(model, usage or empty))
    yield b"data: [DONE]\n\n"
