"""Issue #21's acceptance: three `companion hub up` processes of one home on one broker, and a
stranger hub of another home on the same broker, fed live audio (like microphones) in step.

- The same request heard at three levels: one answer, from the loudest, and one device command.
- A broadcast said to one hub is spoken on the two others, and not on the stranger.
- The loudest hub killed right after it claimed the wake word: the next loudest answers, once."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from device_drivers.simulator import Simulator, device_from
from edge_runtime.settings import EdgeSettings
from tests.cli.hub_process import HubProcess, cli, hub_env
from tests.speech import join, silence

BLOCK = 1280  # 80 ms at 16 kHz, as a microphone delivers it
GAIN = {"a": 10 ** (-8 / 20), "b": 1.0, "c": 10 ** (-4 / 20)}  # b is the loudest, c next, a quietest
ROOMS = {"a": "Kitchen", "b": "Hallway", "c": "Office", "x": "Kitchen"}


class Microphones:
    """Writes 80 ms blocks to every hub's stdin in real time: silence, or what a test says to some."""

    def __init__(self, hubs: dict[str, HubProcess]) -> None:
        self.hubs = dict(hubs)
        self.pending: dict[str, np.ndarray] = {}
        self.blocks = 0  # written to every hub so far: each hub's speaker timeline has as many
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Microphones:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def say(self, audio: np.ndarray, gains: dict[str, float]) -> float:
        """Queue `audio` to the hubs in `gains`; the stream time (s) at which it starts."""
        with self._lock:
            for name, gain in gains.items():
                self.pending[name] = np.concatenate([self.pending.get(name, np.zeros(0, np.float32)), audio * gain])
            return self.blocks * BLOCK / 16000

    def drop(self, name: str) -> None:
        with self._lock:
            self.hubs.pop(name, None)

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                for name, hub in list(self.hubs.items()):
                    audio = self.pending.get(name, np.zeros(0, np.float32))
                    block, self.pending[name] = audio[:BLOCK], audio[BLOCK:]
                    pcm = np.zeros(BLOCK, np.int16)
                    pcm[: len(block)] = np.clip(block * 32767, -32768, 32767).astype(np.int16)
                    try:
                        hub.write_pcm(pcm.tobytes())
                    except (BrokenPipeError, OSError):
                        self.hubs.pop(name)
                self.blocks += 1
                due = started + self.blocks * BLOCK / 16000
            time.sleep(max(0.0, due - time.monotonic()))


def _events(hub: HubProcess, event: str) -> list[dict[str, Any]]:
    return [r for r in hub.logs() if r.get("event") == event]


def _wait(check: Any, timeout_s: float, what: str, hubs: dict[str, HubProcess]) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            tails = {n: h.log.read_text()[-1500:] for n, h in hubs.items()}
            raise AssertionError(f"timed out: {what}\n{tails}")
        time.sleep(0.05)


