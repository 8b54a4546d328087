"""Notification fan-out benchmark (issue #7): a notification sent to cloud process A, pushed
over WebSocket by process B (Redis pub/sub between them), against bare Redis pub/sub in the same
run; and the time to a webhook's first post.

    make bench-cloud    # or: .venv/bin/python -m bench.notify

Prints a Markdown table and writes bench/results/notify.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import machine, median, table, write_json


def p95(values: list[float]) -> float:
    return round(sorted(values)[int(0.95 * (len(values) - 1))], 2)


async def bare_redis(url: str, rounds: int) -> list[float]:
    """The floor: one Redis publish to one subscriber, nothing of ours."""
    import redis.asyncio as redis

    client = redis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe("bench:bare")
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    times = []
    for i in range(rounds):
        started = time.perf_counter()
        await client.publish("bench:bare", json.dumps({"i": i}))
        while (await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)) is None:
            pass
        times.append(1000 * (time.perf_counter() - started))
    await pubsub.aclose()
    await client.aclose()
    return times


async def across_processes(a_url: str, b_url: str, token: str, rounds: int) -> list[float]:
    import websockets

    headers = {"Authorization": f"Bearer {token}"}
    times = []
    async with (
        websockets.connect(b_url.replace("http", "ws") + "/v1/notify/ws", additional_headers=headers) as ws,
        httpx.AsyncClient(base_url=a_url, headers=headers) as http,
    ):
        assert json.loads(await ws.recv())["type"] == "ready"
        for i in range(rounds + 5):
            started = time.perf_counter()
            response = await http.post("/v1/notify", json={"topic": "bench", "title": f"n{i}"})
            assert response.status_code == 202, response.text
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message["title"] == f"n{i}"
            if i >= 5:  # warm-up
                times.append(1000 * (time.perf_counter() - started))
    return times


def main() -> None:
    from tests.cloud.server import CloudServer, fresh_database, fresh_redis, signup
    from tests.cloud.webhook_receiver import WebhookReceiver

    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    redis_url = fresh_redis(5)
    settings = {
        "database_url": fresh_database(),
        "redis_url": redis_url,
        "notify_private_webhooks": "true",
        "notify_poll_s": "0.2",
    }
    with tempfile.TemporaryDirectory() as tmp:
        a = CloudServer(Path(tmp) / "a", services=["auth", "notification"], log_level="WARNING", **settings).start()
        b = CloudServer(Path(tmp) / "b", services=["auth", "notification"], log_level="WARNING", **settings).start()
        receiver = WebhookReceiver()
        try:
            client = httpx.Client(base_url=a.url, timeout=30)
            token = signup(client)["access_token"]
            pushed = asyncio.run(across_processes(a.url, b.url, token, args.rounds))
            bare = asyncio.run(bare_redis(redis_url, args.rounds))
            headers = {"Authorization": f"Bearer {token}"}
            client.post("/v1/notify/channels", json={"url": receiver.url}, headers=headers).raise_for_status()
            hooks = []
            for i in range(20):
                before = len(receiver.received)
                started = time.monotonic()
                client.post("/v1/notify", json={"topic": "bench", "title": f"w{i}"}, headers=headers)
                hooks.append(1000 * (receiver.wait_for(before + 1)[before].at - started))
        finally:
            receiver.close()
            a.stop()
            b.stop()
    results: dict[str, Any] = {
        "machine": machine(),
        "command": "make bench-cloud (.venv/bin/python -m bench.notify)",
        "rounds": args.rounds,
        "push_ms_median": round(median(pushed), 2),
        "push_ms_p95": p95(pushed),
        "bare_redis_ms_median": round(median(bare), 3),
        "bare_redis_ms_p95": p95(bare),
        "webhook_first_post_ms_median": round(median(hooks), 1),
        "webhook_first_post_ms_p95": p95(hooks),
    }
    print(
        table(
            f"notification fan-out across two cloud processes, {args.rounds} rounds",
            ["path", "median ms", "p95 ms"],
            [
                [
                    "POST /v1/notify on A -> WebSocket push from B (PostgreSQL insert + Redis)",
                    results["push_ms_median"],
                    results["push_ms_p95"],
                ],
                ["bare Redis publish -> subscriber", results["bare_redis_ms_median"], results["bare_redis_ms_p95"]],
                [
                    "POST /v1/notify -> webhook receiver's first post",
                    results["webhook_first_post_ms_median"],
                    results["webhook_first_post_ms_p95"],
                ],
            ],
        )
    )
    print(f"\nwrote {write_json('notify', results)}")


if __name__ == "__main__":
    main()
