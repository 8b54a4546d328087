"""Where the hub's audio comes from: WAV files, raw PCM streams, arrays, a live microphone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from edge_runtime.audio.convert import Reblocker, StreamResampler, to_int16, to_mono
from edge_runtime.errors import AudioDeviceError, AudioFormatError
from models.audio import RATE

log = logging.getLogger(__name__)


BLOCK = 1280  # 80 ms: the wake word's hop, and the hub's audio tick
MAX_CHANNELS = 32


class AudioSource(Protocol):
    """Yields 16 kHz mono int16 blocks of exactly BLOCK samples."""

    def blocks(self) -> AsyncIterator[np.ndarray]: ...


def _frames(raw_blocks: Iterator[np.ndarray], rate: int) -> Iterator[np.ndarray]:
    resampler = StreamResampler(rate, RATE)
    reblock = Reblocker(BLOCK)
    for raw in raw_blocks:
        yield from reblock.push(to_int16(resampler(to_mono(raw))))
    yield from reblock.push(to_int16(resampler(np.zeros(0, dtype=np.float32), last=True)))
    tail = reblock.flush()
    if tail is not None:
        yield tail


class WavSource:
    """Streams a sound file (WAV, FLAC, ...) of any rate and channel count, resampled to 16 kHz.

    A truncated file yields the audio that is there; an unreadable one fails with AUDIO_INVALID.
    """

    def __init__(self, path: Path | str) -> None:
        import soundfile as sf

        self.path = Path(path)
        if not self.path.is_file():
            raise AudioFormatError(f"no such audio file: {self.path}", code="AUDIO_NOT_FOUND")
        self.empty = self.path.stat().st_size == 0
        if self.empty:  # nothing recorded: a turn answers "I didn't catch that"
            self.rate, self.channels, self.duration_s = RATE, 1, 0.0
            return
        try:
            info = sf.info(str(self.path))
        except Exception as err:
            raise AudioFormatError(
                f"{self.path} is not a readable audio file ({err})",
                hint="give a WAV file: 16-bit PCM, any sample rate, mono or stereo",
            ) from err
        if not 1 <= info.channels <= MAX_CHANNELS or not 1000 <= info.samplerate <= 384000:
            raise AudioFormatError(
                f"{self.path}: unsupported layout ({info.channels} channels at {info.samplerate} Hz)",
                code="AUDIO_UNSUPPORTED",
            )
        self.rate = int(info.samplerate)
        self.channels = int(info.channels)
        self.duration_s = info.frames / info.samplerate if info.frames > 0 else 0.0

    def iter_blocks(self) -> Iterator[np.ndarray]:
        import soundfile as sf

        if self.empty:
            return

        def raw() -> Iterator[np.ndarray]:
            try:
                yield from sf.blocks(str(self.path), blocksize=self.rate // 2, dtype="float32", always_2d=True)
            except sf.LibsndfileError as err:
                raise AudioFormatError(f"{self.path}: audio data is corrupt ({err})") from err

        yield from _frames(raw(), self.rate)

    async def blocks(self) -> AsyncIterator[np.ndarray]:
        for block in self.iter_blocks():
            yield block


class ArraySource:
    """Audio already in memory (tests, benchmarks, WebRTC tracks)."""

    def __init__(self, audio: np.ndarray, rate: int = RATE) -> None:
        self.audio = audio
        self.rate = rate
        self.duration_s = len(audio) / rate

    def iter_blocks(self) -> Iterator[np.ndarray]:
        step = max(1, self.rate // 10)
        yield from _frames((self.audio[i : i + step] for i in range(0, len(self.audio), step)), self.rate)

    async def blocks(self) -> AsyncIterator[np.ndarray]:
        for block in self.iter_blocks():
            yield block


class PcmSource:
    """Raw signed 16-bit little-endian PCM from a byte stream, e.g. `arecord ... | companion`."""

    def __init__(self, stream: BinaryIO, rate: int = RATE, channels: int = 1) -> None:
        if not 1 <= channels <= MAX_CHANNELS:
            raise AudioFormatError(f"unsupported channel count {channels}", code="AUDIO_UNSUPPORTED")
        self.stream = stream
        self.rate = rate
        self.channels = channels

    def _raw(self) -> Iterator[np.ndarray]:
        frame_bytes = 2 * self.channels
        chunk = frame_bytes * (self.rate // 10)
        carry = b""
        while data := self._read(chunk):
            data = carry + data
            usable = len(data) - len(data) % frame_bytes
            carry = data[usable:]
            if usable:
                yield np.frombuffer(data[:usable], dtype="<i2").reshape(-1, self.channels)

    def _read(self, size: int) -> bytes:
        """From the file descriptor when there is one: a reader thread then holds no lock of the
        interpreter's buffered stdin, which would abort the process at exit."""
        try:
            fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            return self.stream.read(size)
        return os.read(fd, size)

    def iter_blocks(self) -> Iterator[np.ndarray]:
        yield from _frames(self._raw(), self.rate)

    async def blocks(self) -> AsyncIterator[np.ndarray]:
        """Read on a daemon thread: an idle pipe must not keep the hub from stopping (a pool
        thread blocked in read() would be joined at exit, and wait for input that never comes)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[np.ndarray | None] = asyncio.Queue(maxsize=32)

        def pump() -> None:
            try:
                for block in self.iter_blocks():
                    asyncio.run_coroutine_threadsafe(queue.put(block), loop).result()
            except RuntimeError:  # the loop has closed: nobody is listening any more
                return
            finally:
                with contextlib.suppress(RuntimeError):
                    asyncio.run_coroutine_threadsafe(queue.put(None), loop)

        threading.Thread(target=pump, name="pcm-reader", daemon=True).start()
        while (block := await queue.get()) is not None:
            yield block


def _sounddevice():
    try:
        import sounddevice as sd
    except OSError as err:  # PortAudio itself is missing
        raise AudioDeviceError(
            f"no audio system: {err}", hint="install PortAudio (Debian: apt-get install libportaudio2)"
        ) from err
    return sd


def require_device(kind: str) -> int:
    """The default input or output device, or a clear AUDIO_NO_DEVICE error."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
    except Exception as err:
        raise AudioDeviceError(f"cannot list audio devices: {err}") from err
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    usable = [i for i, d in enumerate(devices) if d[key] > 0]
    if not usable:
        instead = {
            "input": "a microphone, or give the audio with --wav FILE or --stdin (raw 16 kHz s16le PCM)",
            "output": "a speaker, or send the replies elsewhere with --out FILE (a WAV) or --stdout (raw s16le PCM)",
        }[kind]
        raise AudioDeviceError(f"this machine has no audio {kind} device", hint=f"plug in {instead}")
    default = sd.default.device[0 if kind == "input" else 1]
    return default if default is not None and default >= 0 else usable[0]


class MicSource:
    """A live microphone through sounddevice (PortAudio)."""

    def __init__(self, device: int | str | None = None) -> None:
        self.device = require_device("input") if device is None else device
        self.dropped = 0  # blocks the loop fell behind on

    def offer(self, queue: asyncio.Queue[np.ndarray], block: np.ndarray) -> None:
        """On the event loop (PortAudio's thread schedules it): a full queue drops its oldest block,
        so a stalled loop resumes on live audio. QueueFull must be caught here, where put_nowait
        runs; around call_soon_threadsafe it never fires."""
        if queue.full():
            queue.get_nowait()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning("audio.mic_overrun", extra={"dropped_blocks": self.dropped})
        queue.put_nowait(block)

    async def blocks(self) -> AsyncIterator[np.ndarray]:
        sd = _sounddevice()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[np.ndarray] = asyncio.Queue(maxsize=64)

        def callback(indata, frames, time_info, status) -> None:
            loop.call_soon_threadsafe(self.offer, queue, indata[:, 0].copy())

        with sd.InputStream(
            samplerate=RATE, channels=1, dtype="int16", blocksize=BLOCK, device=self.device, callback=callback
        ):
            while True:
                yield await queue.get()
