"""Utterance -> Transcript: reuses a speculative transcription when the cut was right, and acts
on a complete command at the first short pause instead of waiting for the trailing silence.

Every speculative cut is transcribed in order and never dropped for a later one before its
turn, so whether a turn is committed early depends only on the audio, not on scheduling. The
quick pass starts at the pause's early cut (one VAD frame in) and the speculative cut of the same
pause takes it over, so its milliseconds pass while the pause is still being confirmed. After
an early commit, speech before the endpoint is a continuation of the same turn: only the audio
after the committed cut is transcribed, and it goes to the brain marked as such.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from edge_runtime.frames import Frame, Interrupt, Transcript, Utterance
from edge_runtime.pipeline.processor import UP, Direction, QueuedProcessor
from edge_runtime.pipeline.turn import TurnJudge, strip_wake, wake_words
from edge_runtime.trace import Tracer
from models.errors import CompanionError
from models.stt import STT, SttResult

log = logging.getLogger(__name__)


class _Spec:
    """One speculative cut: its transcription, and the judging of it (after the cuts before it)."""

    def __init__(self, utt: Utterance, task: asyncio.Task[SttResult], *, early: bool = False) -> None:
        self.utt = utt
        self.early = early  # its quick pass began at the pause's early cut
        self.task = task  # quick when there is a judge: only an exact command is acted on
        self.judged: asyncio.Task[None] | None = None
        self.full: asyncio.Task[SttResult] | None = None  # the careful pass, when not acted on

    def same_pause(self, utt: Utterance) -> bool:
        """An early cut and the speculative cut of one pause: no voice came between them."""
        return (self.utt.start_t, self.utt.speech_end_t) == (utt.start_t, utt.speech_end_t)

    def same_audio(self, utt: Utterance) -> bool:
        mine = (self.utt.start_t, self.utt.speech_end_t, len(self.utt.audio))
        return mine == (utt.start_t, utt.speech_end_t, len(utt.audio))

    def prefix_of(self, utt: Utterance) -> bool:
        return self.utt.start_t == utt.start_t and len(self.utt.audio) < len(utt.audio)


class SttProcessor(QueuedProcessor):
    def __init__(self, stt: STT, tracer: Tracer, *, judge: TurnJudge | None = None) -> None:
        super().__init__()
        self.stt = stt
        self.tracer = tracer
        self.judge = judge  # None: every turn waits for its endpoint (the pipeline before #18)
        self._specs: list[_Spec] = []  # this turn's cuts, oldest first
        self._committed: _Spec | None = None
        self._said = ""  # the committed transcript
        self._early: _Spec | None = None  # this pause's quick pass, begun before it is long enough

    def busy(self) -> bool:
        early = self._early is not None and not self._early.task.done()
        return super().busy() or early or any(not (s.judged or s.task).done() for s in self._specs)

    def _begin_early(self, utt: Utterance) -> None:
        """Quick STT on a pause one frame old; if speech resumes first, it is dropped unused."""
        if self._early is not None:
            _cancel(self._early)
        self._early = None
        if self._committed is None and self.judge is not None:
            self._early = _Spec(utt, asyncio.create_task(self._transcribe(utt, quick=True)))

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if direction is UP or not isinstance(frame, Utterance | Interrupt):
            await self.push_frame(frame, direction)
            return
        if isinstance(frame, Interrupt):
            self._drop()
            await self.push_frame(frame, direction)
            return
        if frame.reason == "early":
            self._begin_early(frame)
            return
        if not frame.final:
            self._speculate(frame)
            return
        await self._final(frame)

    def _speculate(self, utt: Utterance) -> None:
        if self._committed is not None:
            return  # a continuation is transcribed whole at the endpoint
        if self.judge is None and self._specs:
            self._drop()  # nothing to judge: only the latest cut can be reused
        early, self._early = self._early, None
        if early is not None and early.same_pause(utt):
            spec = _Spec(utt, early.task, early=True)  # this pause's quick pass is under way already
        else:
            if early is not None:
                _cancel(early)
            spec = _Spec(utt, asyncio.create_task(self._transcribe(utt, quick=self.judge is not None)))
        if self.judge is not None:
            before = self._specs[-1].judged if self._specs else None
            spec.judged = asyncio.create_task(self._judge(spec, before))
        self._specs.append(spec)

    async def _judge(self, spec: _Spec, before: asyncio.Task[None] | None) -> None:
        """After the cuts before it: if nothing is committed yet and this is a complete
        command, it is the turn, acted on now."""
        if before is not None:
            await asyncio.wait([before])  # its outcome, whatever it was, is decided first
        if self._committed is not None or self.judge is None:
            return
        try:
            result = await spec.task
        except CompanionError:
            return
        text = self._text(result, spec.utt)
        if self._committed is None and self.judge.complete(text):
            self._committed, self._said = spec, text
            self.tracer.mark(
                "committed", speech_end_t=spec.utt.speech_end_t, speech_end_wall=spec.utt.speech_end_wall, text=text
            )
            self._mark(result, text, waited_ms=0.0, committed=True, early=spec.early)
            await self.push_frame(Transcript(text, stt_ms=round(1000 * result.compute_s, 1)))
        else:  # not a command to act on at once: transcribe it carefully, for the endpoint
            spec.full = asyncio.create_task(self._transcribe(spec.utt))

    async def _final(self, utt: Utterance) -> None:
        started = time.perf_counter()
        if self._early is not None:
            _cancel(self._early)
            self._early = None
        specs, self._specs = self._specs, []
        if specs and specs[-1].judged is not None:
            await specs[-1].judged
        committed, self._committed = self._committed, None
        last = specs[-1] if specs else None
        try:
            if committed is not None:
                await self._continue(committed, self._said, utt)
                return
            if len(utt.audio) == 0:
                result = SttResult("", self.stt.language, 0.0, 0.0)
            elif last is not None and last.same_audio(utt) and (last.full or self.judge is None):
                result = await (last.full or last.task)
            else:
                result = await self._transcribe(utt)
        except CompanionError as err:
            log.warning("stt.failed", extra={"code": err.code, "error": err.message})
            self.tracer.mark("stt", ms=0.0, text="", error=err.code)
            await self.push_frame(Transcript("", error=err.code))
            return
        finally:
            for spec in specs:
                _cancel(spec)
        text = self._text(result, utt)
        reused = last is not None and last.same_audio(utt) and bool(last.full or self.judge is None)
        self._mark(result, text, waited_ms=round(1000 * (time.perf_counter() - started), 1), speculative=reused)
        await self.push_frame(Transcript(text, stt_ms=round(1000 * result.compute_s, 1)))

    async def _continue(self, committed: _Spec, said: str, utt: Utterance) -> None:
        """The turn was acted on at a pause; what the speaker said after it joins the turn. The
        whole utterance is decoded with what was already heard given, so the rest has context."""
        if not committed.prefix_of(utt):
            return  # the endpoint is the committed cut: nothing more was said
        prefix = f"{wake_words(utt.wake)} {said}" if utt.wake else said
        result = await self.stt.atranscribe(utt.audio, prefix=prefix)
        if self.judge is not None and self.judge.meaning(f"{said} {result.text}") == self.judge.meaning(said):
            # "what time ... is it": the rest only finished the command already acted on.
            self.tracer.mark("stt_rest", ms=round(1000 * result.compute_s, 1), text=result.text, joined=False)
            return
        if result.text:
            ms = round(1000 * result.compute_s, 1)
            self._mark(result, result.text, waited_ms=ms, continuation=True)
            await self.push_frame(Transcript(result.text, stt_ms=ms, continuation=True))

    async def _transcribe(self, utt: Utterance, *, quick: bool = False) -> SttResult:
        """An utterance that begins with the wake phrase is decoded with the phrase as given."""
        prefix = wake_words(utt.wake) if utt.wake else None
        return await self.stt.atranscribe(utt.audio, prefix=prefix, quick=quick)

    def _text(self, result: SttResult, utt: Utterance) -> str:
        return strip_wake(result.text, utt.wake) if utt.wake else result.text

    def _mark(self, result: SttResult, text: str, *, waited_ms: float, **extra: bool) -> None:
        ms = round(1000 * result.compute_s, 1)
        self.tracer.mark("stt", ms=ms, waited_ms=waited_ms, text=text, audio_s=round(result.audio_s, 3), **extra)

    def _drop(self) -> None:
        for spec in [*self._specs, *([self._early] if self._early else [])]:
            _cancel(spec)
        self._specs.clear()
        self._early = None
        self._committed = None


def _cancel(spec: _Spec) -> None:
    for task in (spec.judged, spec.task, spec.full):
        if task is not None and not task.done():
            task.cancel()
            task.add_done_callback(_consume)


def _consume(task: asyncio.Task[Any]) -> None:
    """Retrieve a dropped speculation's outcome so asyncio does not warn about it."""
    if not task.cancelled():
        task.exception()
