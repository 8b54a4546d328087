"""Hub error types; every one carries a stable code (see models.errors.CompanionError)."""

from models.audio import AudioError, AudioFormatError
from models.errors import CompanionError


class AudioDeviceError(AudioError):
    code = "AUDIO_NO_DEVICE"


class EdgeError(CompanionError):
    """A hub-side refusal the LAN API turns into JSON with this code."""

    code = "HUB_ERROR"


__all__ = ["AudioDeviceError", "AudioError", "AudioFormatError", "CompanionError", "EdgeError"]
