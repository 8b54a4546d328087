"""Interop: a Node.js client on the npm `yjs` and `y-protocols` packages (what the app runs) syncs
with the Python sync service over the same wire, and every replica converges.

The Node side is tests/sync/node/interop.mjs; its packages are pinned in package-lock.json and
installed by `make test` (or `npm ci --prefix tests/sync/node`)."""

from __future__ import annotations

import asyncio
import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync import protocol
from sync.client import sync_http
from sync.replica import Replica
from tests.cloud.server import CloudServer, bearer, fresh_database, fresh_redis, signup

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "interop.mjs"
INSTALL = "npm ci --prefix tests/sync/node --no-audit --no-fund (or `make test`, which does it)"
T0 = 1767225600.25  # fixed timestamps, so the documents compare exactly


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    """Compaction every 4 updates: fresh clients also read a snapshot that pycrdt squashed."""
    with CloudServer(
        tmp_path_factory.mktemp("cloud"),
        services=["auth", "sync"],
        database_url=fresh_database(),
        redis_url=fresh_redis(3),
        sync_compact_every="4",
    ) as server:
        yield server


def node_binary() -> str:
    """The `node` to run, or a failure that says how to get it: this test is never skipped."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "Node.js is needed for the Yjs interop test: install it (Debian: apt-get install nodejs npm, "
            f"or `bash scripts/system-deps.sh`), then {INSTALL}"
        )
    pins = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]
    for name, version in pins.items():
        installed = NODE_DIR / "node_modules" / name / "package.json"
        if not installed.exists():
            pytest.fail(f"tests/sync/node/node_modules lacks {name}: run {INSTALL}")
        if json.loads(installed.read_text())["version"] != version:
            pytest.fail(f"tests/sync/node/node_modules has another {name} than the pinned {version}: run {INSTALL}")
    return node


class NodeClient:
    """interop.mjs in a subprocess: stderr is read as it comes (for "ready"), stdout is the document."""

    def __init__(self, cloud: CloudServer, token: str, command: dict[str, Any], out: Path) -> None:
        url = cloud.url.replace("http://", "ws://") + "/v1/sync/main/ws"
        self.out = out
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [node_binary(), str(SCRIPT), url, token, json.dumps(command)],
            cwd=NODE_DIR,
            stdout=out.open("w"),
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if line.startswith("interop: ready"):
                return
        self.proc.kill()
        pytest.fail(f"the Node client did not get ready (exit {self.proc.poll()}):\n{''.join(self.stderr)}")

    def result(self, timeout_s: float = 30.0) -> dict[str, Any]:
        try:
            code = self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"the Node client ran past {timeout_s} s:\n{''.join(self.stderr)}")
        time.sleep(0.05)  # the reader thread takes the last stderr lines
        assert code == 0, f"the Node client failed (exit {code}):\n{''.join(self.stderr)}"
        document: dict[str, Any] = json.loads(self.out.read_text())
        return document


def run_node(cloud: CloudServer, token: str, command: dict[str, Any], out: Path) -> dict[str, Any]:
    return NodeClient(cloud, token, command, out).result()


def normalised(node_doc: dict[str, Any]) -> dict[str, Any]:
    """Yjs's toJSON as SyncedDoc.to_py shows it: tags a sorted list, the flat alias set
    ("<device>\t<alias>" -> true) grouped by device, each device's aliases sorted."""
    memory = {key: {**item, "tags": sorted(item.get("tags", {}))} for key, item in node_doc["memory"].items()}
    aliases: dict[str, list[str]] = {}
    for key in node_doc["aliases"]:
        device, _, alias = key.partition("\t")
        aliases.setdefault(device, []).append(alias)
    return {
        "profile": node_doc["profile"],
        "preferences": node_doc["preferences"],
        "memory": memory,
        "aliases": {device: sorted(names) for device, names in aliases.items()},
        "rooms": node_doc["rooms"],
        "lists": node_doc["lists"],
        "list_items": node_doc["list_items"],
    }


def user_token(cloud: CloudServer) -> str:
    with httpx.Client(base_url=cloud.url, timeout=30) as client:
        return signup(client)["access_token"]


def synced(replica: Replica, cloud: CloudServer, token: str) -> dict[str, Any]:
    result = asyncio.run(sync_http(replica, cloud.url, token))
    assert result["pending"] == 0, result  # the server acknowledged every local change
    return result


