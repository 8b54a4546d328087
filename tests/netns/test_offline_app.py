"""The internet cut, as the app and the local LLM see it: with the hub's WAN link down, the paired app
opens a WebRTC session over the LAN (a real aiortc peer in the test's namespace, the hub in its
own), speaks a command and hears the reply; small talk is answered by the hub's own LLM, not by
the cloud's offline apology."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import httpx

from tests.netns.home import Home
from tests.speech import Voices, join, silence
from tests.webrtc_peer import Phone


class LanSignalling:
    """What the web app does: POST /v1/webrtc/offer with its pairing token, over the LAN."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def answer(self, sdp: str, kind: str) -> SimpleNamespace:
        answer = await self.http.post("/v1/webrtc/offer", json={"sdp": sdp, "type": kind})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return SimpleNamespace(sdp=body["sdp"], session_id=body["session"])


def _voice_turn_over_webrtc(home: Home, speech: Any) -> dict[str, Any]:
    async def scenario() -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=str(home.app.base_url), headers=home.app.headers, timeout=30) as http:
            phone = Phone()
            try:
                await phone.connect(LanSignalling(http))
                await asyncio.sleep(0.5)
                phone.mic.play(speech)
                reply = await phone.wait_for(lambda e: e["type"] == "reply", 45)
                # The reply's voice on its way back (about 1.5 s); the hub sends only silence besides,
                # and the reply may come while the mic still sends the clip's trailing silence.
                for _ in range(100):
                    if len(phone.loud_frames()) >= 25:
                        break
                    await asyncio.sleep(0.1)
                reply["heard_loud"] = len(phone.loud_frames())
                return reply
            finally:
                await phone.close()

    return asyncio.run(scenario())


def test_cut_the_app_talks_over_webrtc_and_the_local_llm_answers(home: Home, voices: Voices) -> None:
    home.app.post("/v1/devices/kitchen_light", json={"on": False}).raise_for_status()
    home.ns.cut()
    try:
        assert not home.ns.wan_carrier()
        request = voices.piper("Turn on the kitchen light.")
        speech = join(voices.piper("Hey Jarvis."), silence(0.3), request, silence(1.5))
        reply = _voice_turn_over_webrtc(home, speech)
        assert reply["text"] == "Turned on the Kitchen Light." and reply["heard_loud"] >= 25, reply
        assert home.app.get("/v1/devices/kitchen_light").json()["state"]["on"] is True
        chat, _ = home.ask("good morning, how are you today?")
        assert chat["route"] == "local-llm" and chat["reply"], chat
        assert not chat["reply"].startswith("I can't reach the cloud"), chat
    finally:
        home.ns.restore()
