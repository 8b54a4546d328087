"""Errors with stable codes.

`CompanionError` is the base every tier shares: models is the one package both the hub
and the cloud may import, so the base lives here and the other areas subclass it.
"""

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


class ModelError(CompanionError):
    code = "MODEL_ERROR"


class ModelNotInstalled(ModelError):
    code = "MODEL_NOT_INSTALLED"


class ModelCorrupt(ModelError):
    code = "MODEL_CORRUPT"


class UnknownModel(ModelError):
    code = "MODEL_UNKNOWN"


class EngineError(CompanionError):
    code = "ENGINE_ERROR"


class EngineTimeout(EngineError):
    code = "ENGINE_TIMEOUT"


class WakeError(EngineError):
    code = "WAKE_ERROR"


class VadError(EngineError):
    code = "VAD_ERROR"


class SttError(EngineError):
    code = "STT_ERROR"


class TtsError(EngineError):
    code = "TTS_ERROR"


class LlmError(EngineError):
    code = "LLM_ERROR"
