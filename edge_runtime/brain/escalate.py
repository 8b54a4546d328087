"""Escalation to the cloud: the conversation out, the reply streamed back as it is written.

A time budget bounds every call (first words, then the whole reply): a hub must never hang on
a slow or absent cloud. Failures come back as a coded `CloudUnavailable`, and the router
answers locally.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from models.errors import CompanionError


class CloudUnavailable(CompanionError):
    """Codes: CLOUD_UNREACHABLE, CLOUD_TIMEOUT, CLOUD_NOT_LINKED, CLOUD_REJECTED, CLOUD_ERROR."""

    code = "CLOUD_UNAVAILABLE"


TokenSource = Callable[[], Awaitable[str]]


class Escalator:
    def __init__(self, base_url: str, hub_id: str, token: TokenSource, *, first_reply_s: float = 4.0,
                 total_s: float = 20.0, transport: httpx.AsyncBaseTransport | None = None) -> None:  # fmt: skip
        self.base_url = base_url.rstrip("/")
        self.hub_id = hub_id
        self.token = token
        self.first_reply_s = first_reply_s
        self.total_s = total_s
        self.http = httpx.AsyncClient(base_url=self.base_url, transport=transport,
                                      timeout=httpx.Timeout(total_s, connect=min(2.0, first_reply_s)))  # fmt: skip

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
        body = {"hub_id": self.hub_id, "conversation": conversation, "context": context, "stream": True}
        request = self.http.build_request("POST", "/v1/escalate", json=body,
                                          headers={"Authorization": f"Bearer {token}"})  # fmt: skip
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
            lines = response.aiter_lines()
            first = True
            while True:
                try:
                    line = await asyncio.wait_for(anext(lines, None), self._left(started, first=first))
                except TimeoutError:
                    raise CloudUnavailable("the cloud's reply took too long", code="CLOUD_TIMEOUT") from None
                except httpx.HTTPError as err:
                    raise CloudUnavailable(f"the cloud's reply broke off ({type(err).__name__})",
                                           code="CLOUD_UNREACHABLE") from err  # fmt: skip
                if line is None:
                    return
                if not line.startswith("data: "):
                    continue
                event = json.loads(line[6:])
                if event.get("type") == "reply.delta" and event.get("text"):
                    first = False
                    yield str(event["text"])
                elif event.get("type") == "error":
                    raise CloudUnavailable(str(event.get("message", "")), code="CLOUD_ERROR")
                elif event.get("type") == "done":
                    return
        finally:
            await response.aclose()

    def _left(self, started: float, *, first: bool) -> float:
        budget = self.first_reply_s if first else self.total_s
        return max(0.01, budget - (time.monotonic() - started))
