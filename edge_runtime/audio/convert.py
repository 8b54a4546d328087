"""Sample-format and sample-rate conversion, streaming so long inputs stay in bounded memory."""

from __future__ import annotations

import numpy as np
import soxr


def to_int16(audio: np.ndarray) -> np.ndarray:
    if audio.dtype == np.int16:
        return audio
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


def to_float32(pcm: np.ndarray) -> np.ndarray:
    if pcm.dtype == np.float32:
        return pcm
    return (pcm.astype(np.float32) / 32768.0).astype(np.float32)


def to_mono(block: np.ndarray) -> np.ndarray:
    """(frames, channels) -> (frames,), averaging channels."""
    if block.ndim == 1:
        return block
    if block.shape[1] == 1:
        return block[:, 0]
    return block.mean(axis=1).astype(block.dtype)


class StreamResampler:
    """Resamples a stream block by block (soxr keeps the filter state between calls)."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._soxr = None if in_rate == out_rate else soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32")

    def __call__(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        audio = to_float32(block)
        if self._soxr is None:
            return audio
        return np.asarray(self._soxr.resample_chunk(audio, last=last), dtype=np.float32)


def resample(audio: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    audio = to_float32(audio)
    if in_rate == out_rate:
        return audio
    return np.asarray(soxr.resample(audio, in_rate, out_rate), dtype=np.float32)


class Reblocker:
    """Cuts a stream of arbitrary-length blocks into fixed-size frames."""

    def __init__(self, size: int, dtype: type = np.int16) -> None:
        self.size = size
        self._buf: np.ndarray = np.zeros(0, dtype=dtype)

    def push(self, block: np.ndarray) -> list[np.ndarray]:
        self._buf = np.concatenate([self._buf, block]) if len(self._buf) else block
        n = len(self._buf) // self.size
        frames = [self._buf[i * self.size : (i + 1) * self.size] for i in range(n)]
        self._buf = self._buf[n * self.size :]
        return frames

    def flush(self) -> np.ndarray | None:
        """The remainder, zero-padded to a whole frame (or None if empty)."""
        if not len(self._buf):
            return None
        out = np.zeros(self.size, dtype=self._buf.dtype)
        out[: len(self._buf)] = self._buf
        self._buf = self._buf[:0]
        return out
