"""The telemetry's parts alone: the outbox (durable, bounded, survives kill -9), the recorder (one record
per turn, whatever order the events and marks come in; no transcript unless opted in), and the
sender's policy against a scripted transport (backoff, a refused record dropped alone). The real
cloud is in test_telemetry.py."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge_runtime.app_events import (
    ActionEvent,
    ErrorEvent,
    ReplyEvent,
    RouteEvent,
    TranscriptEvent,
    TurnStream,
)
from edge_runtime.telemetry import Outbox, Sender, TelemetryError, TurnRecorder, cloud_events, read_backlog
from edge_runtime.trace import Tracer


def record(n: int = 0, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": f"{n:032x}",
        "hub_id": "hub-1",
        "at": "2026-11-30T12:00:00+00:00",
        "route": "builtin",
        "intent": "time",
        "latency_ms": 100.0,
        "stages": {"brain": 5.0},
        "errors": [],
        "devices": [],
        **fields,
    }


class Voice:
    """What the recorder listens to on a VoiceHub: its event stream and its tracer."""

    def __init__(self) -> None:
        self.events = TurnStream()
        self.tracer = Tracer()


def test_the_outbox_keeps_records_until_acknowledged_and_drops_the_oldest_past_its_bound(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.sqlite3"
    outbox = Outbox(path, max_rows=10)
    for n in range(13):
        assert outbox.add(record(n))
    assert not outbox.add(record(12))  # the same event id is kept once
    assert [r["event_id"] for r in outbox.batch(3)] == [f"{n:032x}" for n in (3, 4, 5)]  # 0..2 dropped
    outbox.ack([f"{n:032x}" for n in (3, 4)])
    outbox.close()
    assert os.stat(path).st_mode & 0o777 == 0o600
    found = read_backlog(path)
    assert found is not None and (found.rows, found.dropped, found.sent) == (8, 3, 2)
    assert found.last_sent is not None and found.oldest is not None and found.last_error is None
    reopened = Outbox(path, max_rows=10)  # a restart: the rows and the counts are still there
    assert len(reopened) == 8 and reopened.backlog() == found
    reopened.failed("CLOUD_UNREACHABLE: cannot reach the cloud")
    assert reopened.backlog().last_error == "CLOUD_UNREACHABLE: cannot reach the cloud"
    reopened.close()
    assert read_backlog(tmp_path / "none.sqlite3") is None


WRITER = """
import sys
from pathlib import Path
from edge_runtime.telemetry import Outbox
outbox = Outbox(Path(sys.argv[1]), max_rows=1_000_000)
n = 0
while True:
    outbox.add({"event_id": f"{n:032x}", "hub_id": "hub-1", "at": "2026-11-30T12:00:00+00:00", "route": "builtin"})
    print(n, flush=True)
    n += 1
