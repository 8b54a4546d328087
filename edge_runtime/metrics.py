"""The hub's Prometheus series. Turn latencies come from the tracer's marks (the pipeline records
timings only there), so nothing in the pipeline or the brain knows about Prometheus; the rest
(MQTT, event streams, the sync outbox, the LLM's speed) is read when a scraper asks.

Stages of one voice turn, in seconds (`companion_hub_turn_stage_seconds{stage}`):
  wake        the wake word's detection to the start of the command's speech
  endpoint    the end of speech to the endpointer's decision (the trailing silence it waits for)
  stt         how long the turn waited for its transcript after the cut (0 when a speculative one was ready)
  brain       the transcript to the brain's whole answer (devices confirmed included)
  first_reply the transcript to the first sentence the brain hands to TTS
  device      the device actions' round trip: MQTT command to confirming state echo
  tts_first_audio  a reply's first sentence in to its first synthesized audio out
  response    the end of speech to the first audio played (what the user waits for)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

STAGE_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5, 4.0, 8.0, 15.0)


class HubMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.stages = Histogram(
            "companion_hub_turn_stage_seconds",
            "One voice turn's latency, stage by stage",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.turns = Counter("companion_hub_turns_total", "Turns answered, by the brain's route", ["route"], registry=r)
        self.commands = Counter(
            "companion_hub_device_commands_total",
            "Device commands by outcome (confirmed by the state echo, or not)",
            ["outcome"],
            registry=r,
        )
        self.fallbacks = Counter(
            "companion_hub_cloud_fallbacks_total",
            "Turns the cloud could not answer, by code (the hub said so itself)",
            ["code"],
            registry=r,
        )
        self.stt_errors = Counter("companion_hub_stt_errors_total", "Transcriptions that failed", ["code"], registry=r)

    def observe(self, tracer: Any) -> None:
        """Listen to one pipeline's tracer (the hub's own, or a WebRTC session's)."""
        turn: dict[str, float] = {}
        tracer.listeners.append(lambda mark: self._on_mark(turn, mark))

    def _stage(self, stage: str, seconds: float | None) -> None:
        if seconds is not None and seconds >= 0:
            self.stages.labels(stage).observe(seconds)

    def _on_mark(self, turn: dict[str, float], mark: Any) -> None:
        data, event, wall = mark.data, mark.event, mark.wall
        if event == "wake":
            turn.clear()
            turn["wake"] = wall
        elif event == "speech_start" and "wake" in turn and "speech" not in turn:
            turn["speech"] = wall
            self._stage("wake", wall - turn["wake"])
        elif event == "committed" and data.get("speech_end_wall"):  # acted on at a pause, before its endpoint
            turn["speech_end"] = float(data["speech_end_wall"])
            self._response(turn)
        elif event == "endpoint" and data.get("reason") != "no-speech":
            ended = float(data.get("speech_end_wall") or wall)
            turn.setdefault("speech_end", ended)  # a committed turn's came with its commit
            self._stage("endpoint", wall - ended)
            self._response(turn)  # a turn acted on at a pause may have spoken already
        elif event == "stt":
            if data.get("error"):
                self.stt_errors.labels(str(data["error"])).inc()
            elif not data.get("continuation"):
                self._stage("stt", _seconds(data.get("waited_ms")))  # what the turn waited for its transcript
        elif event == "reply_start":
            self._stage("first_reply", _seconds(data.get("ms")))
        elif event == "skill":
            self._skill(data)
        elif event == "tts_start" and "tts" not in turn:
            turn["tts"] = wall
        elif event == "tts_first_audio" and "tts" in turn and "tts_audio" not in turn:
            turn["tts_audio"] = wall
            self._stage("tts_first_audio", wall - turn["tts"])
        elif event == "first_audio" and "played" not in turn:
            turn["played"] = wall
            self._response(turn)
        elif event == "turn_done":
            turn.clear()

    def _response(self, turn: dict[str, float]) -> None:
        if "played" in turn and "speech_end" in turn and "responded" not in turn:
            turn["responded"] = 1.0
            self._stage("response", turn["played"] - turn["speech_end"])

    def _skill(self, data: dict[str, Any]) -> None:
        extra = data.get("data") or {}
        self._stage("brain", _seconds(data.get("ms")))
        self.turns.labels(str(extra.get("route") or data.get("intent") or "none")).inc()
        actions = extra.get("actions") or []
        for action in actions:
            outcome = "failed" if action.get("error") else "confirmed" if action.get("confirmed") else "unconfirmed"
            self.commands.labels(outcome).inc()
        if actions:
            self._stage("device", _seconds(extra.get("actions_ms")))
        if extra.get("fallback"):
            self.fallbacks.labels(str(extra["fallback"])).inc()

    def watch(self, read: Callable[[], dict[str, float]]) -> None:
        """Gauges read at scrape time: `read` returns {series name: value}."""
        self.registry.register(_Read(read))


def _seconds(ms: Any) -> float | None:
    return float(ms) / 1000 if isinstance(ms, int | float) else None


READ_HELP = {
    "companion_hub_mqtt_connected": "1 while both MQTT connections to the broker are up",
    "companion_hub_mqtt_connects": "Times the hub came online at the broker",
    "companion_hub_websockets_open": "App event streams (WebSockets) open now",
    "companion_hub_webrtc_sessions": "WebRTC sessions open now",
    "companion_hub_sync_backlog_updates": "Local sync updates the cloud has not acknowledged",
    "companion_hub_llm_tokens_per_second": "The hub LLM's generation speed since start",
    "companion_hub_llm_tokens": "Tokens the hub LLM has generated since start",
}
READ_COUNTERS = frozenset({"companion_hub_mqtt_connects", "companion_hub_llm_tokens"})


class _Read(Collector):
    def __init__(self, read: Callable[[], dict[str, float]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Any]:
        for name, value in self.read().items():
            if name in READ_COUNTERS:
                counter = CounterMetricFamily(name, READ_HELP.get(name, name))
                counter.add_metric([], value)
                yield counter
            else:
                yield GaugeMetricFamily(name, READ_HELP.get(name, name), value=value)


def sync_backlog(path: Path) -> float | None:
    """Unacknowledged local updates in the hub's sync store, read-only (the replica owns the file)."""
    if not path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5) as db:
            row = db.execute("SELECT count(*) FROM updates WHERE local = 1 AND confirmed = 0").fetchone()
    except sqlite3.Error:
        return None
    return float(row[0])
