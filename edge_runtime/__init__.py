"""The hub process: audio pipeline, local skills, and (in later issues) devices, LAN API, WebRTC.

Heavy parts (engines, the hub assembly) are imported from their modules; this module
re-exports the light, stable surface.
"""

from edge_runtime.errors import AudioDeviceError, AudioError, AudioFormatError
from edge_runtime.frames import (
    AudioIn,
    EndOfStream,
    Frame,
    Interrupt,
    Reply,
    StartListening,
    SystemFrame,
    Transcript,
    TTSAudio,
    Utterance,
    WakeDetected,
)
from edge_runtime.settings import EdgeSettings
from edge_runtime.trace import Mark, Tracer

__all__ = [
    "AudioDeviceError",
    "AudioError",
    "AudioFormatError",
    "AudioIn",
    "EdgeSettings",
    "EndOfStream",
    "Frame",
    "Interrupt",
    "Mark",
    "Reply",
    "StartListening",
    "SystemFrame",
    "TTSAudio",
    "Tracer",
    "Transcript",
    "Utterance",
    "WakeDetected",
]