def _home_seen_by_an_app(hub: HubProcess) -> dict[str, Any]:
    code = json.loads(cli(hub.env, "hub", "pair-code", "--json").stdout)["code"]
    token = httpx.post(f"{hub.url}/v1/pairing", json={"code": code, "name": "phone"}).json()["token"]
    assert httpx.get(f"{hub.url}/v1/home").status_code == 401  # a paired app only
    deadline = time.monotonic() + 15
    while True:  # each hub says where its API is once it listens
        answer = httpx.get(f"{hub.url}/v1/home", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        found = dict(answer.json())
        if sum(1 for h in found["hubs"] if h["api"]) == 3 or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _asked(voices: Any, text: str) -> np.ndarray:
    return join(voices.piper("Hey Jarvis."), silence(0.3), voices.piper(text), silence(2.0))


def _loudness(path: Path, start_s: float, end_s: float) -> float:
    """RMS of the speaker's timeline between two stream times. Read raw after the 44-byte header:
    a killed hub never finished its WAV's header."""
    rate = EdgeSettings().output_rate
    audio = np.frombuffer(path.read_bytes()[44:], dtype="<i2").astype(np.float32) / 32768
    part = audio[int(start_s * rate) : int(end_s * rate)]
    return float(np.sqrt(np.mean(np.square(part)))) if len(part) else 0.0


def test_three_hubs_one_answer_broadcast_and_a_killed_winner(voices, mosquitto, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    light = device_from(
        {"id": "kitchen_light", "name": "Kitchen Light", "kind": "light", "area": "Kitchen", "convention": "ha"}
    )
    roots = {name: tmp_path / name for name in ("a", "b", "c", "x")}
    settings = {
        "mqtt_url": mosquitto.url,
        "llm_enabled": "false",
        "cloud_escalation": "false",
        "timer_alert_repeats": "20",  # a timer nobody stops rings on for 30 s
        "timer_alert_interval_s": "1.5",
    }
    # One home: a's key, joined by b and c with its token; x is a stranger with a home of its own.
    token = cli(hub_env(roots["a"], **settings), "home", "invite").stdout.strip()
    for name in ("b", "c"):
        joined = cli(hub_env(roots[name], **settings), "home", "join", token)
        assert joined.returncode == 0, joined.stderr
    request = _asked(voices, "Turn on the kitchen light.")
    with Simulator(mosquitto.url, [light]):
        hubs = {
            name: HubProcess(root, **settings, room=ROOMS[name], hub_name=f"hub {name}") for name, root in roots.items()
        }
        try:
            for hub in hubs.values():
                hub.start(timeout_s=240)
            _wait(
                lambda: all(len(_events(hubs[n], "peers.status")) >= 2 for n in "abc"),
                30,
                "each hub sees its two peers",
                hubs,
            )
            shown = cli(hubs["a"].env, "home", "show", "--json")
            home = _home_seen_by_an_app(hubs["a"])
            with Microphones(hubs) as mics:
                time.sleep(1.0)
                # 1. The same request at three levels (the stranger hears nothing: it would answer for its own home).
                mics.say(request, {n: GAIN[n] for n in "abc"})
                _wait(lambda: sum(len(_events(h, "hub.skill")) for h in hubs.values()) >= 1, 90, "an answer", hubs)
                _wait(lambda: all(_events(hubs[n], "hub.yielded") for n in "ac"), 30, "a and c yield", hubs)
                time.sleep(1.0)
                answered = {n: len(_events(h, "hub.skill")) for n, h in hubs.items()}
                assert answered == {"a": 0, "b": 1, "c": 0, "x": 0}, answered
                assert len(light.received) == 1, light.received
                assert light.state["on"] is True

                # 2. A broadcast said to a alone: spoken by b and c, never by the stranger.
                said_at = mics.say(
                    _asked(voices, "Tell everyone dinner is ready."),
                    {"a": 1.0},
                )
                _wait(lambda: all(_events(hubs[n], "hub.announcement") for n in "bc"), 90, "the announcement", hubs)
                time.sleep(3.0)  # it plays out
                assert not _events(hubs["x"], "hub.announcement")
                broadcast_done = mics.blocks * BLOCK / 16000

                # 3. The loudest hub killed right after it claimed the wake word: c, next loudest, answers once.
                claims_b = len(_events(hubs["b"], "peers.arbitrated"))
                mics.say(
                    _asked(voices, "Turn off the kitchen light."),
                    {n: GAIN[n] for n in "abc"},
                )
                _wait(lambda: len(_events(hubs["b"], "peers.arbitrated")) > claims_b, 30, "b claims", hubs)
                os.kill(hubs["b"].proc.pid, signal.SIGKILL)
                mics.drop("b")
                _wait(lambda: len(_events(hubs["c"], "hub.skill")) >= 1, 90, "c answers", hubs)
                _wait(lambda: len(_events(hubs["a"], "hub.yielded")) >= 2, 30, "a yields again", hubs)
                time.sleep(1.0)
                skills = {n: [r.get("reply") for r in _events(h, "hub.skill")] for n, h in hubs.items()}
                assert len(skills["c"]) == 1 and len(skills["a"]) == 1 and not skills["x"], skills  # a: its broadcast
                assert len(light.received) == 2 and light.state["on"] is False, light.received

                # 4. A timer rings where it was set (a); "stop" said to c alone silences it there.
                mics.say(_asked(voices, "Set a timer for two seconds."), {"a": 1.0})
                _wait(lambda: _events(hubs["a"], "hub.timer_alert"), 60, "a's timer rings", hubs)
                mics.say(_asked(voices, "Stop."), {"c": 1.0})
                _wait(lambda: len(_events(hubs["c"], "hub.skill")) >= 2, 60, "c hears stop", hubs)
                rang = len(_events(hubs["a"], "hub.timer_alert"))
                time.sleep(4.0)  # two more alert intervals
                assert len(_events(hubs["a"], "hub.timer_alert")) == rang < 20, rang
                assert _events(hubs["c"], "hub.skill")[-1].get("intent") == "stop"
                assert not _events(hubs["c"], "hub.timer_alert")
        finally:
            for hub in hubs.values():
                hub.stop()
    assert shown.returncode == 0
    listed = {h["hub"] for h in json.loads(shown.stdout)["hubs"]}
    # The app paired with a sees the home's three hubs, their rooms, and where each one's API answers.
    rooms = {h["room"]: (h["online"], h["api"]) for h in home["hubs"]}
    assert sorted(rooms) == ["Hallway", "Kitchen", "Office"] and len(listed) == 3, (home, listed)
    assert all(online and api.startswith("http://127.0.0.1:") for online, api in rooms.values()), rooms
    assert rooms["Hallway"][1] == hubs["b"].url
    # The announcement is in b's and c's speaker timelines after it was said, and nowhere on the stranger.
    for name in ("b", "c"):
        assert _loudness(roots[name] / "speaker.wav", said_at, broadcast_done) > 0.01, name
    assert _loudness(roots["x"] / "speaker.wav", 0, 10_000) == 0.0
