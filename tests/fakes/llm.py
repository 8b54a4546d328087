"""A fake LLM with knobs, for unit tests of the router: what it says, what it calls, how slowly."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from models.llm import LLM, Messages


class FakeLLM(LLM):
    def __init__(
        self,
        *,
        fake_text: str = "Hello!",
        fake_tool_call: dict[str, Any] | None = None,
        fake_exception: Exception | None = None,
        piece_delay_s: float = 0.0,
    ) -> None:
        super().__init__()
        self.fake_text = fake_text
        self.fake_tool_call = fake_tool_call or {}
        self.fake_exception = fake_exception
        self.piece_delay_s = piece_delay_s
        self.schemas: list[dict[str, Any]] = []
        self.piece_times: list[float] = []

    def _stream(self, messages: Messages, max_tokens: int, temperature: float, stop: list[str]) -> Iterator[str]:
        if self.fake_exception:
            raise self.fake_exception
        for word in self.fake_text.split(" "):
            time.sleep(self.piece_delay_s)
            self.piece_times.append(time.perf_counter())
            yield word + " "

    def _json(self, messages: Messages, schema: dict[str, Any], max_tokens: int) -> str:
        import json

        self.schemas.append(schema)
        if self.fake_exception:
            raise self.fake_exception
        return json.dumps(self.fake_tool_call)
