"""Escalation to the cloud: the conversation out, the reply streamed back as it is written.

A time budget bounds every call (first words, then the whole reply): a hub must never hang on
a slow or absent cloud. Failures come back as a coded `CloudUnavailable`, and the router
answers locally.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from httpx_sse import EventSource
from pydantic import ValidationError

from common.escalation import ESCALATION_EVENTS, EscalationEvent, EscalationRequest, ReplyDelta, StreamError
from models.errors import CompanionError


class CloudUnavailable(CompanionError):
    """Codes: CLOUD_UNREACHABLE, CLOUD_TIMEOUT, CLOUD_NOT_LINKED, CLOUD_REJECTED, CLOUD_ERROR."""

    code = "CLOUD_UNAVAILABLE"


TokenSource = Callable[[], Awaitable[str]]


class Escalator:
    def __init__(
        self,
        base_url: str,
        hub_id: str,
        token: TokenSource,
        *,
        first_reply_s: float = 4.0,
        total_s: float = 20.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.hub_id = hub_id
        self.token = token
        self.first_reply_s = first_reply_s
        self.total_s = total_s
        self.http = httpx.AsyncClient(
            base_url=self.base_url, transport=transport, timeout=httpx.Timeout(total_s, connect=min(2.0, first_reply_s))
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def stream(self, conversation: list[dict[str, str]], context: dict[str, Any]) -> AsyncIterator[str]:
        """The reply's text pieces. Raises CloudUnavailable, before or during the stream."""
        started = time.monotonic()
        try:
            token = await asyncio.wait_for(self.token(), self.first_reply_s)
        except TimeoutError:
            raise CloudUnavailable("the cloud did not answer in time", code="CLOUD_TIMEOUT") from None
        except CompanionError as err:
            code = "CLOUD_NOT_LINKED" if err.code == "CLOUD_NOT_SIGNED_IN" else "CLOUD_UNREACHABLE"
            raise CloudUnavailable(err.message, code=code, hint=err.hint) from err
        try:
            body = EscalationRequest(hub_id=self.hub_id, conversation=conversation, context=context)
        except ValidationError as err:  # ours to fix, not the cloud's: say what, and answer locally
            raise CloudUnavailable(
                f"the escalation is malformed: {err.errors()[0]['msg']}", code="CLOUD_ERROR"
            ) from err
        request = self.http.build_request(
            "POST", "/v1/escalate", content=body.model_dump_json(), headers=self._headers(token)
        )
        try:
            response = await asyncio.wait_for(self.http.send(request, stream=True), self._left(started, first=True))
        except TimeoutError:
            raise CloudUnavailable("the cloud did not answer in time", code="CLOUD_TIMEOUT") from None
        except httpx.HTTPError as err:
            raise CloudUnavailable(f"cannot reach the cloud ({type(err).__name__})", code="CLOUD_UNREACHABLE") from err
        try:
            if response.status_code != 200:
                await response.aread()
                code = "CLOUD_REJECTED" if response.status_code in (401, 403) else "CLOUD_ERROR"
                raise CloudUnavailable(f"the cloud answered {response.status_code}", code=code)
            async for event in self._events(response, started):
                if isinstance(event, ReplyDelta):
                    if event.text:
                        yield event.text
                elif isinstance(event, StreamError):
                    raise CloudUnavailable(event.message, code="CLOUD_ERROR")
                else:
                    return
        finally:
            await response.aclose()

    async def _events(self, response: httpx.Response, started: float) -> AsyncIterator[EscalationEvent]:
        """The stream's events (httpx-sse reads the SSE framing), each within what is left of its budget:
        the first reply within `first_reply_s`, the rest within `total_s`."""
        events = EventSource(response).aiter_sse()
        first = True
        while True:
            try:
                async with asyncio.timeout(self._left(started, first=first)):  # a barge-in's cancel is never lost
                    sse = await anext(events, None)
            except TimeoutError:
                raise CloudUnavailable("the cloud's reply took too long", code="CLOUD_TIMEOUT") from None
            except httpx.HTTPError as err:
                error = f"the cloud's reply broke off ({type(err).__name__})"
                raise CloudUnavailable(error, code="CLOUD_UNREACHABLE") from err
            if sse is None:
                return
            try:
                event = ESCALATION_EVENTS.validate_json(sse.data)
            except ValidationError as err:
                raise CloudUnavailable("the cloud's reply is not what the hub understands", code="CLOUD_ERROR") from err
            first = first and not (isinstance(event, ReplyDelta) and event.text)
            yield event

    @staticmethod
    def _headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def _left(self, started: float, *, first: bool) -> float:
        budget = self.first_reply_s if first else self.total_s
        return max(0.01, budget - (time.monotonic() - started))
