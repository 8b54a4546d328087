"""Sync against real cloud processes on PostgreSQL and Redis: batch and live, fan-out across two
processes, authentication per user and device, bad messages, compaction, and `kill -9`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge_runtime.identity import HubFiles
from sync import LiveSync, Replica, SyncError, protocol, sync_http
from tests.cloud.server import CloudServer, bearer, fresh_database, fresh_redis, link_hub, signup


def binary(token: str) -> dict[str, str]:
    return {**bearer(token), "Content-Type": "application/octet-stream"}


@pytest.fixture(scope="module")
def clouds(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Two cloud processes on one database and one Redis, as behind a load balancer."""
    db, redis_url = fresh_database(), fresh_redis(5)
    settings = {"database_url": db, "redis_url": redis_url, "sync_compact_every": "8", "device_code_interval_s": "1"}
    first = CloudServer(tmp_path_factory.mktemp("c1"), services=["auth", "sync"], **settings).start()
    second = CloudServer(tmp_path_factory.mktemp("c2"), services=["auth", "sync"], **settings).start()
    yield first, second
    first.stop()
    second.stop()


def test_batch_sync_between_two_replicas(clouds: tuple[CloudServer, CloudServer], tmp_path: Path) -> None:
    cloud, other = clouds
    user = signup(httpx.Client(base_url=cloud.url))
    hub, phone = Replica.open(tmp_path / "hub.db"), Replica.open(tmp_path / "phone.db")
    hub.doc.set_profile("name", "Ada")
    item = hub.doc.add_memory("Ada takes her tea with milk", tags=["food"], source="hub")
    hub.doc.add_alias("ha:sofa_lamp", "couch lamp")

    async def rounds() -> None:
        first = await sync_http(hub, cloud.url, user["access_token"])
        assert first["acknowledged"] == 3 and first["pending"] == 0
        await sync_http(phone, other.url, user["access_token"])  # the other process sees it (one database)
        phone.doc.edit_memory(item, "Ada takes her tea with oat milk")
        phone.doc.set_profile("timezone", "Europe/London")
        await sync_http(phone, other.url, user["access_token"])
        await sync_http(hub, cloud.url, user["access_token"])

    asyncio.run(rounds())
    assert hub.doc.to_py() == phone.doc.to_py()
    final = hub.doc.to_py()
    assert final["profile"] == {"name": "Ada", "timezone": "Europe/London"}
    assert final["memory"][item]["text"] == "Ada takes her tea with oat milk"
    assert final["aliases"] == {"ha:sofa_lamp": ["couch lamp"]}
    # Idempotent: resending everything changes nothing and stores nothing new.
    before = httpx.get(f"{cloud.url}/v1/sync/main", headers=bearer(user["access_token"])).json()
    body = protocol.update(hub.doc.diff()) + protocol.update(hub.doc.diff())
    again = httpx.post(f"{cloud.url}/v1/sync/main", content=body, headers=binary(user["access_token"]))
    assert again.status_code == 200
    after = httpx.get(f"{cloud.url}/v1/sync/main", headers=bearer(user["access_token"])).json()
    assert after["updates"] == before["updates"] + 1  # the merged whole is one new row at most, once
    # Another user sees none of it.
    stranger = signup(httpx.Client(base_url=cloud.url))
    empty = Replica.open(tmp_path / "stranger.db")
    asyncio.run(sync_http(empty, cloud.url, stranger["access_token"]))
    assert empty.doc.to_py()["memory"] == {} and empty.doc.to_py()["profile"] == {}


def test_live_sync_fans_out_across_processes(clouds: tuple[CloudServer, CloudServer], tmp_path: Path) -> None:
    cloud, other = clouds
    user = signup(httpx.Client(base_url=cloud.url))

    async def token() -> str:
        return user["access_token"]

    hub, phone = Replica.open(tmp_path / "hub.db"), Replica.open(tmp_path / "phone.db")

    async def scenario() -> float:
        stop = asyncio.Event()
        links = [LiveSync(hub, cloud.url, token), LiveSync(phone, other.url, token)]
        tasks = [asyncio.create_task(link.run(stop)) for link in links]
        await asyncio.wait_for(asyncio.gather(*(link.connected.wait() for link in links)), 10)
        started = time.perf_counter()
        hub.doc.add_memory("the spare key is under the blue pot", item_id="key")
        while "key" not in phone.doc.to_py()["memory"]:
            await asyncio.sleep(0.002)
            assert time.perf_counter() - started < 5, "the update never reached the other process's client"
        elapsed = time.perf_counter() - started
        phone.doc.set_profile("name", "Ada")
        while hub.doc.to_py()["profile"].get("name") != "Ada":
            await asyncio.sleep(0.002)
            assert time.perf_counter() - started < 10
        while hub.store.outbox(hub.name) or phone.store.outbox(phone.name):  # both acknowledged
            await asyncio.sleep(0.01)
            assert time.perf_counter() - started < 10
        stop.set()
        await asyncio.gather(*tasks)
        return elapsed

    elapsed = asyncio.run(scenario())
    assert elapsed < 5 and hub.doc.to_py() == phone.doc.to_py()


