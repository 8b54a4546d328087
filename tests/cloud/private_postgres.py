"""A PostgreSQL cluster of a test's own, on a free port, so it can be restarted for real (its
sessions ended with `admin_shutdown`, new connections refused, then "starting up") without touching
the machine's shared server that other tests use."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from device_drivers.mosquitto import free_port


def _bindir() -> Path:
    """The server's binaries: pg_config's answer, else the newest Debian install."""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        found = Path(
            subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        )
        if (found / "pg_ctl").exists():
            return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        raise RuntimeError(
            "a private PostgreSQL needs the server binaries (initdb, pg_ctl); Debian: apt-get install postgresql"
        )
    return Path(candidates[-1]).parent


class PrivatePostgres:
    """`start()` initialises the cluster once, then starts it; `stop()` is a fast shutdown, as an
    operator's restart does (open sessions are terminated); `restart()` is both."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.port = free_port()
        # Not under pytest's tmp_path: that is private to root, and the server may not run as root.
        self.home = Path(tempfile.mkdtemp(prefix="companion-pg-"))
        self.data = self.home / "data"
        self.log = self.home / "server.log"
        self.user = None if os.geteuid() != 0 else "postgres"
        if self.user is not None:
            try:
                account = pwd.getpwnam(self.user)
            except KeyError as err:
                raise RuntimeError("running as root, a private PostgreSQL needs the postgres account") from err
            os.chown(self.home, account.pw_uid, account.pw_gid)
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr[-2000:]}\n{tail}")
        return done

    def start(self) -> PrivatePostgres:
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()

    def database(self, name: str = "companion") -> str:
        """A new database in this cluster; its URL for the cloud (asyncpg)."""
        import asyncio

        import asyncpg

        async def create() -> None:
            conn = await asyncpg.connect(self.admin_url, timeout=10)
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()
