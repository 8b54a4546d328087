"""Issue #23, the cloud process killed (SIGKILL: no shutdown, nothing flushed) during a sync session
and during a webhook delivery, then started again on the same database and port: no write the cloud
acknowledged is lost, and a delivery cut off mid-post is made again."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pycrdt

from device_drivers.mosquitto import free_port
from sync import LiveSync, Replica, sync_http
from tests.cloud.server import CloudServer, bearer, fresh_database, signup
from tests.cloud.test_faults import FAST, fetch
from tests.cloud.webhook_receiver import WebhookReceiver


def _keys(*updates: bytes) -> set[str]:
    """The preference keys a set of Yjs updates writes."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    for update in updates:
        doc.apply_update(update)
    return set(doc.get("preferences", type=pycrdt.Map).keys())


def test_cloud_killed_during_a_sync_session_loses_no_acknowledged_write(tmp_path: Path) -> None:
    """A replica writes a change every 20 ms over a live sync socket; the cloud is killed with SIGKILL
    in the middle. What the replica holds as acknowledged (gone from its outbox) is in the restarted
    cloud before the replica reconnects (read by a second, new replica); what was not acknowledged is
    still in the replica's outbox and reaches the cloud when it reconnects. Nothing is stored twice."""
    database_url, port = fresh_database(), free_port()
    workdir = tmp_path / "cloud"
    options = {"services": ["auth", "sync"], "database_url": database_url, "port": str(port), "log_level": "WARNING"}
    with CloudServer(workdir, **options) as first:  # type: ignore[arg-type]
        token = signup(httpx.Client(base_url=first.url))["access_token"]
        writer = Replica.open(tmp_path / "writer.sqlite")
        written = asyncio.run(_write_until_killed(writer, first, token))
    unacknowledged = _keys(*[data for _, data in writer.store.outbox("main")])
    acknowledged = written - unacknowledged
    assert len(acknowledged) >= 10, "too few writes went through before the kill to prove anything"

    with CloudServer(workdir, **options) as second:  # type: ignore[arg-type]
        reader = Replica.open(tmp_path / "reader.sqlite")
        asyncio.run(sync_http(reader, second.url, token))
        held = set(reader.doc.to_py()["preferences"])
        assert acknowledged <= held, f"acknowledged, then lost: {sorted(acknowledged - held)}"

        asyncio.run(sync_http(writer, second.url, token))  # the writer comes back with its outbox
        assert writer.store.outbox("main") == []
        asyncio.run(sync_http(reader, second.url, token))
        assert set(reader.doc.to_py()["preferences"]) == written
        rows = fetch(database_url, "SELECT digest, count(*) AS n FROM sync_updates GROUP BY digest")
        assert rows and {r["n"] for r in rows} == {1}
        reader.store.close()
    writer.store.close()


async def _write_until_killed(replica: Replica, server: CloudServer, token: str) -> set[str]:
    async def tokens() -> str:
        return token

    stop = asyncio.Event()
    live = LiveSync(replica, server.url, tokens, max_backoff_s=1)
    task = asyncio.create_task(live.run(stop))
    written: set[str] = set()
    try:
        await asyncio.wait_for(live.connected.wait(), 20)
        for i in range(400):
            key = f"k{i:03d}"
            replica.doc.set_preference(key, i)
            written.add(key)
            if i == 60:
                await asyncio.to_thread(server.kill)  # mid-stream: writes and acknowledgements in flight
            if i == 80:  # and some more, written while the cloud is gone
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
    return written


def test_cloud_killed_during_a_webhook_delivery_delivers_after_restart(tmp_path: Path) -> None:
    """The receiver holds the first post open; the cloud is killed with SIGKILL while it waits. The
    accepted notification and its pending delivery are in the database; the restarted cloud posts it
    again once the dead process's lease runs out (at least once: the same delivery id), and it is
    then marked delivered."""
    receiver = WebhookReceiver(hold_first_s=30)
    database_url, port = fresh_database(), free_port()
    settings = {
        **FAST,
        "notify_webhook_timeout_s": "3",
        "notify_lease_margin_s": "1",
    }
    workdir = tmp_path / "cloud"
    with CloudServer(
        workdir, services=["auth", "notification"], database_url=database_url, port=str(port), **settings
    ) as first:
        api = httpx.Client(base_url=first.url, timeout=30)
        headers = bearer(signup(api)["access_token"])
        api.post("/v1/notify/channels", json={"url": receiver.url}, headers=headers).raise_for_status()
        sent = api.post("/v1/notify", json={"topic": "door", "title": "Front door opened"}, headers=headers)
        assert sent.status_code == 202 and sent.json()["webhooks"] == 1
        receiver.wait_for(1)
        first.kill()
    [row] = fetch(database_url, "SELECT status, attempts FROM webhook_deliveries")
    assert (row["status"], row["attempts"]) == ("pending", 0)  # claimed, never answered

    killed = time.monotonic()
    with CloudServer(
        workdir, services=["auth", "notification"], database_url=database_url, port=str(port), **settings
    ) as second:
        api = httpx.Client(base_url=second.url, timeout=30)
        posts = receiver.wait_for(2, timeout_s=30)
        assert time.monotonic() - killed < 20
        assert posts[0].headers["X-Companion-Delivery"] == posts[1].headers["X-Companion-Delivery"]
        assert json.loads(posts[1].body)["id"] == sent.json()["id"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            [row] = fetch(database_url, "SELECT status, attempts, last_status FROM webhook_deliveries")
            if row["status"] == "delivered":
                break
            time.sleep(0.1)
        assert (row["status"], row["attempts"], row["last_status"]) == ("delivered", 1, 200)
        inbox = api.get("/v1/notify/notifications", headers=headers).json()
        assert [n["id"] for n in inbox] == [sent.json()["id"]]
    receiver.close()
