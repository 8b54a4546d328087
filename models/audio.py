"""WAV in and out of memory, for tiers that receive audio as bytes (the cloud's voice API): decode
any rate and channel count to the 16 kHz mono float32 that STT takes, and encode 16-bit PCM WAV.

Lives in models (not edge_runtime/audio) because the cloud may import only models and sync.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np

from models.errors import CompanionError

RATE = 16000  # the one sample rate: every model hears 16 kHz mono float32, the pipeline carries it
_STREAMING_SIZES = (0, 0xFFFFFFFF)  # writers that don't know the length up front put these


class AudioError(CompanionError):
    code = "AUDIO_ERROR"


class AudioFormatError(AudioError):
    """Audio that cannot be read as what it claims to be: one class, and one code, for both tiers."""

    code = "AUDIO_INVALID"


@dataclass(frozen=True)
class WavInfo:
    rate: int
    channels: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


def wav_info(data: bytes) -> WavInfo:
    """The header's layout and length, checked against the bytes actually there: a truncated
    upload is an error here, not a shorter utterance."""
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RF64") or data[8:12] != b"WAVE":
        hint = "send 16-bit PCM WAV, any rate, mono or stereo"
        raise AudioFormatError("not a WAV file (no RIFF/WAVE header)", hint=hint)
    pos = 12
    declared = None
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk == b"data":
            declared = size
            have = len(data) - pos - 8
            if size not in _STREAMING_SIZES and size > have:
                raise AudioFormatError(f"the WAV file is truncated: {have} of {size} bytes of audio")
            break
        pos += 8 + size + (size & 1)
    if declared is None:
        raise AudioFormatError("the WAV file has no audio data chunk")
    try:
        import soundfile as sf

        info = sf.info(io.BytesIO(data))
    except Exception as err:
        raise AudioFormatError(f"the WAV file is unreadable ({err})".replace("\n", " ")) from err
    if not 1 <= info.channels <= 32 or not 1000 <= info.samplerate <= 384000:
        raise AudioFormatError(f"unsupported layout: {info.channels} channels at {info.samplerate} Hz")
    return WavInfo(int(info.samplerate), int(info.channels), max(0, int(info.frames)))


def decode_wav(data: bytes, info: WavInfo | None = None) -> np.ndarray:
    """16 kHz mono float32 in [-1, 1]."""
    import soundfile as sf
    import soxr

    info = info or wav_info(data)
    try:
        audio, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as err:
        raise AudioFormatError(f"the WAV audio is corrupt ({err})".replace("\n", " ")) from err
    mono = audio.mean(axis=1) if audio.shape[1] > 1 else audio[:, 0]
    if not np.isfinite(mono).all():
        raise AudioFormatError("the WAV audio holds NaN or infinite samples")
    if rate != RATE and len(mono):
        mono = soxr.resample(mono, rate, RATE)
    return np.ascontiguousarray(np.clip(mono, -1.0, 1.0), dtype=np.float32)


def encode_wav(audio: np.ndarray, rate: int) -> bytes:
    """16-bit PCM mono WAV bytes."""
    import soundfile as sf

    out = io.BytesIO()
    sf.write(out, np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0), rate, format="WAV", subtype="PCM_16")
    return out.getvalue()
