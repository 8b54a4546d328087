"""Nothing leaks, proven by a capture: tshark on the hub namespace's WAN interface from before the hub
started, through a scripted session (spoken commands, a timer, a question that escalates, by voice
and over the LAN API, a camera that sees motion), while the hub's telemetry and sync go to the
cloud. The hub talks plain HTTP on this link so the capture can read every payload: only the
documented JSON, SSE and y-protocols messages may cross, and no audio or image bytes
(tests/netns/payloads.py says what is looked for)."""

from __future__ import annotations

from collections import Counter

from tests.netns.capture import survey
from tests.netns.home import Home, spoken, wait_for
from tests.speech import Voices


def test_only_text_crosses_to_the_cloud(home: Home, voices: Voices) -> None:
    # The session: commands, a timer, questions that escalate (the cloud answers them), by voice and text.
    home.say(spoken(voices, "Turn on the kitchen light."))
    home.say(spoken(voices, "Set a timer for two seconds."))
    wait_for(lambda: home.hub.events("hub.timer_alert"), 30, "the timer rings", home)
    home.say(spoken(voices, "What's the weather like in Paris tomorrow?"))
    asked, _ = home.ask("what's the weather tomorrow?")
    assert asked["route"] == "cloud" and "fallback" not in asked.get("data", {}), asked  # the cloud answered
    home.say(spoken(voices, "What time is it?"))
    # The garage camera saw motion: its event went to the cloud as a text notification.
    motion = lambda: [e for e in home.hub.events("vision.event") if e.get("kind") == "motion"]  # noqa: E731
    wait_for(motion, 40, "a motion event from the garage camera", home)
    wait_for(home.inbox, 30, "the camera's notification in the cloud", home)
    skills = [(e["intent"], e["reply"]) for e in home.hub.events("hub.skill")]
    intents = [intent for intent, _ in skills]
    assert {"timer-set", "time", "escalate"} <= set(intents), skills
    assert home.app.get("/v1/devices/kitchen_light").json()["state"]["on"] is True
    wait_for(lambda: home.outbox() == [] and home.analytics()[0], 60, "the telemetry reaches the cloud", home)
    home.capture.stop()

    streams = home.capture.streams(home.ns.wan_hub)
    seen = survey(streams)
    kinds = Counter(seen.kinds)
    report = f"{len(streams)} streams; {dict(kinds)}"
    # The capture saw the hub's real traffic (an empty capture would pass anything):
    sse = sum(n for k, n in kinds.items() if k in ("HTTP/1.1 200 sse", "HTTP/1.1 200 text/event-stream (unterminated)"))
    assert kinds["POST /v1/escalate json"] >= 2 and sse >= 2, report
    assert kinds["POST /v1/analytics/events json"] >= 1, report
    assert kinds["POST /v1/notify json"] >= 1, report  # the camera's event, as text (the findings say no image)
    assert kinds["HTTP/1.1 upgrade websocket"] >= 2 and any(k.startswith("ws binary sync") for k in kinds), report
    sent = b"".join(s.parts["out"].data for s in streams if "out" in s.parts)
    # The escalations carry the words (as heard: Whisper tiny may write "pairs" for "Paris"), readable here.
    assert b"the weather like in" in sent and b"what's the weather tomorrow?" in sent
    # ... and nothing but the documented messages, no audio, no images, no base64 of either.
    assert seen.findings == [], f"{report}\n" + "\n".join(seen.findings[:20])
    assert not any(k.startswith("HTTP/1.1 4") or k.startswith("HTTP/1.1 5") for k in kinds), report