"""


def test_a_killed_hub_loses_no_recorded_turn(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.sqlite3"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    last = -1
    for line in writer.stdout:
        last = int(line)
        if last >= 200:
            break
    os.kill(writer.pid, signal.SIGKILL)  # mid-write, most likely: it never stops adding
    writer.wait(10)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    found = read_backlog(path)
    assert found is not None and found.rows >= last + 1  # every record it said it had added is there
    outbox = Outbox(path)
    assert [r["event_id"] for r in outbox.batch(3)] == [f"{n:032x}" for n in range(3)]
    outbox.close()


def test_one_record_per_turn_whatever_the_order(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "t.sqlite3")
    voice = Voice()
    recorder = TurnRecorder(outbox, "hub-1").attach(voice)
    mark, emit = voice.tracer.mark, voice.events.emit
    # A spoken command: its audio ends (turn_done) after the reply event.
    mark("wake")
    mark("speech_start")
    mark("endpoint", speech_end_wall=time.perf_counter())
    mark("stt", waited_ms=12.5)
    emit(TranscriptEvent(text="turn on the lamp"))
    mark("skill", ms=40.0, data={"route": "local-intent", "actions": [{}], "actions_ms": 30.0})
    emit(RouteEvent(route="local-intent", intent="HassTurnOn"))
    emit(ActionEvent(device="ha:lamp", name="turn_on", outcome="confirmed"))
    emit(ActionEvent(device="ha:fan", name="turn_on", outcome="failed", error="DEVICE_OFFLINE"))
    emit(ReplyEvent(text="Done.", heard="turn on the lamp", route="local-intent", intent="HassTurnOn"))
    assert len(outbox) == 0  # its audio is not done yet
    mark("first_audio")
    mark("turn_done", spoken=True)
    mark("endpoint", speech_end_wall=time.perf_counter())  # late: that turn was acted on at a pause
    # Speech over the reply (barge-in, no wake word) starts a silent turn whose turn_done comes before
    # its reply event; then a failed transcription.
    mark("interrupt")
    mark("speech_start")
    mark("stt", waited_ms=3.0)
    emit(TranscriptEvent(text="what time is it"))
    mark("turn_done", spoken=False)
    emit(RouteEvent(route="builtin", intent="time"))
    emit(ReplyEvent(text="", heard="what time is it", route="builtin", intent="time"))
    mark("wake")
    emit(ErrorEvent(code="STT_TIMEOUT", message="speech recognition failed"))
    mark("turn_done", spoken=True)
    # A timer alert is no turn; a turn cut short by the next wake word is written as it stands.
    mark("timer_alert", timer_id=1, repeat=0)
    mark("turn_done", spoken=True)
    mark("wake")
    emit(RouteEvent(route="cloud", intent="escalate"))
    emit(ReplyEvent(text="Paris is...", heard="capital of france", route="cloud", intent="escalate"))
    mark("wake")
    recorder.detach()
    rows = outbox.batch(10)
    assert [(r["route"], r["intent"], r["errors"]) for r in rows] == [
        ("local-intent", "HassTurnOn", []),
        ("builtin", "time", []),
        (None, None, ["STT_TIMEOUT"]),
        ("cloud", "escalate", []),
    ]
    first = rows[0]
    assert set(first["stages"]) == {"wake", "endpoint", "stt", "brain", "device", "response"}
    assert first["stages"]["stt"] == 12.5 and first["latency_ms"] == first["stages"]["response"]
    assert first["devices"][1] == {
        "device": "ha:fan",
        "name": "turn_on",
        "outcome": "failed",
        "error": "DEVICE_OFFLINE",
    }
    assert rows[1]["stages"] == {"stt": 3.0} and rows[1]["latency_ms"] is None  # none of the late endpoint
    assert all("transcript" not in r for r in rows)
    assert len({r["event_id"] for r in rows}) == 4 and voice.events.listeners == [] and voice.tracer.listeners == []
    events = [e for r in rows for e in cloud_events(r)]
    assert [e["type"] for e in events] == ["turn", "device", "device", "turn", "error", "turn"]
    assert [e["error_code"] for e in events if e["type"] == "device"] == [None, "DEVICE_OFFLINE"]
    assert events[1]["event_id"] == first["event_id"] + ":d0" and len(events[1]["event_id"]) <= 64
    outbox.close()


def test_what_was_said_is_kept_only_with_the_opt_in(tmp_path: Path) -> None:
    kept = {}
    for opted_in in (False, True):
        outbox = Outbox(tmp_path / f"{opted_in}.sqlite3")
        voice = Voice()
        recorder = TurnRecorder(outbox, "hub-1", transcripts=opted_in).attach(voice)
        voice.events.emit(TranscriptEvent(text="call my sister"))
        voice.events.emit(RouteEvent(route="cloud", intent="escalate"))
        voice.events.emit(ReplyEvent(text="I can't.", heard="call my sister", route="cloud", intent="escalate"))
        recorder.detach()
        outbox.close()
        kept[opted_in] = (tmp_path / f"{opted_in}.sqlite3").read_bytes() + _wal(tmp_path / f"{opted_in}.sqlite3")
    assert b"sister" not in kept[False]  # not even on the hub's disk
    assert b"call my sister" in kept[True]


def _wal(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


class Cloud:
    """A scripted analytics endpoint: answers in turn, records what it was sent."""

    def __init__(self, *answers: int) -> None:
        self.answers = list(answers)
        self.batches: list[list[str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        import json

        events = json.loads(request.content)["events"]
        self.batches.append([e["event_id"] for e in events])
        status = self.answers.pop(0) if self.answers else 200
        if status == -1:
            raise httpx.ConnectError("refused", request=request)
        if any(e["event_id"].endswith("bad") for e in events):
            status = 422  # the cloud refuses a batch with a bad record in it
        return httpx.Response(status, json={"received": len(events)})


def sender_for(outbox: Outbox, cloud: Cloud, **kw: Any) -> Sender:
    async def token() -> str:
        return "t"

    return Sender(outbox, "http://cloud.test", token, transport=httpx.MockTransport(cloud), **kw)


def test_the_sender_backs_off_while_the_cloud_is_away_and_deletes_only_what_it_acknowledged(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "t.sqlite3")
    for n in range(5):
        outbox.add(record(n))
    cloud = Cloud(-1, 503, -1, 200, 200, 200)

    async def scenario() -> list[float]:
        sender = sender_for(outbox, cloud, batch=2, max_backoff_s=3.0)
        waits = []
        for _ in range(3):
            with pytest.raises(TelemetryError) as failed:
                await sender.flush()
            sender.failures += 1
            waits.append(sender.backoff())
            assert failed.value.code in ("CLOUD_UNREACHABLE", "HTTP_503") and len(outbox) == 5
        assert await sender.flush() == 5
        sender.failures = 10
        assert 1.5 <= sender.backoff() <= 3.0  # capped
        await sender.close()
        return waits

    waits = asyncio.run(scenario())
    assert 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 2.0 and 1.5 <= waits[2] <= 3.0
    assert len(outbox) == 0 and cloud.batches[-3:] == [[f"{n:032x}" for n in p] for p in ((0, 1), (2, 3), (4,))]
    outbox.close()


def test_a_refused_record_is_dropped_alone_and_the_run_loop_recovers(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "t.sqlite3")
    outbox.add(record(1))
    outbox.add(record(2, event_id="x" * 29 + "bad"))
    outbox.add(record(3))
    cloud = Cloud(-1)

    async def scenario() -> None:
        sender = sender_for(outbox, cloud, batch=10, interval_s=0.05, max_backoff_s=0.1)
        stopping = asyncio.Event()
        task = asyncio.create_task(sender.run(stopping))
        for _ in range(100):
            if not len(outbox):
                break
            await asyncio.sleep(0.05)
        stopping.set()
        await asyncio.wait_for(task, 5)
        await sender.close()

    asyncio.run(scenario())
    found = outbox.backlog()
    assert (found.rows, found.sent, found.rejected, found.last_error) == (0, 2, 1, None)
    assert [len(b) for b in cloud.batches] == [3, 3, 1, 1, 1]  # unreachable; refused; then one by one
    outbox.close()
