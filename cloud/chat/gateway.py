"""Fallback across upstreams, with retries and timeouts. Fallback is only possible before the
first token; after it, a failure ends the stream with an error event."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from cloud.chat.schemas import DEFAULT_MODEL, ChatCompletionRequest, Chunk
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
    ) -> None:
        self.upstreams = upstreams
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

    async def stream(self, request: ChatCompletionRequest) -> AsyncIterator[Chunk]:
        if request.limit() > self.max_tokens:
            request = request.model_copy(update={"max_tokens": self.max_tokens, "max_completion_tokens": None})
        chain = self._chain(request.model)
        if not chain:
            raise ApiError("no LLM upstream is configured", code="NO_UPSTREAM", status=503)
        failures: list[str] = []
        timed_out = True
        for upstream in chain:
            for attempt in range(self.retries + 1):
                pieces = upstream.stream(request)
                try:
                    first = await asyncio.wait_for(anext(pieces), self.first_token_timeout_s)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    failures.append(f"{upstream.name}: no first token within {self.first_token_timeout_s:g} s")
                    await _close(pieces)
                    break  # a slow upstream stays slow: move on rather than retry
                except UpstreamFailure as err:
                    timed_out = False
                    failures.append(str(err))
                    await _close(pieces)
                    log.warning("gateway.upstream_failed", extra={"upstream": upstream.name, "attempt": attempt,
                                                                  "error": str(err)})  # fmt: skip
                    continue
                yield first
                deadline = time.monotonic() + self.total_timeout_s
                async for chunk in pieces:
                    yield chunk
                    if time.monotonic() > deadline:
                        await _close(pieces)
                        raise ApiError("the completion took too long", code="UPSTREAM_TIMEOUT", status=504)
                return
        if timed_out and failures:
            raise ApiError(
                "every LLM upstream timed out", code="UPSTREAM_TIMEOUT", status=504, hint="; ".join(failures)
            )
        raise ApiError("every LLM upstream failed", code="UPSTREAM_FAILED", status=502, hint="; ".join(failures))

    async def complete(self, request: ChatCompletionRequest) -> tuple[str, str, dict[str, int]]:
        text, finish, usage = [], "stop", {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        async for chunk in self.stream(request):
            text.append(chunk.text)
            finish = chunk.finish_reason or finish
            usage = chunk.usage or usage
        return "".join(text), finish, usage

    async def close(self) -> None:
        for upstream in self.upstreams:
            await upstream.close()


async def _close(pieces: AsyncIterator[Chunk]) -> None:
    aclose = getattr(pieces, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception:  # closing a broken upstream must not mask the real error
            log.debug("gateway.close_failed", exc_info=True)
