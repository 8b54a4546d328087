"""Streamed text to whole sentences: TTS speaks the first while the rest is still being written."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

# A sentence ends at . ! ? followed by a space, unless the dot ends a number ("2.5") or "e.g.".
_END = re.compile(r"(?<!\d\.)(?<!\be\.g\.)(?<!\bi\.e\.)(?<=[.!?])\s+")
MAX_CHARS = 220  # a run-on stream is cut at a comma or space so speech never waits too long


async def sentences(pieces: AsyncIterator[str]) -> AsyncIterator[str]:
    buffer = ""
    async for piece in pieces:
        buffer += piece
        while True:
            m = _END.search(buffer)
            if m is None:
                if len(buffer) > MAX_CHARS:
                    cut = max(buffer.rfind(", ", 0, MAX_CHARS), buffer.rfind(" ", 0, MAX_CHARS))
                    if cut > 0:
                        head, buffer = buffer[: cut + 1].strip(), buffer[cut + 1 :]
                        if head:
                            yield head
                        continue
                break
            head, buffer = buffer[: m.start()].strip(), buffer[m.end() :]
            if head:
                yield head
    if buffer.strip():
        yield buffer.strip()