def test_a_yjs_client_and_a_python_replica_converge(cloud: CloudServer, tmp_path: Path) -> None:
    node_binary()
    token = user_token(cloud)
    hub = Replica.open(tmp_path / "hub.sqlite3")
    hub.doc.set_profile("name", "Ada")
    hub.doc.add_memory("Ada likes green tea", tags=["drinks", "likes"], source="hub", item_id="py-tea", now=T0)
    hub.doc.add_memory("The spare key is under the mat", source="hub", item_id="py-key", now=T0 + 1)
    hub.doc.add_alias("light.kitchen", "Big Lamp")
    hub.doc.name_room("kitchen", "Kitchen")
    hub.doc.set_preference("units", "metric")
    assert synced(hub, cloud, token)["acknowledged"] == 6

    # The Node client sees the hub's writes (it tags and deletes its items), adds its own, gets an
    # ACK for each (the delete is delete-only: no state vector shows it), then waits, connected,
    # for a memory the hub writes meanwhile: it reaches Node through the server's fan-out.
    node = NodeClient(
        cloud,
        token,
        {
            "ops": [
                {"op": "set_profile", "field": "language", "value": "de"},
                {
                    "op": "add_memory",
                    "id": "app-1",
                    "text": "Ada's sister is called Grace",
                    "source": "app",
                    "created": T0 + 2,
                    "tags": ["family", "people"],
                },
                {"op": "tag_memory", "id": "py-tea", "tag": "from-app"},
                {"op": "delete_memory", "id": "py-key"},
                {"op": "add_alias", "device": "light.kitchen", "alias": "Ceiling"},
                {"op": "add_alias", "device": "media.tv", "alias": "the telly"},
                {"op": "name_room", "area": "Living", "name": "Lounge"},
                {"op": "set_preference", "key": "speech_rate", "value": 1.25},
            ],
            "wait_for": [{"path": ["memory", "py-later", "text"], "equals": "Written while the app was connected"}],
        },
        tmp_path / "node.json",
    )
    node.wait_ready()
    hub.doc.add_memory("Written while the app was connected", source="hub", item_id="py-later", now=T0 + 3)
    synced(hub, cloud, token)  # up: py-later; down: everything Node wrote (acknowledged, so stored)
    node_doc = normalised(node.result())
    synced(hub, cloud, token)

    expected = {
        "profile": {"name": "Ada", "language": "de"},
        "preferences": {"units": "metric", "speech_rate": 1.25},
        "memory": {
            "py-tea": {
                "text": "Ada likes green tea",
                "source": "hub",
                "created": T0,
                "updated": T0,
                "tags": ["drinks", "from-app", "likes"],
            },
            "app-1": {
                "text": "Ada's sister is called Grace",
                "source": "app",
                "created": T0 + 2,
                "updated": T0 + 2,
                "tags": ["family", "people"],
            },
            "py-later": {
                "text": "Written while the app was connected",
                "source": "hub",
                "created": T0 + 3,
                "updated": T0 + 3,
                "tags": [],
            },
        },
        "aliases": {"light.kitchen": ["big lamp", "ceiling"], "media.tv": ["the telly"]},
        "rooms": {"kitchen": "Kitchen", "living": "Lounge"},
        "lists": {},
        "list_items": {},
    }
    assert hub.doc.to_py() == expected
    assert node_doc == expected
    # what the server holds is the same (folded into a squashed snapshot by now): a third replica,
    # fresh, over HTTP
    status = httpx.get(f"{cloud.url}/v1/sync/main", headers=bearer(token), timeout=30).json()
    assert status["compactions"] >= 2, status
    fresh = Replica.open(tmp_path / "fresh.sqlite3")
    synced(fresh, cloud, token)
    assert fresh.doc.to_py() == expected
    # and a second Yjs client, fresh, over the WebSocket
    assert normalised(run_node(cloud, token, {}, tmp_path / "node2.json")) == expected


@pytest.mark.parametrize("node_wins", [True, False], ids=["node-higher-client-id", "python-higher-client-id"])
def test_concurrent_profile_names_settle_on_one(cloud: CloudServer, tmp_path: Path, node_wins: bool) -> None:
    """Both set profile.name before either has seen the other: every replica keeps the same one,
    the write of the higher client id (docs/SYNC.md)."""
    node_binary()
    token = user_token(cloud)
    hub = Replica.open(tmp_path / "hub.sqlite3")
    hub.doc.set_profile("name", "Ada (hub)")
    python_id = hub.doc.client_id
    node_id = python_id + 1 if node_wins else python_id - 1
    if not 1 <= node_id < 2**32:  # Python's id is the lowest or highest there is: the other way round then
        node_id = 2 * python_id - node_id
    node_wins = node_id > python_id

    # Node writes offline, connects (its write goes up in its SyncStep2 and is acknowledged), and
    # waits until it has seen the hub's write, which the hub sends only after Node's is stored.
    node = NodeClient(
        cloud,
        token,
        {
            "client_id": node_id,
            "offline": [{"op": "set_profile", "field": "name", "value": "Ada (app)"}],
            "wait_for": [
                {"seen": {str(c): clock for c, clock in protocol.state_vector(hub.doc.state_vector()).items()}}
            ],
        },
        tmp_path / "node.json",
    )
    node.wait_ready()
    assert hub.doc.to_py()["profile"] == {"name": "Ada (hub)"}  # it has not seen Node's yet
    synced(hub, cloud, token)
    node_doc = normalised(node.result())

    winner = "Ada (app)" if node_wins else "Ada (hub)"
    assert hub.doc.to_py()["profile"] == node_doc["profile"] == {"name": winner}
    assert hub.doc.to_py() == node_doc
    status = httpx.get(f"{cloud.url}/v1/sync/main", headers=bearer(token), timeout=30).json()
    assert status["updates"] == 2  # one from each side, each stored once
    fresh = Replica.open(tmp_path / "fresh.sqlite3")
    synced(fresh, cloud, token)
    assert fresh.doc.to_py() == node_doc


def test_the_node_client_fails_clearly(cloud: CloudServer, tmp_path: Path) -> None:
    """A refused token and a condition that never holds end the script non-zero, with the reason."""
    node = node_binary()
    url = cloud.url.replace("http://", "ws://") + "/v1/sync/main/ws"
    refused = subprocess.run(
        [node, str(SCRIPT), url, "not-a-token", "{}"], cwd=NODE_DIR, capture_output=True, text=True, timeout=30
    )
    # the server accepts, then closes with 4401 (a refused handshake would read "HTTP 403" here)
    assert refused.returncode == 1 and "closed the connection: 4401" in refused.stderr, refused.stderr
    token = user_token(cloud)
    never = {"wait_for": [{"path": ["profile", "name"], "equals": "nobody"}], "timeout_ms": 1000}
    waited = subprocess.run(
        [node, str(SCRIPT), url, token, json.dumps(never)], cwd=NODE_DIR, capture_output=True, text=True, timeout=30
    )
    assert waited.returncode == 1 and "timed out after 1000 ms" in waited.stderr, waited.stderr
    assert waited.stdout == ""
