"""Real cloud servers for the tests: `companion cloud serve` in a subprocess, on real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from device_drivers.mosquitto import free_port

PG_ADMIN = os.environ.get("COMPANION_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("COMPANION_TEST_REDIS", "redis://127.0.0.1:6379")


def fresh_database() -> str:
    """A new, empty PostgreSQL database; the URL to reach it with asyncpg."""
    import asyncpg

    name = f"companion_test_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        try:
            conn = await asyncpg.connect(PG_ADMIN, timeout=5)
        except (OSError, asyncpg.PostgresError) as err:
            raise RuntimeError(
                f"PostgreSQL is needed at {PG_ADMIN} ({err}); start it, or point "
                "COMPANION_TEST_PG at one (Debian: apt-get install postgresql)"
            ) from err
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()

    asyncio.run(create())
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"


def fresh_redis(db: int) -> str:
    import redis

    url = f"{REDIS}/{db}"
    try:
        redis.from_url(url).flushdb()
    except redis.ConnectionError as err:
        raise RuntimeError(
            f"Redis is needed at {REDIS} ({err}); start it, or point COMPANION_TEST_REDIS "
            "at one (Debian: apt-get install redis-server)"
        ) from err
    return url


class CloudServer:
    def __init__(
        self,
        workdir: Path,
        *,
        services: list[str] | None = None,
        log_level: str = "INFO",
        **settings: str,
    ) -> None:
        # port="N": a cloud restarted where the last one was; else a free one
        self.port = int(settings.pop("port", "0")) or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "COMPANION_CLOUD_DATA_DIR": str(workdir),
            "COMPANION_CLOUD_PORT": str(self.port),
            "COMPANION_CLOUD_JWT_SECRET": "test-secret-" + "x" * 40,
        }
        env.update({f"COMPANION_CLOUD_{k.upper()}": v for k, v in settings.items()})
        args = [sys.executable, "-m", "cli", "--log-level", log_level, "cloud", "serve"]
        for name in services or []:
            args += ["--service", name]
        self.log = workdir / "server.log"
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("a"))

    def start(self, timeout_s: float = 60.0) -> CloudServer:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cloud server exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"cloud server did not come up:\n{self.log.read_text()[-3000:]}")

    def __enter__(self) -> CloudServer:
        try:
            return self.start()
        except BaseException:
            self.stop()  # one that never came up is not left running
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer does: no shutdown, nothing flushed or released."""
        self.proc.kill()
        self.proc.wait(15)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def signup(client: httpx.Client, email: str | None = None, password: str = "correct horse battery") -> dict[str, str]:
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
    created = client.post("/v1/auth/register", json={"email": email, "password": password, "name": "Ada"})
    assert created.status_code == 201, created.text
    tokens = client.post("/v1/auth/token", data={"grant_type": "password", "username": email, "password": password})
    assert tokens.status_code == 200, tokens.text
    return {"email": email, "password": password, **tokens.json()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Silent:
    """A TCP server that accepts and never answers: an upstream that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()


def link_hub(url: str, files: Any) -> dict[str, str]:
    """A hub identity linked to a fresh user by the device grant, as `companion hub link` does.
    Returns the user (email, password, tokens); the hub's credentials are in `files`."""
    from edge_runtime.cloud_client import CloudClient

    identity, _ = files.init()
    user = signup(httpx.Client(base_url=url))
    client = CloudClient(url, files)
    client.login(user["email"], user["password"])
    grant = client.start_link(identity.hub_id, "test hub")
    client.approve(grant["user_code"])
    client.wait_for_link(grant, sleep=lambda s: time.sleep(min(s, 1.0)))
    return user
