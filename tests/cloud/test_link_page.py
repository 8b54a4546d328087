"""`companion hub link` against a running cloud, approved on the cloud's /link page in Chromium:
the address the hub prints is the cloud it talked to (its real port), and the page works."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cloud.server import CloudServer, signup

NODE_DIR = Path(__file__).parents[1] / "browser" / "node"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def approve_in_chromium(url: str, email: str, password: str, shot: Path) -> dict[str, object]:
    if not Path(CHROMIUM).exists() or not (NODE_DIR / "node_modules" / "playwright-core").exists():
        raise RuntimeError(
            f"Chromium and playwright-core are needed: `make test`, or apt-get install chromium "
            f"and npm ci --prefix {NODE_DIR}"
        )
    spec = {"url": url, "email": email, "password": password, "shot": str(shot)}
    done = subprocess.run(
        ["node", str(NODE_DIR / "approve.mjs"), json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=90,
        env={"CHROMIUM": CHROMIUM, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "error" not in result, result
    return result


def test_hub_link_prints_this_clouds_page_and_chromium_approves_it(
    cloud: CloudServer, client: httpx.Client, tmp_path: Path
) -> None:
    user = signup(client)
    env = {**os.environ, "COMPANION_CONFIG_DIR": str(tmp_path / "c"), "COMPANION_DATA_DIR": str(tmp_path / "d")}
    subprocess.run([sys.executable, "-m", "cli", "hub", "init"], env=env, check=True, capture_output=True, timeout=60)
    hub = subprocess.Popen(
        [sys.executable, "-m", "cli", "hub", "link", "--cloud", cloud.url, "--name", "Kitchen hub", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert hub.stderr is not None
        printed = ""
        deadline = time.monotonic() + 60
        while "or open" not in printed and time.monotonic() < deadline:
            printed += hub.stderr.readline()
        shown = re.search(r"open (\S+) and enter the code (\S+)", printed)
        complete = re.search(r"or open (\S+)", printed)
        assert shown and complete, printed
        assert shown.group(1) == f"{cloud.url}/link"  # the port and path of the cloud the hub reached
        assert complete.group(1) == f"{cloud.url}/link?code={shown.group(2)}"
        page = approve_in_chromium(complete.group(1), user["email"], user["password"], tmp_path / "link.png")
        assert page["prefilled"] == shown.group(2) and page["kept"] == shown.group(2)
        assert "Wrong email or password" in str(page["wrong"])
        assert "Approved" in str(page["result"]) and "Kitchen hub" in str(page["result"])
        out, err = hub.communicate(timeout=60)
    finally:
        if hub.poll() is None:
            hub.kill()
    assert hub.returncode == 0, err
    assert json.loads(out)["linked"] is True
    assert (tmp_path / "link.png").stat().st_size > 1000


def test_the_page_refuses_a_stale_code_and_is_locked_down(cloud: CloudServer, client: httpx.Client) -> None:
    user = signup(client)
    form = client.get("/link", params={"code": "<b>X</b>"})
    assert form.status_code == 200 and "<b>X" not in form.text and "&lt;b&gt;X" in form.text
    assert "default-src 'none'" in form.headers["content-security-policy"]
    assert form.headers["x-frame-options"] == "DENY"
    stale = client.post("/link", data={"user_code": "BCDF-GHJK", "email": user["email"], "password": user["password"]})
    assert stale.status_code == 404 and "no pending request" in stale.text.lower()
