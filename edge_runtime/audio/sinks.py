"""Where the hub's voice goes: WAV files, raw PCM streams, memory, a live speaker."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from edge_runtime.audio.sources import _sounddevice, require_device


class AudioSink(Protocol):
    rate: int

    def write(self, pcm: np.ndarray) -> None: ...

    def close(self) -> None: ...


class WavSink:
    def __init__(self, path: Path | str, rate: int) -> None:
        self.path = Path(path)
        self.rate = rate
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - closed in close(), a sink outlives a block
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(rate)

    def write(self, pcm: np.ndarray) -> None:
        self._wav.writeframes(pcm.astype("<i2").tobytes())

    def close(self) -> None:
        self._wav.close()


class PcmSink:
    """Raw s16le to a byte stream, e.g. `companion ... --stdout | aplay -r 22050 -f S16_LE`."""

    def __init__(self, stream: BinaryIO, rate: int) -> None:
        self.stream = stream
        self.rate = rate

    def write(self, pcm: np.ndarray) -> None:
        self.stream.write(pcm.astype("<i2").tobytes())
        self.stream.flush()

    def close(self) -> None:
        self.stream.flush()


class ArraySink:
    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.blocks: list[np.ndarray] = []

    def write(self, pcm: np.ndarray) -> None:
        self.blocks.append(pcm.copy())

    def close(self) -> None:
        pass

    @property
    def audio(self) -> np.ndarray:
        return np.concatenate(self.blocks) if self.blocks else np.zeros(0, dtype=np.int16)


class SpeakerSink:
    """A live speaker; small blocks keep barge-in latency low."""

    def __init__(self, rate: int, device: int | str | None = None) -> None:
        sd = _sounddevice()
        self.rate = rate
        self._stream = sd.OutputStream(
            samplerate=rate,
            channels=1,
            dtype="int16",
            device=require_device("output") if device is None else device,
            latency="low",
        )
        self._stream.start()

    def write(self, pcm: np.ndarray) -> None:
        self._stream.write(pcm.reshape(-1, 1))

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()
