"""The internet cut for real, and slow: the hub in its own network namespace (tests/netns/lab.py).

Cut: the WAN link's far end goes down (a black hole, not an error). Devices, timers, the LAN API
and spoken turns keep working; an escalation answers "offline" within its budget; the turns'
telemetry waits in the outbox and, once the link is back, arrives in the cloud's rollups once each.
Slow: the WAN proxy holds every chunk 500 ms each way and stalls 5 % of them (no netem in this
kernel, see tests/netns/proxy.py); local turns take what they took on a normal link. Timing
figures belong in bench/netns.py; the bounds here are generous on purpose."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from tests.netns.home import FIRST_REPLY_S, Home, spoken, wait_for
from tests.speech import Voices

OFFLINE = {  # what the hub says when the cloud cannot answer (edge_runtime/brain/replies.py)
    "CLOUD_UNREACHABLE": "I can't reach the cloud right now",
    "CLOUD_TIMEOUT": "The cloud is taking too long",
}


def turn_ids(events: list[dict[str, object]]) -> list[object]:
    return [e["event_id"] for e in events if e["type"] == "turn"]


def test_cut_the_home_runs_and_telemetry_catches_up_once(home: Home, voices: Voices) -> None:
    wait_for(lambda: home.outbox() == [], 60, "the outbox is empty before the cut", home)
    rollups, events = home.analytics()
    turns_before = sum(r["turns"] for r in rollups)
    assert len(turn_ids(events)) == turns_before
    alerts = len(home.hub.events("hub.timer_alert"))
    home.ns.cut()
    try:
        # The LAN API and the devices, by a direct command and by a sentence.
        put = home.app.post("/v1/devices/kitchen_light", json={"on": False})
        assert put.status_code == 200 and put.json()["confirmed"] is True, put.text
        answer, _ = home.ask("turn on the hall plug")
        assert answer["route"] != "cloud" and answer["actions"], answer
        assert home.app.get("/v1/devices/hall_plug").json()["state"]["on"] is True
        # An escalation answers offline within its budget (the first words' budget, plus the turn's own work).
        offline, took = home.ask("what's the weather tomorrow?")
        assert offline["route"] == "cloud" and offline["data"]["fallback"] in OFFLINE, offline
        assert offline["reply"].startswith(OFFLINE[offline["data"]["fallback"]]), offline
        assert took < FIRST_REPLY_S + 2, took
        # Spoken turns: the time, a timer that rings, and a question for the cloud.
        home.say(spoken(voices, "What time is it?"))
        home.say(spoken(voices, "Set a timer for two seconds."))
        wait_for(lambda: len(home.hub.events("hub.timer_alert")) > alerts, 30, "the timer rings offline", home)
        home.say(spoken(voices, "What's the weather like tomorrow?"), timeout_s=FIRST_REPLY_S + 60)
        said = [(e["intent"], e["reply"]) for e in home.hub.events("hub.skill")[-3:]]
        assert [intent for intent, _ in said] == ["time", "timer-set", "escalate"], said
        assert said[2][1].startswith(tuple(OFFLINE.values())), said
        # The turns wait in the outbox; the cloud has none of them.
        queued = wait_for(lambda: len(home.outbox()) >= 3 and home.outbox(), 30, "three queued turns", home)
        assert {r["intent"] for r in queued if r.get("route")} >= {"time", "timer-set", "escalate"}, queued
        assert home.analytics()[0] == rollups
    finally:
        home.ns.restore()
    wait_for(lambda: home.outbox() == [], 90, "the outbox drains after the link is back", home)
    after, events = home.analytics()
    expected = [r["event_id"] for r in queued if r.get("route")]
    ids = turn_ids(events)
    assert sum(r["turns"] for r in after) == turns_before + len(expected) == len(ids), (after, expected)
    assert all(ids.count(i) == 1 for i in expected) and len(set(ids)) == len(ids), ids


PING = """
import sys, time, httpx
started = time.perf_counter()
httpx.get(sys.argv[1] + "/health", timeout=30)
print(time.perf_counter() - started)
"""


def test_a_slow_link_does_not_slow_local_turns(home: Home, voices: Voices) -> None:
    def cloud_round_trip() -> float:  # from inside the hub's namespace, through the WAN link
        probe = [*home.ns.exec_prefix, sys.executable, "-c", PING, home.proxy.url]
        return float(subprocess.run(probe, capture_output=True, text=True, timeout=60, check=True).stdout)

    def local_turns() -> tuple[float, float]:
        """The median of LAN-API device turns (s), and a spoken turn's brain time (ms)."""
        took = []
        for on in ("on", "off", "on", "off", "on"):
            answer, seconds = home.ask(f"turn {on} the kitchen light")
            assert answer["route"] != "cloud" and answer["actions"], answer
            took.append(seconds)
        home.say(spoken(voices, "What time is it?"))
        [skill] = home.hub.events("hub.skill")[-1:]
        assert skill["intent"] == "time", skill
        return statistics.median(took), float(skill["ms"])

    normal_rtt = cloud_round_trip()
    normal, normal_ms = local_turns()
    home.proxy.slow(0.5, loss=0.05)
    try:
        slow_rtt = cloud_round_trip()
        assert slow_rtt > normal_rtt + 0.9, (normal_rtt, slow_rtt)  # the link is slow: 500 ms each way
        slow, slow_ms = local_turns()
        started = time.perf_counter()
        escalated, _ = home.ask("what's the weather tomorrow?")  # the cloud is still there, slowly
        assert escalated["route"] == "cloud" and time.perf_counter() - started < FIRST_REPLY_S + 22, escalated
    finally:
        home.proxy.normal()
    # Not slowed: a local turn that waited on the cloud even once would take a second longer.
    assert slow < normal + 0.3, (normal, slow)
    assert slow_ms < normal_ms + 300, (normal_ms, slow_ms)
