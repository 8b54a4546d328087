"""Runs every hub command from a hub's install (`companion[edge]` alone), as CI does after `make demo`.

A command passes when it does its job, or fails the way a user can act on (a coded error, exit 2),
never with a traceback or a missing module. Usage, from the checkout whose .venv has only the edge extra:

    .venv/bin/python scripts/check_edge.py [--demo-log FILE]

Prints one line per check and ends with `N passed, N failed`; exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPANION = str(Path(sys.executable).with_name("companion"))
BROKEN = re.compile(r"Traceback \(most recent call last\)|ModuleNotFoundError|ImportError|\[INTERNAL\]")
results: list[tuple[str, bool, str]] = []


def run(
    args: list[str],
    env: dict[str, str],
    *,
    timeout: float = 300,
    stdin: bytes | None = None,
    ok: tuple[int, ...] = (0,),
    expect: str | None = None,
) -> None:
    """Run `companion ARGS`; it passes on an exit code in `ok`, no traceback, and `expect` in its output."""
    name = " ".join(args)
    try:
        proc = subprocess.run([COMPANION, *args], env=env, input=stdin or b"", capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        results.append((name, False, f"no answer in {timeout} s"))
        return
    out = (proc.stdout + proc.stderr).decode(errors="replace")
    why = []
    if proc.returncode not in ok:
        why.append(f"exit {proc.returncode}, wanted {ok}")
    if BROKEN.search(out):
        why.append("a traceback or a missing module")
    if expect is not None and expect not in out:
        why.append(f"no {expect!r} in the output")
    results.append((name, not why, "; ".join(why) + (f"\n{out[-1500:]}" if why else "")))


def check(name: str, fn: Callable[[], str | None]) -> None:
    try:
        problem = fn()
    except Exception as err:  # a check that cannot run is a failed check, said plainly
        problem = f"{type(err).__name__}: {err}"
    results.append((name, problem is None, problem or ""))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo-log", type=Path, help="what `make demo` printed, to check both of its parts")
    args = parser.parse_args()

    if args.demo_log is not None:
        log = args.demo_log.read_text(errors="replace")
        check("make demo: the conversation", lambda: None if re.search(r"\d+ turns\. Listen", log) else "no turns")
        check("make demo: the devices", lambda: None if log.count("confirmed") >= 5 else "under 5 confirmed actions")
    check(
        "the cloud extra is not installed",
        lambda: "sqlmodel is installed: not a hub-only install" if importlib.util.find_spec("sqlmodel") else None,
    )

    from device_drivers.mosquitto import Mosquitto

    work = Path(tempfile.mkdtemp(prefix="companion-edge-check-"))
    broker = Mosquitto(work / "mqtt").start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")},
        "COMPANION_CONFIG_DIR": str(work / "config"),
        "COMPANION_DATA_DIR": str(work / "data"),
        "COMPANION_MQTT_URL": broker.url,
        "COMPANION_CLOUD_URL": "http://127.0.0.1:9",
        "COMPANION_API_PORT": "0",
    }
    wav, said = work / "request.wav", work / "reply.wav"
    sim = subprocess.Popen(
        [
            COMPANION,
            "devices",
            "simulate",
            "--config",
            str(ROOT / "deploy/devices.example.toml"),
            "--broker",
            broker.url,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run(["--help"], env, expect="Usage")
        run(["say", "Hey Jarvis. Set a timer for ten minutes.", "--out", str(wav)], env)
        run(["transcribe", str(wav)], env, expect="timer")
        run(["listen", "--wav", str(wav), "--out", str(said), "--json"], env, expect="timer-set")
        run(["hub", "init"], env, expect="hub-")
        run(["hub", "pair-code", "--json"], env, expect='"code"')
        run(["hub", "apps", "--json"], env, expect="[]")
        run(["hub", "revoke", "no-such-app"], env, ok=(2,), expect="APP_UNKNOWN")
        run(["hub", "discover", "--wait", "1", "--json"], env)
        run(["hub", "link", "--name", "Kitchen"], env, ok=(2,), expect="CLOUD_UNREACHABLE", timeout=60)
        run(["hub", "unlink"], env, ok=(2,), expect="CLOUD_NOT_SIGNED_IN")
        run(["hub", "provision", "127.0.0.1:9", "--code", "123456", "--name", "Den"], env, ok=(2,), expect="HUB_")
        run(["hub", "up", "--wav", str(wav), "--out", str(work / "timeline.wav")], env, expect="Companion hub up")
        time.sleep(2)  # the simulator announces its devices
        run(["devices", "list", "--json"], env, expect="Kitchen Light")
        run(["devices", "set", "Kitchen Light", "on=true"], env, expect="confirmed")
        run(["devices", "show", "Kitchen Light", "--json"], env, expect='"on": true')
        run(["devices", "edit", "Kitchen Light", "--alias", "worktop light"], env)
        run(["devices", "floor", "Kitchen", "ground"], env)
        run(["ask", "--json", "turn off the worktop light"], env, expect='"confirmed": true')
        run(["ask", "--json", "set a timer for ten minutes"], env, expect="timer-set")
        run(["models", "list", "--fast"], env, expect="verified")
        run(["models", "verify", "--json"], env, expect="verified")
        run(["status", "--json"], env, expect="identity")
        run(["doctor", "--json"], env, ok=(0, 1), expect="sha256 verified")  # 1: the cloud is unreachable
        run(["sync", "status", "--json"], env, expect="local")
        run(["sync", "log"], env)
        run(["sync", "now"], env, ok=(2,), expect="CLOUD_NOT_SIGNED_IN")
        run(["cloud", "serve"], env, ok=(2,), expect="CLOUD_EXTRA_MISSING")
        drop = work / "camera-drop"  # a folder camera: the newest image is its frame
        check("an image for the folder camera", lambda: _frame(drop / "frame.png"))
        run(["cameras", "add", "front door", str(drop), "--room", "hall", "--check"], env, expect="Added")
        run(["cameras", "list", "--json"], env, expect="front door")
        run(["cameras", "show", "front door", "--json"], env, expect='"online"')
        run(["cameras", "snapshot", "front door", "--out", str(work / "door.jpg")], env, expect="door.jpg")
        run(["home", "invite"], env, expect="home1.")
        run(["home", "show", "--json"], env, expect='"online": false')  # hub up's retained goodbye
        run(["home", "join", "not-a-token"], env, ok=(2,), expect="HOME_TOKEN_INVALID")
        check("python -m cloud says which extra", lambda: _module_cloud(env))
    finally:
        sim.terminate()
        sim.wait(10)
        broker.stop()

    for name, passed, why in results:
        print(f"{'ok  ' if passed else 'FAIL'} {name}" + ("" if passed else f": {why}"))
    failed = sum(not p for _, p, _ in results)
    print(f"edge-only: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def _frame(path: Path) -> str | None:
    """Written with the hub's own OpenCV (the edge extra must bring it)."""
    import cv2
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    gradient = np.tile(np.linspace(0, 255, 640, dtype=np.uint8), (480, 1))
    return None if cv2.imwrite(str(path), np.dstack([gradient] * 3)) else f"cv2 could not write {path}"


def _module_cloud(env: dict[str, str]) -> str | None:
    proc = subprocess.run([sys.executable, "-m", "cloud"], env=env, capture_output=True, cwd=ROOT, timeout=60)
    err = proc.stderr.decode()
    if proc.returncode == 2 and "CLOUD_EXTRA_MISSING" in err and not BROKEN.search(err):
        return None
    return f"exit {proc.returncode}: {err[-800:]}"


if __name__ == "__main__":
    sys.exit(main())
