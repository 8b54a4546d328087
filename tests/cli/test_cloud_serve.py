"""`companion cloud serve` and `python -m cloud` as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from device_drivers.mosquitto import free_port
from tests.cloud.server import fresh_database, fresh_redis


def children(pid: int) -> list[str]:
    """Command lines of a process's children."""
    kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [Path(f"/proc/{kid}/cmdline").read_bytes().replace(b"\0", b" ").decode() for kid in kids]


def test_workers_are_started_and_serve(tmp_path: Path) -> None:
    """`--workers N` was accepted and then never handed to uvicorn: one process served."""
    port = free_port()
    env = {
        **os.environ,
        "COMPANION_CLOUD_DATA_DIR": str(tmp_path),
        "COMPANION_CLOUD_JWT_SECRET": "s" * 48,
        "COMPANION_CLOUD_DATABASE_URL": fresh_database(),
        "COMPANION_CLOUD_REDIS_URL": fresh_redis(7),
    }
    log = tmp_path / "serve.log"
    args = [
        sys.executable,
        "-m",
        "cli",
        "cloud",
        "serve",
        "--workers",
        "2",
        "--port",
        str(port),
        "--service",
        "auth",
        "--service",
        "profile",
    ]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    try:
        deadline, up = time.monotonic() + 90, False
        while time.monotonic() < deadline and not up:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                up = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.2)
        assert up, log.read_text()[-3000:]
        workers = [c for c in children(proc.pid) if "spawn_main" in c]
        assert len(workers) == 2, children(proc.pid)
        # The one line an operator sees at the default log level: where it listens.
        assert f"Companion cloud listening on http://127.0.0.1:{port} (2 workers; services: auth, profile)" in (
            log.read_text()
        )
    finally:
        proc.terminate()
        proc.wait(30)


def test_python_m_cloud_needs_no_cli(tmp_path: Path) -> None:
    """`python -m cloud` parses its own arguments: it imports neither the CLI nor the hub."""
    code = "import runpy, sys; sys.argv = ['cloud', '--help']\n"
    code += "try:\n    runpy.run_module('cloud', run_name='__main__')\nexcept SystemExit:\n    pass\n"
    code += "print(sorted({m.split('.')[0] for m in sys.modules} & {'cli', 'edge_runtime', 'device_drivers'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "--workers" in out.stdout and out.stdout.strip().endswith("[]"), out.stdout
