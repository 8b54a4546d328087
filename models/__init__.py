"""The model registry and one thin runtime per model kind.

Runtimes are imported lazily (`from models.stt import WhisperSTT`) because each pulls in a
heavy engine; this module re-exports only the light, always-needed parts.
"""

from models.errors import (
    CompanionError,
    EngineError,
    EngineTimeout,
    ModelCorrupt,
    ModelError,
    ModelNotInstalled,
    SttError,
    TtsError,
    UnknownModel,
    VadError,
    WakeError,
)
from models.registry import Check, ModelEntry, Override, Registry, Status, load_manifest

__all__ = [
    "Check",
    "CompanionError",
    "EngineError",
    "EngineTimeout",
    "ModelCorrupt",
    "ModelEntry",
    "ModelError",
    "ModelNotInstalled",
    "Override",
    "Registry",
    "Status",
    "SttError",
    "TtsError",
    "UnknownModel",
    "VadError",
    "WakeError",
    "load_manifest",
]