def test_authentication_per_user_and_device(clouds: tuple[CloudServer, CloudServer], tmp_path: Path) -> None:
    cloud, _ = clouds
    missing = httpx.post(f"{cloud.url}/v1/sync/main", content=b"")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "TOKEN_MISSING"
    files = HubFiles(tmp_path / "config", tmp_path / "data")
    link_hub(cloud.url, files)
    creds = files.credentials(files.hub_credentials)
    assert creds is not None
    hub = Replica.open(tmp_path / "hub.db")
    hub.doc.set_profile("name", "Grace")
    assert asyncio.run(sync_http(hub, cloud.url, creds["access_token"]))["acknowledged"] == 1
    from edge_runtime.cloud_client import CloudClient

    CloudClient(cloud.url, files).unlink()  # revoke the hub
    hub.doc.set_profile("language", "de")
    with pytest.raises(SyncError) as refused:
        asyncio.run(sync_http(hub, cloud.url, creds["access_token"]))
    assert refused.value.code == "TOKEN_REVOKED"
    assert hub.store.outbox(hub.name)  # the change is kept for when the hub is linked again

    async def live() -> tuple[int, str]:
        import websockets

        url = cloud.url.replace("http://", "ws://") + "/v1/sync/main/ws"
        async with websockets.connect(url, additional_headers=bearer(creds["access_token"])) as ws:
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else 0, closed.rcvd.reason if closed.rcvd else ""
        return 0, ""

    assert asyncio.run(live()) == (4401, "TOKEN_REVOKED")


def test_bad_messages_get_a_code_and_change_nothing(clouds: tuple[CloudServer, CloudServer]) -> None:
    cloud, _ = clouds
    user = signup(httpx.Client(base_url=cloud.url))
    headers = binary(user["access_token"])
    for body in (b"not a sync message", b"\x00\x02\x05abc", protocol.update(b"garbage bytes")):
        response = httpx.post(f"{cloud.url}/v1/sync/main", content=body, headers=headers)
        assert response.status_code == 400 and response.json()["error"]["code"] == "SYNC_BAD_MESSAGE"
    assert httpx.get(f"{cloud.url}/v1/sync/main", headers=headers).json()["bytes"] == 2  # still empty
    bad_name = httpx.post(f"{cloud.url}/v1/sync/..%2Fother", content=b"", headers=headers)
    assert bad_name.status_code == 404


def test_compaction_keeps_history_bounded(clouds: tuple[CloudServer, CloudServer], tmp_path: Path) -> None:
    cloud, _ = clouds
    user = signup(httpx.Client(base_url=cloud.url))
    hub = Replica.open(tmp_path / "hub.db")

    async def many() -> list[dict[str, Any]]:
        stats = []
        for i in range(60):
            hub.doc.set_profile("name", f"name {i}")  # the same field over and over
            await sync_http(hub, cloud.url, user["access_token"])
            if i % 10 == 9:
                stats.append(httpx.get(f"{cloud.url}/v1/sync/main", headers=bearer(user["access_token"])).json())
        return stats

    stats = asyncio.run(many())
    assert all(s["updates"] < 8 for s in stats) and stats[-1]["compactions"] >= 6
    assert stats[-1]["snapshot_bytes"] < 4 * max(stats[0]["snapshot_bytes"], 200)  # not growing with each write
    fresh = Replica.open(tmp_path / "fresh.db")
    asyncio.run(sync_http(fresh, cloud.url, user["access_token"]))
    assert fresh.doc.to_py()["profile"]["name"] == "name 59"
    assert len(hub.store.history(hub.name)) < 210  # the hub compacts its own confirmed history too


WRITER = """
import asyncio, sys
from pathlib import Path
from sync import LiveSync, Replica

replica = Replica.open(Path(sys.argv[1]))


async def token():
    return sys.argv[3]


async def main():
    link = LiveSync(replica, sys.argv[2], token)
    asyncio.create_task(link.run(asyncio.Event()))
    await link.connected.wait()
    for i in range(100000):
        replica.doc.add_memory(f"note {i}", item_id=f"n{i}")
        print(i, flush=True)  # acknowledged to the user: the change is in SQLite
        await asyncio.sleep(0.001)  # the live link sends as it goes: the kill lands mid-sync


asyncio.run(main())
"""


def test_kill_9_of_the_hub_loses_nothing(clouds: tuple[CloudServer, CloudServer], tmp_path: Path) -> None:
    cloud, _ = clouds
    user = signup(httpx.Client(base_url=cloud.url))
    db = tmp_path / "hub.db"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), cloud.url, user["access_token"]],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert writer.stdout is not None
    acknowledged = -1
    while acknowledged < 150:
        acknowledged = int(writer.stdout.readline())
    os.kill(writer.pid, signal.SIGKILL)
    mid = httpx.get(f"{cloud.url}/v1/sync/main", headers=bearer(user["access_token"])).json()
    assert mid["bytes"] > 2  # the live link had sent some before the kill: it died mid-sync
    writer.wait(10)
    hub = Replica.open(db)  # restarted
    have = hub.doc.to_py()["memory"]
    assert all(f"n{i}" in have for i in range(acknowledged + 1))
    result = asyncio.run(sync_http(hub, cloud.url, user["access_token"]))
    assert result["pending"] == 0
    phone = Replica.open(tmp_path / "phone.db")
    asyncio.run(sync_http(phone, cloud.url, user["access_token"]))
    assert all(f"n{i}" in phone.doc.to_py()["memory"] for i in range(acknowledged + 1))
    assert json.dumps(phone.doc.to_py(), sort_keys=True) == json.dumps(hub.doc.to_py(), sort_keys=True)
