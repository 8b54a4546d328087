"""The OpenAI chat-completions wire format (the subset clients use), and our internal chunk."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

DEFAULT_MODEL = "companion"


class Message(BaseModel):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = Field(default="")
    name: str | None = Field(None, max_length=64)
    tool_calls: list[dict[str, Any]] | None = Field(None, max_length=64)  # an assistant's calls, passed through
    tool_call_id: str | None = Field(None, max_length=128)  # a tool message answers this call

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model: str = Field(DEFAULT_MODEL, max_length=128)
    messages: list[Message] = Field(min_length=1, max_length=200)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1, le=4096)
    max_completion_tokens: int | None = Field(None, ge=1, le=4096)
    temperature: float = Field(0.7, ge=0, le=2)
    top_p: float = Field(0.95, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = Field(None, max_length=256)
    # Accepted and checked: the gateway serves one choice, and no log probabilities.
    n: int | None = Field(None, ge=1, le=128)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    stream_options: StreamOptions | None = None
    # Passed through to OpenAI-compatible upstreams; the built-in model refuses them with a 400.
    tools: list[dict[str, Any]] | None = Field(None, max_length=128)
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)

    def needs(self) -> list[str]:
        """What this request asks of an upstream beyond plain text, as parameter names."""
        wanted = []
        if self.tools:
            wanted.append("tools")
        if self.response_format and self.response_format.get("type", "text") != "text":
            wanted.append("response_format")
        if any(m.role == "tool" or m.tool_calls for m in self.messages):
            wanted.append("messages")  # a conversation with tool calls in it
        return wanted

    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    def limit(self) -> int:
        return self.max_completion_tokens or self.max_tokens or 256

    def stops(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)[:4]


@dataclass
class Chunk:
    """One streamed piece from an upstream: text, and at the end a finish reason and usage."""

    text: str = ""
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    tool_calls: list[dict[str, Any]] | None = None  # streamed deltas, as an upstream sent them


@dataclass
class Completion:
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex[:24]}")
    created: int = field(default_factory=lambda: int(time.time()))

    def chunk(self, model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def usage_chunk(self, model: str, usage: dict[str, int]) -> dict[str, Any]:
        """The last chunk when stream_options.include_usage is set: no choices, the whole usage."""
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": model,
            "choices": [],
            "usage": usage,
        }

    def whole(
        self, model: str, text: str, finish: str, usage: dict[str, int], tool_calls: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": text if text or not tool_calls else None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": usage,
        }


def merge_tool_calls(calls: list[dict[str, Any]], deltas: list[dict[str, Any]]) -> None:
    """Fold streamed tool-call deltas into whole calls: by index, arguments concatenated."""
    for delta in deltas:
        index = int(delta.get("index", 0))
        while len(calls) <= index:
            calls.append({"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
        call = calls[index]
        call["id"] = delta.get("id") or call["id"]
        call["type"] = delta.get("type") or call["type"]
        fn = delta.get("function") or {}
        call["function"]["name"] += fn.get("name") or ""
        call["function"]["arguments"] += fn.get("arguments") or ""
