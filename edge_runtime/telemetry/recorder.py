"""One record per turn, from a voice pipeline's event stream (what was decided: route, intent, device
outcomes, error codes, and what was heard) and its tracer (how long each stage took).

A turn is written when it was decided (a `reply`, or an `error` event) and its audio is done (the
`turn_done` mark), in either order; a turn cut short (barge-in) is written when the next one
starts, and a pending one when the recorder detaches. The stages are those of `/metrics`
(edge_runtime/metrics.py), in milliseconds. What was said goes in only with `transcripts` on."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from edge_runtime.app_events import ActionEvent, ErrorEvent, ReplyEvent, RouteEvent, TranscriptEvent
from edge_runtime.telemetry.outbox import Outbox
from edge_runtime.trace import Mark

log = logging.getLogger("companion.telemetry")
STARTS = ("wake", "interrupt", "speech_start", "timer_alert")  # the marks a new turn (or an alert) begins with


class TurnRecorder:
    _times: dict[str, float]  # perf_counter seconds of this turn's marks
    _stages: dict[str, float]  # ms
    _route: str | None
    _intent: str | None
    _devices: list[dict[str, Any]]
    _errors: list[str]
    _heard: list[str]
    _decided: bool  # the brain answered (or the turn failed with a code)
    _done: bool  # its audio is done
    _after: bool  # a turn was written and the next has not started: marks are the written one's

    def __init__(self, outbox: Outbox, hub_id: str, *, transcripts: bool = False) -> None:
        self.outbox = outbox
        self.hub_id = hub_id
        self.transcripts = transcripts
        self.recorded = 0
        self._voice: Any = None
        self._reset()

    # --- wiring

    def attach(self, voice: Any) -> TurnRecorder:
        """Listen to a VoiceHub (its `events` stream and its `tracer`)."""
        self._voice = voice
        voice.events.listeners.append(self.on_event)
        voice.tracer.listeners.append(self.on_mark)
        return self

    def detach(self) -> None:
        """Stop listening; a turn decided but not yet written is written now."""
        if self._voice is not None:
            _remove(self._voice.events.listeners, self.on_event)
            _remove(self._voice.tracer.listeners, self.on_mark)
            self._voice = None
        self._finish()

    # --- the stream

    def on_event(self, event: Any) -> None:
        if not isinstance(event, TranscriptEvent | RouteEvent | ActionEvent | ErrorEvent | ReplyEvent):
            return
        if isinstance(event, TranscriptEvent) and self._decided:
            self._finish()  # words after a decided turn: a new turn (a continuation is one too)
        if self._after:
            self._reset()  # what a turn decides, and the words it starts with, open a new one
        if isinstance(event, TranscriptEvent):
            self._done = False  # a `turn_done` seen before these words was another turn's
            if event.final:
                self._heard.append(event.text)
        elif isinstance(event, RouteEvent):
            self._route, self._intent = event.route, event.intent
        elif isinstance(event, ActionEvent):
            outcome = {"device": event.device, "name": event.name, "outcome": event.outcome}
            self._devices.append({**outcome, "error": event.error} if event.error else outcome)
        elif isinstance(event, ErrorEvent):
            self._errors.append(event.code)
            self._decided = True
        else:
            if event.heard:
                self._heard = [event.heard]
            self._decided = True
        if self._decided and self._done:
            self._finish()

    def on_mark(self, mark: Mark) -> None:
        data, event, wall = mark.data, mark.event, mark.wall
        if event in STARTS:
            if self._decided:
                self._finish()  # a turn cut short by this one (barge-in) is written as it stands
            if self._after or event in ("wake", "timer_alert"):
                self._reset()
            if event == "timer_alert":
                self._after = True  # an alert's own marks (its speech) are no turn's
        if self._after:
            return  # a written turn's late marks (the endpoint after a command acted on at a pause)
        times = self._times
        if event == "wake":
            times["wake"] = wall
        elif event == "speech_start" and "wake" in times and "speech" not in times:
            times["speech"] = wall
            self._stage("wake", wall - times["wake"])
        elif event == "committed" and data.get("speech_end_wall"):
            times["speech_end"] = float(data["speech_end_wall"])
            self._response()
        elif event == "endpoint" and data.get("reason") != "no-speech":
            ended = float(data.get("speech_end_wall") or wall)
            times.setdefault("speech_end", ended)
            self._stage("endpoint", wall - ended)
            self._response()
        elif event == "stt" and not data.get("error") and not data.get("continuation"):
            self._stage_ms("stt", data.get("waited_ms"))
        elif event == "reply_start":
            self._stage_ms("first_reply", data.get("ms"))
        elif event == "skill":
            self._stage_ms("brain", data.get("ms"))
            extra = data.get("data") or {}
            if extra.get("actions"):
                self._stage_ms("device", extra.get("actions_ms"))
            if extra.get("fallback"):
                self._errors.append(str(extra["fallback"]))  # the cloud could not answer: the hub said so
        elif event == "tts_start" and "tts" not in times:
            times["tts"] = wall
        elif event == "tts_first_audio" and "tts" in times and "tts_audio" not in times:
            times["tts_audio"] = wall
            self._stage("tts_first_audio", wall - times["tts"])
        elif event == "first_audio" and "played" not in times:
            times["played"] = wall
            self._response()
        elif event == "turn_done":
            self._done = True
            if self._decided:
                self._finish()

    # --- the record

    def _reset(self) -> None:
        self._times, self._stages = {}, {}
        self._route = self._intent = None
        self._devices, self._errors, self._heard = [], [], []
        self._decided = self._done = self._after = False

    def _stage(self, name: str, seconds: float) -> None:
        if seconds >= 0:
            self._stages[name] = round(1000 * seconds, 1)

    def _stage_ms(self, name: str, ms: Any) -> None:
        if isinstance(ms, int | float) and ms >= 0:
            self._stages[name] = round(float(ms), 1)

    def _response(self) -> None:
        times = self._times
        if "played" in times and "speech_end" in times and "response" not in self._stages:
            self._stage("response", times["played"] - times["speech_end"])

    def _finish(self) -> None:
        if not self._decided:
            return
        record = self.record()
        self._reset()
        self._after = True
        try:
            self.outbox.add(record)
        except Exception as err:  # telemetry never breaks a turn: the record is lost, and logged
            log.warning("telemetry.record_failed", extra={"error": f"{type(err).__name__}: {err}"})
            return
        self.recorded += 1

    def record(self) -> dict[str, Any]:
        """The turn as it stands: what the outbox keeps and the sender sends."""
        stages = dict(self._stages)
        # What the user waited: the end of speech to the first audio; a turn with no audio, the brain's answer.
        latency = stages.get("response", stages.get("brain"))
        record: dict[str, Any] = {
            "event_id": uuid.uuid4().hex,
            "hub_id": self.hub_id,
            "at": datetime.now(UTC).isoformat(),
            "route": self._route,
            "intent": self._intent,
            "latency_ms": latency,
            "stages": stages,
            "errors": list(self._errors),
            "devices": list(self._devices),
        }
        if self.transcripts and self._heard:
            record["transcript"] = " ".join(self._heard)
        return record


def _remove(listeners: list[Any], listener: Any) -> None:
    if listener in listeners:
        listeners.remove(listener)
