"""A Mosquitto of our own on a free port: for tests, benchmarks and the demo when no broker runs.

It uses the settings the shipped deploy/mosquitto/mosquitto.conf uses where they matter
(set_tcp_nodelay, persistence), and can be restarted mid-run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from device_drivers.model import DriverError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mosquitto:
    """`Mosquitto(workdir).start()`; `.url`, `.restart()`, `.stop()`."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        *,
        users: dict[str, str] | None = None,
        tls: tuple[Path, Path, Path] | None = None,
        stock_limits: bool = False,
        extra: tuple[str, ...] = (),
    ) -> None:
        """`users` turns anonymous access off; `tls` (ca, cert, key) adds a TLS listener on `tls_port`.
        `stock_limits` keeps Mosquitto's own queue limits (1000 queued, 20 in flight), as a stock install
        has; `extra` lines go into mosquitto.conf as they are (say, `max_packet_size 2048`)."""
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(exe).exists():
            raise DriverError(
                "mosquitto is not installed",
                code="MQTT_NO_BROKER",
                hint="`make test` installs it; on Debian: apt-get install mosquitto",
            )
        self.exe = exe
        self.port = port or free_port()
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(workdir, 0o777)  # mosquitto started as root drops to its own user
        self.conf = workdir / "mosquitto.conf"
        user = "root" if os.geteuid() == 0 else os.environ.get("USER", "mosquitto")
        lines = [
            "per_listener_settings false",
            f"listener {self.port} 127.0.0.1",
            "set_tcp_nodelay true",
            f"persistence true\npersistence_location {workdir}/",
            f"user {user}",
            *([] if stock_limits else ["max_queued_messages 100000\nmax_inflight_messages 0"]),
            f"log_dest file {workdir}/mosquitto.log",
            *extra,
        ]
        if users:
            passwd = workdir / "passwd"
            passwd.write_text("")
            for name, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(passwd), name, password], check=True, capture_output=True)
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        else:
            lines.append("allow_anonymous true")
        self.tls_port: int | None = None
        if tls:
            self.tls_port = free_port()
            ca, cert, key = tls
            lines += [f"listener {self.tls_port} 127.0.0.1", f"cafile {ca}", f"certfile {cert}", f"keyfile {key}"]
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Mosquitto:
        self.proc = subprocess.Popen(
            [self.exe, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DriverError(
                    f"mosquitto exited: {(self.workdir / 'mosquitto.log').read_text()[-500:]}", code="MQTT_NO_BROKER"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise DriverError("mosquitto did not start listening", code="MQTT_NO_BROKER")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # graceful: retained messages are saved
            self.proc.wait(10)
        self.proc = None

    def restart(self, down_s: float = 0.5) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()
