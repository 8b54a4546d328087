"""Typed frames that flow through the hub's pipeline, processor to processor, and nowhere else:
what apps receive are the events in `edge_runtime.app_events`. Each frame has a stable `type`
string (for logs and tests). System frames overtake queued data frames (barge-in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from models.audio import RATE


@dataclass
class Frame:
    type: ClassVar[str] = "frame"


@dataclass
class SystemFrame(Frame):
    """Handled at once by every processor, ahead of any queued data frames."""

    type: ClassVar[str] = "system"


# --- audio in -------------------------------------------------------------------------


@dataclass
class AudioIn(Frame):
    """16 kHz mono float32 in [-1, 1] from the microphone, a file or a WebRTC track: the one sample
    format the pipeline carries (the wake gate makes the int16 its model needs, once)."""

    type: ClassVar[str] = "audio-in"
    pcm: np.ndarray
    t: float  # stream time of the first sample, seconds
    rate: int = RATE


@dataclass
class WakeDetected(Frame):
    """The wake word fired at `t`. `recent` is the audio before it (float32, ending at `t`): the
    wake model fires after the phrase ends, and a one-breath request has begun by then."""

    type: ClassVar[str] = "wake-detected"
    name: str
    score: float
    t: float
    recent: np.ndarray | None = None


@dataclass
class StartListening(SystemFrame):
    """Open the microphone gate without a wake word: push-to-talk, or speech barge-in."""

    type: ClassVar[str] = "start-listening"
    preroll: np.ndarray | None = None
    preroll_t: float = 0.0  # stream time of the pre-roll's first sample
    hold: bool = False  # push-to-talk: pauses don't end the turn; the release (EndOfStream) does


@dataclass
class ListeningStopped(Frame):
    """Upstream: the endpointer has what it needs, so the gate goes back to waiting for wake."""

    type: ClassVar[str] = "listening-stopped"


@dataclass
class SpeechStarted(Frame):
    type: ClassVar[str] = "speech-started"
    t: float


@dataclass
class Utterance(Frame):
    """One endpointed utterance (16 kHz float32). Speculative ones may be superseded; an early
    one (`reason="early"`) only starts STT on a pause too short yet to act on."""

    type: ClassVar[str] = "utterance"
    audio: np.ndarray
    start_t: float
    speech_end_t: float
    final: bool = True
    reason: str = "silence"  # silence | max-length | no-speech | end-of-stream | speculative | early
    wake: str | None = None  # the audio may begin with this wake phrase: strip it from the text
    speech_end_wall: float = 0.0  # perf_counter when the last voiced frame came in (latency figures)


@dataclass
class Transcript(Frame):
    type: ClassVar[str] = "transcript"
    text: str
    final: bool = True
    stt_ms: float = 0.0
    error: str | None = None
    continuation: bool = False  # more of a turn already acted on ("... and the hallway too")
    typed: bool = False  # typed in the app, not heard: no transcript event (the app has the words)


# --- reply ----------------------------------------------------------------------------


@dataclass
class Reply(Frame):
    type: ClassVar[str] = "reply"
    text: str
    kind: str = "answer"  # answer | alert | error | announcement | earcon (the chime, `text` not said)
    data: dict[str, Any] = field(default_factory=dict)
    final: bool = True  # False: one sentence of a reply still streaming (from an LLM or the cloud)


@dataclass
class TTSStarted(Frame):
    type: ClassVar[str] = "tts-started"


@dataclass
class TTSAudio(Frame):
    type: ClassVar[str] = "tts-audio"
    pcm: np.ndarray  # int16 at `rate`
    rate: int


@dataclass
class TTSStopped(Frame):
    type: ClassVar[str] = "tts-stopped"


@dataclass
class PlaybackStarted(Frame):
    """Upstream, from the output: the user can now hear the hub (barge-in is armed)."""

    type: ClassVar[str] = "playback-started"


@dataclass
class PlaybackStopped(Frame):
    type: ClassVar[str] = "playback-stopped"


# --- control --------------------------------------------------------------------------


@dataclass
class Interrupt(SystemFrame):
    """The user spoke over the hub: stop playback and cancel the reply in progress."""

    type: ClassVar[str] = "interrupt"
    reason: str = "barge-in"
    t: float = 0.0


@dataclass
class EndOfStream(Frame):
    type: ClassVar[str] = "end-of-stream"
