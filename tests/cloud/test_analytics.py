"""analytics on the real cloud (PostgreSQL): idempotent ingest, daily rollups per hub, transcripts
only with the user's opt-in, users apart, bad batches refused with a code."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.cloud.server import bearer, signup


def event(hub: str, kind: str = "turn", **fields: Any) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "hub_id": hub,
        "type": kind,
        "at": fields.pop("at", datetime.now(UTC)).isoformat(),
        **fields,
    }


def test_ingest_is_idempotent_and_rollups_add_up(client: httpx.Client) -> None:
    user = signup(client)
    headers = bearer(user["access_token"])
    yesterday = datetime.now(UTC) - timedelta(days=1)
    turns = [event("kitchen", route="local-intent", latency_ms=float(ms)) for ms in range(100, 1100, 100)]
    turns += [event("kitchen", route="cloud", latency_ms=2000.0), event("kitchen", route="builtin", latency_ms=50.0)]
    others = [
        event("kitchen", "error", error_code="STT_ERROR"),
        event("kitchen", "device", device="ha:lamp"),
        event("bedroom", route="local-llm", latency_ms=300.0, at=yesterday),
    ]
    batch = {"events": turns + others}
    first = client.post("/v1/analytics/events", json=batch, headers=headers).json()
    assert first == {"received": 15, "stored": 15, "duplicates": 0}
    again = client.post("/v1/analytics/events", json=batch, headers=headers).json()
    assert again == {"received": 15, "stored": 0, "duplicates": 15}  # a resent batch is stored once
    rollups = {(r["hub_id"], r["day"]): r for r in client.get("/v1/analytics/rollups", headers=headers).json()}
    today = rollups[("kitchen", datetime.now(UTC).date().isoformat())]
    assert today["turns"] == 12 and today["errors"] == 1 and today["device_actions"] == 1
    assert today["local_share"] == round(11 / 12, 4) and today["cloud_share"] == round(1 / 12, 4)
    latencies = sorted([float(ms) for ms in range(100, 1100, 100)] + [2000.0, 50.0])
    assert today["p50_ms"] == (latencies[5] + latencies[6]) / 2
    assert latencies[-2] <= today["p95_ms"] <= latencies[-1]
    assert rollups[("bedroom", yesterday.date().isoformat())]["turns"] == 1
    only = client.get("/v1/analytics/rollups", params={"hub_id": "bedroom"}, headers=headers).json()
    assert [r["hub_id"] for r in only] == ["bedroom"]
    stranger = bearer(signup(client)["access_token"])
    assert client.get("/v1/analytics/rollups", headers=stranger).json() == []


def test_transcripts_only_with_opt_in(client: httpx.Client) -> None:
    user = signup(client)
    headers = bearer(user["access_token"])
    said = event("hall", route="local-intent", transcript="turn on the hall light")
    client.post("/v1/analytics/events", json={"events": [said]}, headers=headers)
    assert client.get("/v1/analytics/events", headers=headers).json()[0]["transcript"] is None
    client.patch("/v1/profile", json={"preferences": {"store_transcripts": True}}, headers=headers)
    kept = event("hall", route="local-intent", transcript="turn off the hall light")
    client.post("/v1/analytics/events", json={"events": [kept]}, headers=headers)
    stored = {e["event_id"]: e["transcript"] for e in client.get("/v1/analytics/events", headers=headers).json()}
    assert stored == {said["event_id"]: None, kept["event_id"]: "turn off the hall light"}


def test_bad_batches_get_a_code(client: httpx.Client) -> None:
    headers = bearer(signup(client)["access_token"])
    naive = {**event("hall"), "at": "2026-11-25T10:00:00"}
    cases = [
        ({"events": []}, 422),
        ({"events": [event("hall", "party")]}, 422),
        ({"events": [{**event("hall"), "latency_ms": -5}]}, 422),
        ({"events": [event("hall") for _ in range(1001)]}, 422),
        ({"events": [naive]}, 422),
        ({"events": [{**event("hall"), "stages": {"stt": -1.0}}]}, 422),
        ({"events": [{**event("hall"), "stages": {f"s{i}": 1.0 for i in range(17)}}]}, 422),
    ]
    for body, status in cases:
        response = client.post("/v1/analytics/events", json=body, headers=headers)
        assert response.status_code == status and response.json()["error"]["code"], response.text
    assert client.get("/v1/analytics/events", headers=headers).json() == []
    assert client.post("/v1/analytics/events", json={"events": [event("hall")]}).status_code == 401


def test_a_turns_stages_are_kept(client: httpx.Client) -> None:
    headers = bearer(signup(client)["access_token"])
    stages = {"stt": 120.5, "brain": 3.0, "response": 640.0}
    turn = event("hall", route="local-intent", latency_ms=640.0, stages=stages)
    assert client.post("/v1/analytics/events", json={"events": [turn]}, headers=headers).json()["stored"] == 1
    [stored] = client.get("/v1/analytics/events", headers=headers).json()
    assert stored["stages"] == stages and stored["latency_ms"] == 640.0
