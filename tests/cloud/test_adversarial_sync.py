"""Issue #15 V7 on a real cloud (PostgreSQL, the real sync, rag and escalation services): a synced
item of the wrong shape is refused with a code and never stored, and whatever bad data is already
stored cannot break rag or escalation for the account."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pycrdt
import pytest

from sync import Replica, sync_http
from sync.protocol import update as update_message
from tests.cloud.adversary import new_device, sql, user_id
from tests.cloud.server import CloudServer, bearer, fresh_database, signup


@dataclass
class Cloud:
    server: CloudServer
    database_url: str


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    database_url = fresh_database()
    with CloudServer(
        tmp_path_factory.mktemp("adversarial-sync"),
        services=["auth", "sync", "rag", "escalation"],
        database_url=database_url,
        rag_answers="false",
        llm_max_tokens="4",
    ) as server:
        yield Cloud(server, database_url)


def raw_update(write: Callable[[pycrdt.Doc[Any]], None], base: bytes | None = None) -> bytes:
    """A Yjs update made by hand, as a hostile or buggy client would send it (no SyncedDoc rules)."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    if base:
        doc.apply_update(base)
    before = doc.get_state()
    write(doc)
    return doc.get_update(before)


def push(url: str, token: str, update: bytes) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/sync/main",
        content=update_message(update),
        timeout=30,
        headers={**bearer(token), "Content-Type": "application/octet-stream"},
    )


def memory(doc: pycrdt.Doc[Any]) -> pycrdt.Map[Any]:
    return doc.get("memory", type=pycrdt.Map)


BAD_WRITES: dict[str, Callable[[pycrdt.Doc[Any]], None]] = {
    "a memory item that is a string": lambda d: memory(d).__setitem__("bad", "string"),
    "a memory item whose text is a number": lambda d: memory(d).__setitem__("n", pycrdt.Map({"text": 5.0})),
    "a memory item with no text": lambda d: memory(d).__setitem__("e", pycrdt.Map({"source": "app"})),
    "tags that are not a map": lambda d: memory(d).__setitem__("t", pycrdt.Map({"text": "x", "tags": "a,b"})),
    "a memory item that is a list": lambda d: memory(d).__setitem__("l", pycrdt.Array(["x"])),
    "a profile name that is a number": lambda d: d.get("profile", type=pycrdt.Map).__setitem__("name", 42.0),
    "a preference that is a map": lambda d: d.get("preferences", type=pycrdt.Map).__setitem__("p", pycrdt.Map()),
    "an alias that is not true": lambda d: d.get("aliases", type=pycrdt.Map).__setitem__("light.a\tlamp", "yes"),
    "a room name that is a number": lambda d: d.get("rooms", type=pycrdt.Map).__setitem__("kitchen", 3.0),
    "memory as a list root": lambda d: d.get("memory", type=pycrdt.Array).append("x"),
    "a root of our own": lambda d: d.get("evil", type=pycrdt.Map).__setitem__("x", "y"),
}


def test_items_of_the_wrong_shape_are_refused_and_never_stored(cloud: Cloud, tmp_path: Path) -> None:
    url = cloud.server.url
    user = signup(httpx.Client(base_url=url))
    hub = new_device(httpx.Client(base_url=url), user["access_token"], "sync escalate", kind="hub")
    hub_token = hub["tokens"]["access_token"]
    phone = Replica.open(tmp_path / "phone.db")
    phone.doc.add_memory("The spare key is under the blue flowerpot", item_id="key")
    asyncio.run(sync_http(phone, url, user["access_token"]))
    before = httpx.get(f"{url}/v1/sync/main", headers=bearer(hub_token)).json()
    for what, write in BAD_WRITES.items():
        refused = push(url, hub_token, raw_update(write))
        assert refused.status_code == 400, (what, refused.status_code, refused.text)
        assert refused.json()["error"]["code"] == "SYNC_BAD_SHAPE", (what, refused.text)
    # A good item made into a bad one by a later edit is refused too: the shape is checked on the merge.
    whole = phone.doc.diff()
    edit = raw_update(lambda d: memory(d)["key"].__setitem__("text", 7.0), base=whole)
    assert push(url, hub_token, edit).json()["error"]["code"] == "SYNC_BAD_SHAPE"
    after = httpx.get(f"{url}/v1/sync/main", headers=bearer(hub_token)).json()
    assert (after["bytes"], after["updates"]) == (before["bytes"], before["updates"])  # nothing stored
    # Good writes by hand still pass, and the phone still syncs.
    good = raw_update(
        lambda d: memory(d).__setitem__(
            "pin",
            pycrdt.Map(
                {
                    "text": "The alarm code is 2468",
                    "source": "hub",
                    "created": 1.0,
                    "updated": 1.0,
                    "tags": pycrdt.Map(),
                }
            ),
        )
    )
    assert push(url, hub_token, good).status_code == 200
    phone.doc.tag_memory("key", "home")
    asyncio.run(sync_http(phone, url, user["access_token"]))
    assert sorted(phone.doc.to_py()["memory"]) == ["key", "pin"]


