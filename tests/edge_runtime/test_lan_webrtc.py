"""WebRTC through the LAN API, as the app does it: a paired app posts its offer over HTTP, then
talks to the hub with a real aiortc peer; bad offers and other apps' sessions are refused."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import websockets

from device_drivers.mosquitto import Mosquitto
from models.registry import Registry
from tests.edge_runtime.lan_hub import bearer, lan_hub
from tests.webrtc_peer import Phone


class HttpSignalling:
    """What the web app does: POST /v1/webrtc/offer with its token."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http, self.headers = http, bearer(token)

    async def answer(self, sdp: str, kind: str) -> SimpleNamespace:
        answer = await self.http.post("/v1/webrtc/offer", json={"sdp": sdp, "type": kind}, headers=self.headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return SimpleNamespace(sdp=body["sdp"], session_id=body["session"])


def test_an_app_talks_over_webrtc_through_the_lan_api(
    mosquitto: Mosquitto, tmp_path: Path, engines: Any, registry: Registry
) -> None:
    async def scenario() -> dict[str, Any]:
        async with (
            lan_hub(mosquitto.url, tmp_path, engines=engines, registry=registry) as hub,
            httpx.AsyncClient(base_url=hub.url, timeout=30) as http,
        ):
            mine, theirs = (await hub.pair(http, "phone"))["token"], (await hub.pair(http, "tablet"))["token"]
            config = (await http.get("/v1/webrtc/config", headers=bearer(mine))).json()
            bad = await http.post("/v1/webrtc/offer", json={"sdp": "v=0 not an offer"}, headers=bearer(mine))
            anonymous = await http.post("/v1/webrtc/offer", json={"sdp": "v=0"})
            phone = Phone()
            events_url = hub.url.replace("http", "ws") + "/v1/events"
            try:
                async with websockets.connect(events_url, additional_headers=bearer(mine)) as stream:
                    assert json.loads(await stream.recv())["type"] == "ready"
                    session = await phone.connect(HttpSignalling(http, mine))
                    phone.send({"type": "chat", "text": "turn on the kitchen light"})
                    reply = await phone.wait_for(lambda e: e["type"] == "reply", 20)
                    lan: list[dict[str, Any]] = []
                    while not any(e["type"] == "reply" for e in lan):
                        lan.append(json.loads(await asyncio.wait_for(stream.recv(), 10)))
                other = await http.delete(f"/v1/webrtc/{session}", headers=bearer(theirs))
                mine_closed = await http.delete(f"/v1/webrtc/{session}", headers=bearer(mine))
                history = (await http.get("/v1/history", headers=bearer(mine))).json()
                left = len(hub.context.webrtc)
                # One app gets two sessions, not the hub's every one; revoking it hangs them up.
                for extra in (Phone(), Phone()):
                    await extra.connect(HttpSignalling(http, mine))
                third = await http.post("/v1/webrtc/offer", json={"sdp": await Phone().offer()}, headers=bearer(mine))
                held = len(hub.context.webrtc)
                mine_id = next(a["id"] for a in (await http.get("/v1/apps", headers=bearer(mine))).json() if a["this"])
                await http.delete(f"/v1/apps/{mine_id}", headers=bearer(theirs))
                after_revoke = len(hub.context.webrtc)
            finally:
                for live in list(Phone.live):
                    await live.close()
            return {
                "config": config,
                "bad": bad,
                "anonymous": anonymous,
                "reply": reply,
                "lan": lan,
                "other": other,
                "closed": mine_closed,
                "history": history,
                "left": left,
                "third": third,
                "held": held,
                "after_revoke": after_revoke,
                "light": hub.home.states()["Kitchen Light"],
            }

    seen = asyncio.run(scenario())
    assert seen["config"] == {"iceServers": []}  # empty on a LAN
    assert seen["bad"].status_code == 400 and seen["bad"].json()["error"]["code"] == "WEBRTC_BAD_SDP"
    assert seen["anonymous"].status_code == 401
    assert seen["reply"]["intent"] == "HassTurnOn" and seen["light"]["on"] is True
    reply = next(e for e in seen["lan"] if e["type"] == "reply")
    assert reply["source"].startswith("webrtc:") and reply["text"] == seen["reply"]["text"]
    assert seen["other"].status_code == 404 and seen["other"].json()["error"]["code"] == "WEBRTC_UNKNOWN_SESSION"
    assert seen["closed"].status_code == 200 and seen["left"] == 0
    assert seen["third"].status_code == 503 and seen["third"].json()["error"]["code"] == "WEBRTC_TOO_MANY_SESSIONS"
    assert seen["held"] == 2 and seen["after_revoke"] == 0
    turn = seen["history"][0]
    assert turn["source"].startswith("webrtc:") and turn["reply"] == reply["text"]
    assert turn["text"] == "turn on the kitchen light" and turn["route"] == "local-intent"
