"""The model registry's and engines' errors, each with a stable code (the base: common.errors)."""

from __future__ import annotations

from common.errors import CompanionError as CompanionError  # re-exported: older imports keep working


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


class EngineBusy(EngineError):
    """More calls already wait for this engine than it takes: refused at once, retry shortly."""

    code = "ENGINE_BUSY"


class WakeError(EngineError):
    code = "WAKE_ERROR"


class VadError(EngineError):
    code = "VAD_ERROR"


class SttError(EngineError):
    code = "STT_ERROR"


class TurnError(EngineError):
    code = "TURN_ERROR"


class TtsError(EngineError):
    code = "TTS_ERROR"


class LlmError(EngineError):
    code = "LLM_ERROR"
