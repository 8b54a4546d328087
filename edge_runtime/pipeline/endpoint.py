"""Endpointing: from the open gate to one utterance, cut at trailing silence or max length.

Once the speaker pauses briefly it also emits a *speculative* utterance, so STT can start
before the endpoint is certain; if the pause turns out to be the end, the result is reused.
An *early* utterance comes one VAD frame into each pause: STT may begin on it while the pause is
still too short to act on, and the speculative cut of the same pause reuses that transcription.

When the wake word fires while the speaker is still talking (a one-breath request), the turn
starts at the onset of that stretch of speech in the gate's recent audio, wake phrase included:
the transcript has the phrase stripped (`Utterance.wake`). Only the audio decides the boundary.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np

from edge_runtime.frames import (
    AudioIn,
    EndOfStream,
    Frame,
    ListeningStopped,
    SpeechStarted,
    StartListening,
    Utterance,
    WakeDetected,
)
from edge_runtime.pipeline.processor import DOWN, UP, Direction, FrameProcessor
from edge_runtime.trace import Tracer
from models.audio import RATE
from models.vad import FRAME_SAMPLES, Vad

FRAME_S = FRAME_SAMPLES / RATE


class Endpointer(FrameProcessor):
    def __init__(
        self,
        vad: Vad,
        tracer: Tracer,
        *,
        threshold: float = 0.5,
        trailing_silence_ms: int = 400,
        max_utterance_s: float = 12.0,
        max_held_s: float = 30.0,
        no_speech_timeout_s: float = 5.0,
        speculative: bool = True,
        speculate_after_ms: int = 96,
        early_after_ms: int = 32,
        preroll_ms: int = 256,
        join_gap_ms: int = 192,
        min_request_ms: int = 160,
    ) -> None:
        super().__init__()
        self.vad = vad
        self.tracer = tracer
        self.start_threshold = threshold
        self.keep_threshold = max(0.05, threshold - 0.15)  # hysteresis, as Silero recommends
        self.trailing_frames = max(1, round(trailing_silence_ms / 1000 / FRAME_S))
        self.max_frames = round(max_utterance_s / FRAME_S)
        # A held push-to-talk turn is the user's choice of length: cap it only at Whisper's window.
        self.max_held_frames = round(max(max_held_s, max_utterance_s) / FRAME_S)
        self.no_speech_frames = round(no_speech_timeout_s / FRAME_S)
        self.speculate_frames = max(1, round(speculate_after_ms / 1000 / FRAME_S)) if speculative else 0
        early = round(early_after_ms / 1000 / FRAME_S) if speculative else 0
        self.early_frames = early if 0 < early < self.speculate_frames else 0  # 0: no early cut
        self.preroll: deque[np.ndarray] = deque(maxlen=max(1, round(preroll_ms / 1000 / FRAME_S)))
        # Speech on both sides of a shorter gap is one breath; a request needs this much voice.
        self.join_gap_frames = max(1, round(join_gap_ms / 1000 / FRAME_S))
        self.min_request_frames = max(1, round(min_request_ms / 1000 / FRAME_S))
        self.active = False
        self._hold = False
        self._reset()

    def _reset(self) -> None:
        self._pending = np.zeros(0, dtype=np.float32)
        self._t0: float | None = None
        self._frames_seen = 0
        self._speech: list[np.ndarray] = []
        self._in_speech = False
        self._silence_run = 0
        self._speech_end = 0  # frames into self._speech
        self._speech_end_wall = 0.0
        self._opened_at = 0  # frames of recent audio taken in when the gate opened
        self._wake: str | None = None  # the kept audio starts with this wake phrase
        self._voiced_after = 0  # voiced frames since the gate opened
        self.preroll.clear()

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if direction is UP:
            await self.push_frame(frame, UP)
            return
        if isinstance(frame, WakeDetected):
            self._open()
            await self.push_frame(frame, DOWN)
            if frame.recent is not None and len(frame.recent) >= FRAME_SAMPLES:
                await self._lead_in(frame)
            return
        elif isinstance(frame, StartListening):
            self._open()
            self._hold = frame.hold
            if frame.preroll is not None and len(frame.preroll):
                await self.push_frame(frame, DOWN)
                await self._on_audio(AudioIn(frame.preroll, t=frame.preroll_t))
                return
        elif isinstance(frame, AudioIn):
            if self.active:
                await self._on_audio(frame)
            return
        elif isinstance(frame, EndOfStream) and self.active:
            await self._finish("end-of-stream")
        await self.push_frame(frame, DOWN)

    def _open(self) -> None:
        self._reset()
        self.vad.reset()
        self.active = True
        self._hold = False

    async def _lead_in(self, wake: WakeDetected) -> None:
        """Score the audio before the wake fired; if speech runs through that instant, keep it
        back to its onset (across gaps shorter than `join_gap_ms`)."""
        assert wake.recent is not None
        n = len(wake.recent) // FRAME_SAMPLES
        pcm = wake.recent[len(wake.recent) - n * FRAME_SAMPLES :]
        chunks = [pcm[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES] for i in range(n)]
        voiced = [self.vad.probability(c) >= self.keep_threshold for c in chunks]
        self._t0 = round(wake.t - n * FRAME_S, 6)
        self._frames_seen = self._opened_at = n
        if not any(voiced[-2:]):
            return
        onset, gap = n - 1, 0
        for i in range(n - 1, -1, -1):
            gap = 0 if voiced[i] else gap + 1
            if gap >= self.join_gap_frames:
                break
            if voiced[i]:
                onset = i
        self._in_speech = True
        # Voice before the gap: that was the wake phrase, and this run is the request alone.
        self._wake = None if any(voiced[: max(0, onset - self.join_gap_frames)]) else wake.name
        self._speech = chunks[max(0, onset - 2) :]
        self._speech_end = len(self._speech)
        self._speech_end_wall = time.perf_counter()
        if self._wake is None:
            await self._started(before_wake=True)

    async def _started(self, **data: bool) -> None:
        start = self._t(self._frames_seen - len(self._speech))
        self.tracer.mark("speech_start", t=start, **data)
        await self.push_frame(SpeechStarted(start), DOWN)

    async def _on_audio(self, frame: AudioIn) -> None:
        if self._t0 is None:
            self._t0 = frame.t
        self._pending = np.concatenate([self._pending, frame.pcm])
        while self.active and len(self._pending) >= FRAME_SAMPLES:
            chunk, self._pending = self._pending[:FRAME_SAMPLES], self._pending[FRAME_SAMPLES:]
            await self._on_vad_frame(chunk, self.vad.probability(chunk))

    def _t(self, frames: int) -> float:
        return round((self._t0 or 0.0) + frames * FRAME_S, 3)

    async def _on_vad_frame(self, chunk: np.ndarray, prob: float) -> None:
        self._frames_seen += 1
        if not self._in_speech:
            self.preroll.append(chunk)
            if prob >= self.start_threshold:
                self._in_speech = True
                self._speech = list(self.preroll)
                self._speech_end = len(self._speech)
                self._speech_end_wall = time.perf_counter()
                await self._started()
            elif self._frames_seen - self._opened_at >= self.no_speech_frames and not self._hold:
                await self._finish("no-speech")
            return
        self._speech.append(chunk)
        if prob >= self.keep_threshold:
            self._silence_run = 0
            self._voiced_after += 1
            if self._wake is not None and self._voiced_after == self.min_request_frames:
                await self._started(before_wake=True)  # the request runs on past the wake word
            self._speech_end = len(self._speech)
            self._speech_end_wall = time.perf_counter()
        else:
            self._silence_run += 1
            cut = self._silence_run in (self.early_frames, self.speculate_frames)
            if cut and not self._hold and self._heard_request():
                reason = "early" if self._silence_run == self.early_frames else "speculative"
                await self.push_frame(self._utterance(final=False, reason=reason), DOWN)
        if self._silence_run >= self.trailing_frames and not self._hold:
            if self._heard_request():
                await self._finish("silence")
            else:  # only the wake phrase's tail ran past the detection: wait for the request
                self._in_speech = False
                self._wake = None
                self._silence_run = 0
                self.preroll.extend(self._speech[-(self.preroll.maxlen or 1) :])
                self._speech = []
        elif len(self._speech) >= (self.max_held_frames if self._hold else self.max_frames):
            await self._finish("max-length")

    def _utterance(self, *, final: bool, reason: str) -> Utterance:
        # Keep a fixed tail after the last voiced frame, so a speculative cut and the
        # final one are the same audio whenever the speaker really did stop.
        keep = self._speech_end + self.speculate_frames if self.speculate_frames else len(self._speech)
        audio = np.concatenate(self._speech[:keep]) if self._speech else np.zeros(0, dtype=np.float32)
        start = self._t(self._frames_seen - len(self._speech))
        end = self._t(self._frames_seen - len(self._speech) + self._speech_end)
        return Utterance(
            audio, start, end, final=final, reason=reason, wake=self._wake, speech_end_wall=self._speech_end_wall
        )

    def _heard_request(self) -> bool:
        return self._wake is None or self._voiced_after >= self.min_request_frames

    async def _finish(self, reason: str) -> None:
        if self._in_speech:
            utt = self._utterance(final=True, reason=reason)
        else:
            utt = Utterance(np.zeros(0, dtype=np.float32), self._t(0), self._t(0), final=True, reason="no-speech")
        self.tracer.mark(
            "endpoint",
            reason=utt.reason,
            speech_end_t=utt.speech_end_t,
            speech_end_wall=self._speech_end_wall or time.perf_counter(),
            utterance_s=round(len(utt.audio) / RATE, 3),
        )
        self.active = False
        self._hold = False
        self._reset()
        await self.push_frame(utt, DOWN)
        await self.push_frame(ListeningStopped(), UP)