def test_the_live_socket_refuses_a_bad_item_with_its_code(cloud: Cloud) -> None:
    """The WebSocket path stores through the same check: the socket closes 1003 SYNC_BAD_SHAPE."""
    import websockets

    url = cloud.server.url
    token = signup(httpx.Client(base_url=url))["access_token"]

    async def live() -> tuple[int, str]:
        ws_url = url.replace("http://", "ws://") + "/v1/sync/main/ws"
        async with websockets.connect(ws_url, additional_headers=bearer(token)) as ws:
            await asyncio.wait_for(ws.recv(), 5)  # the server's SyncStep1
            await ws.send(update_message(raw_update(BAD_WRITES["a memory item that is a string"])))
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as closed:
                return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (0, "")

    assert asyncio.run(live()) == (1003, "SYNC_BAD_SHAPE")
    assert httpx.get(f"{url}/v1/sync/main", headers=bearer(token)).json()["updates"] == 0


def test_bad_items_already_stored_break_neither_rag_nor_escalation(cloud: Cloud, tmp_path: Path) -> None:
    """Data stored before the check existed (or written behind its back): skipped, never a 500."""
    url = cloud.server.url
    client = httpx.Client(base_url=url, timeout=120)
    user = signup(client)
    owner = user_id(client, user["access_token"])
    hub = new_device(client, user["access_token"], "sync escalate", kind="hub")
    phone = Replica.open(tmp_path / "phone.db")
    phone.doc.add_memory("The boiler is serviced every October", item_id="boiler")
    asyncio.run(sync_http(phone, url, user["access_token"]))
    stored = [raw_update(write) for write in BAD_WRITES.values()]
    stored.append(raw_update(lambda d: memory(d).__setitem__("x", pycrdt.Map({"text": pycrdt.XmlFragment()}))))
    rows = [
        (
            "INSERT INTO sync_updates (user_id, doc, digest, data, device_id, created_at) "
            "VALUES ($1, 'main', $2, $3, NULL, now())",
            owner,
            hashlib.sha256(u).hexdigest(),
            u,
        )
        for u in stored
    ]
    sql(cloud.database_url, *rows)
    found = client.post(
        "/v1/rag/query", json={"question": "when is the boiler serviced?", "k": 3}, headers=bearer(user["access_token"])
    )
    assert found.status_code == 200, found.text
    texts = [r["text"] for r in found.json()["results"]]
    assert texts[0] == "The boiler is serviced every October" and "string" not in texts, texts
    turn = {
        "hub_id": "h",
        "stream": False,
        "max_tokens": 4,
        "conversation": [{"role": "user", "text": "when is the boiler serviced?"}],
    }
    for token in (user["access_token"], hub["tokens"]["access_token"]):
        escalated = client.post("/v1/escalate", json=turn, headers=bearer(token))
        assert escalated.status_code == 200, escalated.text
    # The account can still sync, and deleting a bad item is accepted (it makes nothing worse).
    cleanup = raw_update(lambda d: memory(d).pop("bad"), base=stored[0])
    assert push(url, user["access_token"], cleanup).status_code == 200
