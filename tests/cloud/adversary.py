"""What the adversarial cloud tests need to break things for real: a Redis of their own to restart,
a TCP proxy to cut PostgreSQL off, an account deleted behind the cloud's back, raw sync updates."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from device_drivers.mosquitto import free_port
from tests.cloud.server import bearer

# Every table that holds a user's rows, children first (the foreign keys have no ON DELETE).
USER_TABLES = (
    "webhook_deliveries",
    "notifications",
    "notification_channels",
    "analytics_events",
    "sync_updates",
    "sync_snapshots",
    "refresh_tokens",
    "device_authorizations",
    "device_identities",
    "profiles",
)


class PrivateRedis:
    """A redis-server of this test's own (no persistence), so restarting it disturbs no other test."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        args = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--logfile",
            str(self.workdir / "redis.log"),
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.ConnectionError):
                if redis.from_url(self.url).ping():
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        """What an operator's restart does to a Redis without persistence: every key is gone."""
        self.stop()
        self.start()

    def __enter__(self) -> PrivateRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TcpProxy:
    """Forwards a local port to `target`; `cut()` refuses new connections and drops live ones, as a
    database host that goes away does; `restore()` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            self._listener.close()
            self._listener = None
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client = listener.accept()[0]
                upstream = socket.create_connection(self.target)
            except OSError:
                return
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


def proxied(database_url: str, proxy: TcpProxy) -> str:
    """The same database, reached through `proxy`."""
    head, _, tail = database_url.rpartition("@")
    return f"{head}@127.0.0.1:{proxy.port}/{tail.partition('/')[2]}"


def database_target(database_url: str) -> tuple[str, int]:
    host_port = database_url.rpartition("@")[2].partition("/")[0]
    host, _, port = host_port.partition(":")
    return host, int(port or 5432)


def sql(database_url: str, *statements: tuple[str, Any]) -> None:
    """Run statements on the cloud's database directly, as an operator (or an attacker with a shell) would."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
        try:
            for statement, *args in statements:
                await conn.execute(statement, *args)
        finally:
            await conn.close()

    asyncio.run(run())


def delete_account(database_url: str, user_id: str) -> None:
    """Delete a user and everything of theirs in the database, behind the cloud's back."""
    rows = [(f"DELETE FROM {table} WHERE user_id = $1", user_id) for table in USER_TABLES]
    sql(database_url, *rows, ("DELETE FROM users WHERE id = $1", user_id))


def user_id(client: httpx.Client, token: str) -> str:
    me = client.get("/v1/auth/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    return str(me.json()["user_id"])


def new_device(client: httpx.Client, user_token: str, scopes: str, kind: str = "app") -> dict[str, Any]:
    made = client.post(
        "/v1/auth/devices",
        json={"kind": kind, "name": f"{kind} {scopes}", "scopes": scopes},
        headers=bearer(user_token),
    )
    assert made.status_code == 201, made.text
    return dict(made.json())
