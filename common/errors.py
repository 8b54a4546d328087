"""The error base every tier shares: a stable code, a message, and a fix."""

from __future__ import annotations


class CompanionError(Exception):
    """An error a user or an API client can act on: a stable `code`, a message, a fix."""

    code = "COMPANION_ERROR"

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return out

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" + (f" ({self.hint})" if self.hint else "")
