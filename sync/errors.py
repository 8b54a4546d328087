"""Sync errors with stable codes. `sync` imports nothing of ours, so it has its own base."""

from __future__ import annotations


class SyncError(Exception):
    code = "SYNC_ERROR"

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" + (f" ({self.hint})" if self.hint else "")


class SyncProtocolError(SyncError):
    """A peer sent bytes that are not a sync message or not a Yjs update."""

    code = "SYNC_BAD_MESSAGE"
