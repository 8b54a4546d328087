"""Fallback across upstreams, with retries and timeouts. Fallback is only possible before the
first token; after it, a failure ends the stream with an error event."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from cloud.chat.schemas import DEFAULT_MODEL, ChatCompletionRequest, Chunk, merge_tool_calls
from cloud.chat.upstreams import Upstream, UpstreamFailure
from cloud.common.errors import ApiError, NotFound

log = logging.getLogger(__name__)


class Gateway:
    def __init__(
        self,
        upstreams: list[Upstream],
        *,
        first_token_timeout_s: float = 15.0,
        total_timeout_s: float = 60.0,
        retries: int = 1,
        max_tokens: int = 1024,
        metrics: Any = None,
    ) -> None:
        self.upstreams = upstreams
        self.metrics = metrics  # cloud.common.metrics.Metrics, when the app has one
        self.created = int(time.time())  # what /v1/models says for `created`
        self.max_tokens = max_tokens
        self.first_token_timeout_s = first_token_timeout_s
        self.total_timeout_s = total_timeout_s
        self.retries = retries

    def models(self) -> list[str]:
        names = [DEFAULT_MODEL]
        for upstream in self.upstreams:
            names += [m for m in upstream.models() if m not in names]
        return names

    def _chain(self, model: str) -> list[Upstream]:
        if model == DEFAULT_MODEL:
            return list(self.upstreams)
        serving = [u for u in self.upstreams if model in u.models()]
        if not serving:
            raise NotFound(f"no model called {model!r}", code="MODEL_NOT_FOUND", hint=f"try one of {self.models()}")
        return serving + [u for u in self.upstreams if u not in serving]

    def _capable(self, request: ChatCompletionRequest, chain: list[Upstream]) -> list[Upstream]:
        """Refuses what no upstream here serves with OpenAI's 400, rather than ignoring it with a 200."""
        if request.n is not None and request.n > 1:
            raise ApiError(
                "this gateway returns one choice per request; send n=1 (or leave it out)",
                code="UNSUPPORTED_PARAMETER",
                status=400,
                param="n",
            )
        if request.logprobs or request.top_logprobs:
            raise ApiError(
                "log probabilities are not available from this gateway",
                code="UNSUPPORTED_PARAMETER",
                status=400,
                param="logprobs" if request.logprobs else "top_logprobs",
            )
        needs = set(request.needs())
        able = [u for u in chain if needs <= u.supports]
        if chain and not able:
            missing = sorted(needs - set().union(*(u.supports for u in chain)))[0]
            raise ApiError(
                f"the model {request.model!r} cannot use '{missing}' here: the built-in model makes plain text only",
                code="UNSUPPORTED_PARAMETER",
                status=400,
                param=missing,
                hint="point COMPANION_CLOUD_LLM_UPSTREAMS at an OpenAI-compatible server that supports "
                "it (vLLM, llama.cpp server)",
            )
        return able

    async def stream(self, request: ChatCompletionRequest) -> AsyncIterator[Chunk]:
        if request.limit() > self.max_tokens:
            request = request.model_copy(update={"max_tokens": self.max_tokens, "max_completion_tokens": None})
        chain = self._capable(request, self._chain(request.model))
        if not chain:
            raise ApiError("no LLM upstream is configured", code="NO_UPSTREAM", status=503)
        failures: list[str] = []
        timed_out = True
        for upstream in chain:
            for attempt in range(self.retries + 1):
                pieces = upstream.stream(request)
                started = time.monotonic()
                try:
                    first = await asyncio.wait_for(anext(pieces), self.first_token_timeout_s)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    failures.append(f"{upstream.name}: no first token within {self.first_token_timeout_s:g} s")
                    self._fell_back(upstream, "timeout")
                    await _close(pieces)
                    break  # a slow upstream stays slow: move on rather than retry
                except UpstreamFailure as err:
                    timed_out = False
                    failures.append(str(err))
                    self._fell_back(upstream, "failed")
                    await _close(pieces)
                    log.warning(
                        "gateway.upstream_failed",
                        extra={"upstream": upstream.name, "attempt": attempt, "error": str(err)},
                    )
                    continue
                meter = _Meter(self.metrics, upstream.name, started)
                meter.saw(first)
                yield first
                deadline = time.monotonic() + self.total_timeout_s
                async for chunk in pieces:
                    meter.saw(chunk)
                    yield chunk
                    if time.monotonic() > deadline:
                        await _close(pieces)
                        raise ApiError("the completion took too long", code="UPSTREAM_TIMEOUT", status=504)
                meter.done()
                return
        if timed_out and failures:
            raise ApiError(
                "every LLM upstream timed out", code="UPSTREAM_TIMEOUT", status=504, hint="; ".join(failures)
            )
        raise ApiError("every LLM upstream failed", code="UPSTREAM_FAILED", status=502, hint="; ".join(failures))

    def _fell_back(self, upstream: Upstream, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.fallbacks.labels(upstream.name, reason).inc()

    async def collect(self, request: ChatCompletionRequest) -> Collected:
        whole = Collected()
        async for chunk in self.stream(request):
            whole.text.append(chunk.text)
            whole.finish = chunk.finish_reason or whole.finish
            whole.usage = chunk.usage or whole.usage
            if chunk.tool_calls:
                merge_tool_calls(whole.tool_calls, chunk.tool_calls)
        return whole

    async def complete(self, request: ChatCompletionRequest) -> tuple[str, str, dict[str, int]]:
        whole = await self.collect(request)
        return "".join(whole.text), whole.finish, whole.usage

    async def close(self) -> None:
        for upstream in self.upstreams:
            await upstream.close()


@dataclass
class Collected:
    text: list[str] = field(default_factory=list)
    finish: str = "stop"
    usage: dict[str, int] = field(
        default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    )
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


class _Meter:
    """First-token time and tokens per second of one completion, for the metrics."""

    def __init__(self, metrics: Any, upstream: str, started: float) -> None:
        self.metrics, self.upstream, self.started = metrics, upstream, started
        self.first: float | None = None
        self.pieces = 0
        self.tokens: int | None = None

    def saw(self, chunk: Chunk) -> None:
        if self.first is None:
            self.first = time.monotonic()
        self.pieces += 1 if chunk.text else 0
        if chunk.usage and chunk.usage.get("completion_tokens") is not None:
            self.tokens = int(chunk.usage["completion_tokens"])

    def done(self) -> None:
        if self.metrics is None or self.first is None:
            return
        tokens = self.tokens if self.tokens is not None else self.pieces
        self.metrics.first_token.labels(self.upstream).observe(self.first - self.started)
        self.metrics.tokens.labels(self.upstream).inc(tokens)
        spent = time.monotonic() - self.first
        if tokens > 1 and spent > 0:
            self.metrics.tokens_per_s.labels(self.upstream).observe((tokens - 1) / spent)


async def _close(pieces: AsyncIterator[Chunk]) -> None:
    aclose = getattr(pieces, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception:  # closing a broken upstream must not mask the real error
            log.debug("gateway.close_failed", exc_info=True)
