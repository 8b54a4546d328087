"""Client audio in, the models' audio out: 16-bit PCM at any usual rate to 16 kHz mono, and back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from wyoming.audio import AudioChunk, AudioStart

from edge_runtime.audio.convert import StreamResampler, to_int16
from edge_runtime.wyoming.errors import BadAudio
from models.audio import RATE

OUT_SAMPLES = 2048  # per outgoing chunk: about 93 ms at Piper's 22.05 kHz


@dataclass(frozen=True)
class Format:
    rate: int
    width: int
    channels: int

    @classmethod
    def of(cls, data: dict[str, Any]) -> Format:
        try:
            fmt = cls(int(data["rate"]), int(data["width"]), int(data["channels"]))
        except (KeyError, TypeError, ValueError):
            raise BadAudio("audio events need integer 'rate', 'width' and 'channels'") from None
        if not 8000 <= fmt.rate <= 48000 or fmt.width != 2 or fmt.channels not in (1, 2):
            raise BadAudio(
                f"audio must be 16-bit PCM, 8-48 kHz, mono or stereo; got {fmt.rate} Hz, "
                f"{8 * fmt.width}-bit, {fmt.channels} channel(s)",
                hint="Home Assistant sends 16 kHz 16-bit mono, which needs no conversion",
            )
        return fmt


class Decoder:
    """One stream's PCM bytes to 16 kHz mono float32, keeping partial samples between chunks."""

    def __init__(self, fmt: Format) -> None:
        self.fmt = fmt
        self._frame = fmt.width * fmt.channels
        self._rest = b""
        self._resample = StreamResampler(fmt.rate, RATE)
        self.samples_in = 0  # at the client's rate: what timestamps count

    def decode(self, data: dict[str, Any], payload: bytes | None) -> np.ndarray:
        if Format.of(data) != self.fmt:
            raise BadAudio("an audio chunk's format differs from its stream's audio-start")
        raw = self._rest + (payload or b"")
        whole = len(raw) - len(raw) % self._frame
        raw, self._rest = raw[:whole], raw[whole:]
        pcm = np.frombuffer(raw, dtype="<i2")
        if self.fmt.channels == 2:
            pcm = pcm.reshape(-1, 2).mean(axis=1).astype(np.int16)
        self.samples_in += len(pcm)
        return self._resample(pcm)

    @property
    def ms(self) -> int:
        return 1000 * self.samples_in // self.fmt.rate


def audio_start(rate: int) -> AudioStart:
    return AudioStart(rate=rate, width=2, channels=1)


def audio_chunks(audio: np.ndarray, rate: int, timestamp_ms: int = 0) -> Iterator[AudioChunk]:
    """float32 mono to s16le chunks, each stamped with its start in ms, as Wyoming's TTS services send."""
    pcm = to_int16(audio)
    for start in range(0, len(pcm), OUT_SAMPLES):
        part = pcm[start : start + OUT_SAMPLES]
        yield AudioChunk(
            rate=rate,
            width=2,
            channels=1,
            audio=part.astype("<i2").tobytes(),
            timestamp=timestamp_ms + 1000 * start // rate,
        )
