"""Test speech from two independent voices: the hub's Piper voice and Debian's espeak-ng."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from edge_runtime.audio.convert import resample

RATE = 16000


class Voices:
    def __init__(self, tts: Any, cache: Path) -> None:
        self.tts = tts
        self.cache = cache

    def piper(self, text: str) -> np.ndarray:
        return resample(self.tts.synthesize_all(text), self.tts.sample_rate, RATE) * 0.8

    def espeak(self, text: str, voice: str = "en-us", speed: int = 150) -> np.ndarray:
        exe = shutil.which("espeak-ng")
        if exe is None:
            raise RuntimeError(
                "espeak-ng is needed for test speech: run `make test` (it installs it) or `apt-get install espeak-ng`"
            )
        key = hashlib.sha1(f"{voice}|{speed}|{text}".encode()).hexdigest()[:16]
        path = self.cache / f"espeak-{key}.wav"
        if not path.exists():
            subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(path), text], check=True)
        audio, rate = sf.read(str(path), dtype="float32")
        return resample(audio, rate, RATE) * 0.8

    def say(self, voice: str, text: str) -> np.ndarray:
        return self.piper(text) if voice == "piper" else self.espeak(text)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def join(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts).astype(np.float32)


def write_wav(path: Path, audio: np.ndarray, rate: int = RATE, channels: int = 1) -> Path:
    data = audio if channels == 1 else np.stack([audio] * channels, axis=1)
    sf.write(str(path), data, rate, subtype="PCM_16")
    return path
