"""The hub's lists through the real sync service (PostgreSQL): a list changed by voice on the hub
reaches the phone, concurrent edits merge, and the cloud's shape check takes every sound list write
and refuses a malformed one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pycrdt
import pytest

from sync import Replica, sync_http
from sync.document import SyncedDoc
from sync.shape import problems
from tests.cloud.server import CloudServer, fresh_database, signup
from tests.cloud.test_adversarial_sync import push, raw_update
from tests.edge_runtime.test_brain_lists import offline_brain, turns


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with CloudServer(tmp_path_factory.mktemp("lists"), services=["auth", "sync"], database_url=fresh_database()) as s:
        yield s


def test_a_list_said_to_the_hub_reaches_the_phone_and_back(cloud: CloudServer, tmp_path: Path) -> None:
    token = signup(httpx.Client(base_url=cloud.url))["access_token"]
    hub, phone = Replica.open(tmp_path / "hub.db"), Replica.open(tmp_path / "phone.db")
    brain = offline_brain(hub.doc)
    turns(brain, "add milk to my shopping list", "add eggs to my shopping list")

    async def sync(*replicas: Replica) -> None:
        for replica in replicas:
            await sync_http(replica, cloud.url, token)

    asyncio.run(sync(hub, phone))
    assert [i["text"] for i in phone.doc.list_items_of("shopping")] == ["milk", "eggs"]
    # Offline on both sides at once: the phone names a list and checks milk off, the hub adds bread and
    # also adds eggs again (already there), and removes nothing.
    phone.doc.name_list("Chores")
    phone.doc.add_list_item("chores", "call mum")
    phone.doc.check_list_item("shopping\tmilk")
    turns(brain, "add bread to my shopping list", "add eggs to the shopping list")
    asyncio.run(sync(hub, phone, hub))
    assert hub.doc.to_py() == phone.doc.to_py()
    shopping = [(i["text"], i["done"]) for i in hub.doc.list_items_of("shopping")]
    assert shopping == [("milk", True), ("eggs", False), ("bread", False)]
    said = turns(brain, "what's on my shopping list", "what's on my chores list")
    assert [s[2] for s in said] == ["Your shopping list has eggs and bread.", "Your chores list has call mum."]
    # A delete wins over a concurrent check-off: the item stays gone everywhere.
    phone.doc.remove_list_item("shopping\tbread")
    turns(brain, "check off bread")
    asyncio.run(sync(hub, phone, hub))
    assert hub.doc.to_py() == phone.doc.to_py()
    assert "shopping\tbread" not in hub.doc.to_py()["list_items"]


def items(doc: pycrdt.Doc[Any]) -> pycrdt.Map[Any]:
    return doc.get("list_items", type=pycrdt.Map)


def item(**fields: Any) -> pycrdt.Map[Any]:
    return pycrdt.Map({"text": "milk", "done": False, "created": 1.0, "updated": 1.0, **fields})


BAD: dict[str, Callable[[pycrdt.Doc[Any]], None]] = {
    "an item that is a string": lambda d: items(d).__setitem__("shopping\tmilk", "milk"),
    "an item key without its list": lambda d: items(d).__setitem__("milk", item()),
    "an item without text": lambda d: items(d).__setitem__("shopping\tx", pycrdt.Map({"done": False})),
    "done that is not a bool": lambda d: items(d).__setitem__("shopping\tmilk", item(done="yes")),
    "a time that is not a number": lambda d: items(d).__setitem__("shopping\tmilk", item(updated="now")),
    "a field of its own": lambda d: items(d).__setitem__("shopping\tmilk", item(price=2.0)),
    "a list name that is a map": lambda d: d.get("lists", type=pycrdt.Map).__setitem__("chores", pycrdt.Map()),
    "list items as a list root": lambda d: d.get("list_items", type=pycrdt.Array).append("milk"),
}


def test_the_cloud_takes_sound_list_writes_and_refuses_bad_ones(cloud: CloudServer, tmp_path: Path) -> None:
    token = signup(httpx.Client(base_url=cloud.url))["access_token"]
    for what, write in BAD.items():
        refused = push(cloud.url, token, raw_update(write))
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "SYNC_BAD_SHAPE", (what, refused.text)
    # Every write of ours passes, and so does one made by hand as the Yjs app would (no `done` yet).
    doc = SyncedDoc()
    doc.name_list("Chores")
    key = doc.add_list_item("chores", "Call mum")
    doc.check_list_item(key)
    long = doc.add_list_item("shopping", "x" * 4000)  # the longest text a Python client keeps
    assert len(long) <= 200
    assert problems(doc.doc) == set()
    assert push(cloud.url, token, doc.diff()).status_code == 200
    by_hand = raw_update(lambda d: items(d).__setitem__("to do\tpay rent", pycrdt.Map({"text": "Pay rent"})))
    assert push(cloud.url, token, by_hand).status_code == 200
    doc.remove_list_item(key)
    phone = Replica.open(tmp_path / "phone.db")
    phone.doc.apply(doc.diff())
    assert asyncio.run(sync_http(phone, cloud.url, token))["pending"] == 0
    assert sorted(phone.doc.to_py()["list_items"]) == [long, "to do\tpay rent"]
