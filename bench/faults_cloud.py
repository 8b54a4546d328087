"""The cloud's part of bench/faults.py: PostgreSQL and Redis restarted under one cloud process, and
the cloud process killed; see that module's docstring for what is measured."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import median, table
from tests.cloud.adversary import PrivateRedis
from tests.cloud.private_postgres import PrivatePostgres
from tests.cloud.server import CloudServer, bearer, signup


def _summary(out: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    for key in keys:
        values = [r[key] for r in out["runs"] if r.get(key) is not None]
        out[f"median_{key}"] = median(values)
        out[f"max_{key}"] = max(values) if values else None
    return out


def _during(api: httpx.Client, headers: dict[str, str]) -> str:
    started = time.monotonic()
    r = api.post("/v1/notify", json={"topic": "bench", "title": "during"}, headers=headers)
    code = r.json().get("error", {}).get("code", "") if r.status_code >= 400 else ""
    return f"{r.status_code} {code}".strip() + f" in {1000 * (time.monotonic() - started):.0f} ms"


async def _accepted_and_pushed(url: str, headers: dict[str, str], back: float, socket: Any) -> tuple[Any, Any]:
    """Seconds from `back` until a notification is accepted, and until it reaches `socket` (if any)."""
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as api:
        while time.monotonic() - back < 60:
            r = await api.post("/v1/notify", json={"topic": "bench", "title": "back"})
            if r.status_code == 202:
                accepted_s, ident = time.monotonic() - back, r.json()["id"]
                break
            await asyncio.sleep(0.02)
        else:
            return None, None
    if socket is None:
        return accepted_s, None
    while time.monotonic() - back < 60:
        message = json.loads(await asyncio.wait_for(socket.recv(), 60))
        if message.get("id") == ident:
            return accepted_s, time.monotonic() - back
    return accepted_s, None


async def _held_socket(url: str, headers: dict[str, str]) -> Any:
    import websockets

    ws = await websockets.connect(url.replace("http://", "ws://") + "/v1/notify/ws", additional_headers=headers)
    assert json.loads(await ws.recv())["type"] == "ready"
    return ws


def cloud_restarts(work: Path, runs: int, down_s: float, which: set[str]) -> dict[str, Any]:
    results: dict[str, Any] = {"down_s": down_s}
    with PrivatePostgres() as pg, PrivateRedis(work / "redis") as redis:
        database_url = pg.database()
        options: dict[str, Any] = {"database_url": database_url, "redis_url": redis.url, "log_level": "WARNING"}
        server = CloudServer(work / "cloud", services=["auth", "notification", "sync"], **options).start()
        try:
            api = httpx.Client(base_url=server.url, timeout=30)
            headers = bearer(signup(api)["access_token"])
            if "postgres" in which:
                out: dict[str, Any] = {"runs": []}
                for _ in range(runs):
                    pg.stop()
                    time.sleep(min(1.0, down_s))
                    during = _during(api, headers)
                    time.sleep(max(0.0, down_s - 1.0))
                    pg.start()  # returns once it accepts connections
                    back = time.monotonic()
                    accepted_s, _ = asyncio.run(_accepted_and_pushed(server.url, headers, back, None))
                    out["runs"].append({"accepted_s": accepted_s, "during": during})
                    print(f"  postgres run {len(out['runs'])}: {out['runs'][-1]}", flush=True)
                results["postgres_restart"] = _summary(out, ("accepted_s",))
            if "redis" in which:
                results["redis_restart"] = asyncio.run(_redis_restarts(server.url, headers, redis, runs, down_s))
            if "cloud" in which:
                out = {"runs": []}
                for _ in range(runs):
                    server.kill()
                    killed = time.monotonic()
                    server = CloudServer(
                        work / "cloud", services=["auth", "notification", "sync"], port=str(server.port), **options
                    ).start(timeout_s=120)
                    health_s = time.monotonic() - killed
                    accepted_s, _ = asyncio.run(_accepted_and_pushed(server.url, headers, killed, None))
                    out["runs"].append({"health_s": health_s, "accepted_s": accepted_s})
                    print(f"  cloud run {len(out['runs'])}: {out['runs'][-1]}", flush=True)
                results["cloud_restart"] = _summary(out, ("health_s", "accepted_s"))
        finally:
            server.stop()
    return results


async def _redis_restarts(url: str, headers: dict[str, str], redis: PrivateRedis, runs: int, down_s: float) -> Any:
    out: dict[str, Any] = {"runs": []}
    socket = await _held_socket(url, headers)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as api:
            for _ in range(runs):
                await asyncio.to_thread(redis.stop)
                await asyncio.sleep(min(1.0, down_s))
                started = time.monotonic()
                r = await api.post("/v1/notify", json={"topic": "bench", "title": "during"}, headers=headers)
                code = r.json().get("error", {}).get("code", "") if r.status_code >= 400 else ""
                during = f"{r.status_code} {code} in {1000 * (time.monotonic() - started):.0f} ms"
                await asyncio.sleep(max(0.0, down_s - 1.0))
                await asyncio.to_thread(redis.start)  # returns once it answers PING
                back = time.monotonic()
                accepted_s, pushed_s = await _accepted_and_pushed(url, headers, back, socket)
                out["runs"].append({"accepted_s": accepted_s, "pushed_s": pushed_s, "during": during})
                print(f"  redis run {len(out['runs'])}: {out['runs'][-1]}", flush=True)
    finally:
        await socket.close()
    return _summary(out, ("accepted_s", "pushed_s"))


def print_cloud(results: dict[str, Any], down: float, runs: int) -> None:
    rows = []
    if pg := results.get("postgres_restart"):
        rows.append(
            ["PostgreSQL restart: a notification accepted (202)", pg["median_accepted_s"], pg["max_accepted_s"]]
        )
    if rd := results.get("redis_restart"):
        rows.append(["Redis restart: a notification accepted (202)", rd["median_accepted_s"], rd["max_accepted_s"]])
        rows.append(["Redis restart: it reaches a push socket held open", rd["median_pushed_s"], rd["max_pushed_s"]])
    if cl := results.get("cloud_restart"):
        rows.append(["cloud killed and restarted: /health answers", cl["median_health_s"], cl["max_health_s"]])
        rows.append(
            ["cloud killed and restarted: a notification accepted", cl["median_accepted_s"], cl["max_accepted_s"]]
        )
    if not rows:
        return
    print()
    print(
        table(
            f"Recovery of the cloud, PostgreSQL and Redis down {down:g} s (seconds from the service's return, "
            f"for the cloud from the kill; median and max of {runs})",
            ["what", "median", "max"],
            rows,
        )
    )
    for name in ("postgres_restart", "redis_restart"):
        if name in results:
            print(f"\nduring the {name.split('_')[0]} outage: " + "; ".join(r["during"] for r in results[name]["runs"]))
