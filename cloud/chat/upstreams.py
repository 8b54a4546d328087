"""Where completions come from: the built-in llama.cpp model, or any OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from cloud.chat.prompting import STOPS, transcript
from cloud.chat.schemas import ChatCompletionRequest, Chunk
from cloud.common.errors import ApiError
from models.lane import Lane
from models.threads import iterate_in_thread

log = logging.getLogger(__name__)


class UpstreamFailure(Exception):
    """An upstream could not serve this request; the gateway may try another."""


class Upstream(ABC):
    name: str
    supports: frozenset[str] = frozenset()  # what beyond plain text it can do: ChatCompletionRequest.needs()

    @abstractmethod
    def models(self) -> list[str]: ...

    @abstractmethod
    def stream(self, request: ChatCompletionRequest) -> AsyncIterator[Chunk]: ...

    async def close(self) -> None:  # noqa: B027 - most upstreams hold nothing to close
        pass


class LlamaUpstream(Upstream):
    """llama.cpp in-process. One generation at a time (the context is not shareable); others queue."""

    def __init__(self, model_path: Path, model_name: str, *, threads: int = 2, context: int = 2048) -> None:
        self.name = "builtin"
        self.model_name = model_name
        self._path = model_path
        self._threads = threads
        self._context = context
        self._llm: Any = None
        self._lock = asyncio.Lock()
        self._lane = Lane("llama")  # one thread drives the model (models.lane, as every engine's)

    async def load(self) -> None:
        from llama_cpp import Llama

        def load() -> Any:
            return Llama(model_path=str(self._path), n_ctx=self._context, n_threads=self._threads, verbose=False)

        self._llm = await asyncio.get_running_loop().run_in_executor(self._lane, load)

    def models(self) -> list[str]:
        return [self.model_name]

    async def stream(self, request: ChatCompletionRequest) -> AsyncIterator[Chunk]:
        if self._llm is None:
            raise UpstreamFailure("the built-in model is not loaded")
        max_tokens = min(request.limit(), self._context // 2)
        prompt, prompt_tokens = self._fit(request, max_tokens)
        async with self._lock:
            produced = 0
            finish = "length"
            pieces = iterate_in_thread(
                lambda: self._llm.create_completion(
                    prompt,
                    max_tokens=max_tokens,
                    temperature=request.temperature,
                    top_p=request.top_p,
                    stop=STOPS + request.stops(),
                    seed=request.seed if request.seed is not None else -1,
                    stream=True,
                ),
                executor=self._lane,
            )
            try:
                async for piece in pieces:
                    choice = piece["choices"][0]
                    text = choice.get("text") or ""
                    if not produced:
                        text = text.lstrip()  # the transcript format puts a space after "Companion:"
                    if text:
                        produced += 1
                        yield Chunk(text)
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
            except Exception as err:
                raise UpstreamFailure(f"llama.cpp failed: {err}") from err
            finally:
                await pieces.aclose()  # the client went away, or we are done: free the model for the next request
            yield Chunk(
                "",
                finish,
                {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": produced,
                    "total_tokens": prompt_tokens + produced,
                },
            )

    def _fit(self, request: ChatCompletionRequest, max_tokens: int) -> tuple[str, int]:
        """The newest turns that fit the context window with room for the reply."""
        room = self._context - max_tokens - 8
        budget = 8000
        while True:
            prompt = transcript(request.messages, budget_chars=budget)
            used = len(self._llm.tokenize(prompt.encode()))
            if used <= room:
                return prompt, used
            if budget < 256:
                raise ApiError(
                    "the conversation is too long for the model's context",
                    code="PROMPT_TOO_LONG",
                    status=400,
                    hint=f"keep it under about {room} tokens",
                )
            budget //= 2


class OpenAIUpstream(Upstream):
    """vLLM, a llama.cpp server, or any OpenAI-compatible endpoint, streamed with httpx."""

    supports = frozenset({"tools", "response_format", "messages"})  # passed through as the client sent them

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = self.base_url
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout_s, connect=5.0)
        )
        self._models: list[str] = []

    def models(self) -> list[str]:
        return list(self._models)

    async def refresh_models(self) -> None:
        try:
            response = await self._client.get("/models")
            response.raise_for_status()
            self._models = [m["id"] for m in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError, KeyError) as err:
            log.warning("upstream.models_unavailable", extra={"upstream": self.name, "error": str(err)})

    async def stream(self, request: ChatCompletionRequest) -> AsyncIterator[Chunk]:
        if not self._models:
            await self.refresh_models()
        model = request.model if request.model in self._models else (self._models[0] if self._models else request.model)
        payload = {
            **request.model_dump(exclude_none=True, exclude={"n"}),
            "model": model,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        try:
            async with self._client.stream("POST", "/chat/completions", json=payload) as response:
                if response.status_code >= 400:
                    raise UpstreamFailure(f"{self.name} answered {response.status_code}")
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    event = json.loads(data)
                    choice = (event.get("choices") or [{}])[0]
                    delta = choice.get("delta") or {}
                    text, calls = delta.get("content") or "", delta.get("tool_calls") or None
                    if text or calls or choice.get("finish_reason") or event.get("usage"):
                        yield Chunk(text, choice.get("finish_reason"), event.get("usage"), calls)
        except httpx.HTTPError as err:
            raise UpstreamFailure(f"{self.name}: {type(err).__name__} {err}") from err
        except ValueError as err:
            raise UpstreamFailure(f"{self.name} sent a malformed stream") from err

    async def close(self) -> None:
        await self._client.aclose()
