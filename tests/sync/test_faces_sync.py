"""Enrolled faces in the synced profile (#20), through the real sync service on PostgreSQL: with
`faces_sync` on, a face enrolled on one hub is named by another (real dlib, real photos) and `forget`
removes it from every hub; with it off nothing about faces reaches the cloud's stored document, and
turning it off withdraws this hub's; a malformed synced entry is ignored with a code, never a crash."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import cv2
import httpx
import numpy as np
import pycrdt
import pytest

from edge_runtime.identity import HubFiles
from edge_runtime.settings import EdgeSettings
from edge_runtime.synced import open_replica
from edge_runtime.vision.known_faces import KnownFaces, rounded
from edge_runtime.vision.shared_faces import SharedFaces
from edge_runtime.vision.who import WhoIsThere
from models.faces import RESNET, FaceRecognizer, SeenFace
from models.registry import Registry
from models.vision import Face
from sync import Replica, sync_http
from sync import faces as synced
from sync.server import merge
from tests.cloud.adversary import user_id
from tests.cloud.server import CloudServer, fresh_database, link_hub, signup
from tests.cloud.test_adversarial_sync import Cloud, push, raw_update
from tests.edge_runtime.vision_images import lfw_face, photo

EXE = [sys.executable, "-m", "cli"]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    database_url = fresh_database()
    with CloudServer(
        tmp_path_factory.mktemp("faces-sync"),
        services=["auth", "sync"],
        database_url=database_url,
        device_code_interval_s="1",
    ) as server:
        yield Cloud(server, database_url)


@pytest.fixture(scope="module")
def recognizer() -> FaceRecognizer:
    return FaceRecognizer(Registry())


def stored_rows(database_url: str, owner: str) -> list[bytes]:
    """The bytes the cloud keeps of the user's document, as its database holds them: the snapshot (if
    any), then each update of the log."""
    import asyncpg

    async def read() -> list[bytes]:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
        try:
            where = "WHERE user_id = $1 AND doc = 'main'"
            snapshot = await conn.fetchval(f"SELECT data FROM sync_snapshots {where}", owner)
            rows = await conn.fetch(f"SELECT data FROM sync_updates {where} ORDER BY id", owner)
        finally:
            await conn.close()
        return ([bytes(snapshot)] if snapshot else []) + [bytes(r["data"]) for r in rows]

    return asyncio.run(read())


def stored_document(database_url: str, owner: str) -> tuple[bytes, pycrdt.Doc[Any]]:
    """What the cloud keeps of the user's document, read from its database (snapshot and updates)."""
    whole = merge(None, *stored_rows(database_url, owner))
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    doc.apply_update(whole)
    return whole, doc


def stored_faces(doc: pycrdt.Doc[Any]) -> dict[str, Any]:
    return {k: v.to_py() if isinstance(v, pycrdt.Map) else v for k, v in doc.get("faces", type=pycrdt.Map).items()}


def test_a_face_enrolled_on_one_hub_is_named_on_another_and_forgotten_everywhere(
    cloud: Cloud, recognizer: FaceRecognizer, tmp_path: Path
) -> None:
    token = signup(httpx.Client(base_url=cloud.server.url))["access_token"]
    hubs = {}
    for name in ("a", "b"):
        replica = Replica.open(tmp_path / name / "sync.sqlite3")
        known = KnownFaces.in_dir(tmp_path / name)
        shared = SharedFaces.start(known, replica, enabled=True)
        assert shared is not None
        hubs[name] = (replica, known, shared, WhoIsThere(known, lambda: recognizer, shared=shared))
    (hub_a, known_a, shared_a, _), (hub_b, known_b, shared_b, who_b) = hubs["a"], hubs["b"]
    astronaut = photo("astronaut")
    alice = recognizer.faces(astronaut[:, ::-1].copy())[0].embedding  # enrolled from the flipped photo

    def sync(*replicas: Replica) -> None:
        for replica in replicas:
            asyncio.run(sync_http(replica, cloud.server.url, token))

    def who(frame: np.ndarray) -> str:
        return asyncio.run(who_b.answer(frame, "at the front door"))[0]

    assert who(astronaut) == "Nobody is enrolled for face recognition yet: companion faces enroll NAME PHOTO."
    assert shared_a.enroll("Alice", [alice]) == 1
    sync(hub_a, hub_b)
    assert who(astronaut) == "I see Alice at the front door."
    assert known_b.load() == {}  # named from the synced profile: B's own file holds nothing of hers
    # B enrols her too (as "alice"), and Bob; A learns of both.
    shared_b.enroll("alice", [recognizer.faces(astronaut)[0].embedding])
    shared_b.enroll("Bob", [recognizer.faces(lfw_face(3, side=240))[0].embedding])
    sync(hub_b, hub_a)
    assert shared_a.others() == {"alice": 1, "Bob": 1}
    # Forgotten on A: gone from the cloud, from B's recognition, and from B's own enrolment of her.
    assert shared_a.forget("ALICE") == ("Alice", 2)
    assert known_a.load() == {}
    sync(hub_a, hub_b)
    assert who(astronaut) == "I see someone I don't know at the front door."
    assert list(known_b.load()) == ["Bob"]
    assert who(lfw_face(3)) == "I see Bob at the front door."
    owner = user_id(httpx.Client(base_url=cloud.server.url), token)
    _, doc = stored_document(cloud.database_url, owner)
    assert [v["name"] for v in stored_faces(doc).values()] == ["Bob"]
    # Nor does it keep her numbers in its history until some later compaction: the forget compacted it.
    kept = b"".join(stored_rows(cloud.database_url, owner))
    assert not any(struct.pack(">d", v) in kept for v in rounded(alice)), "a forgotten embedding is still stored"
    assert all(struct.pack(">d", v) in kept for v in next(iter(stored_faces(doc).values()))["embedding"])  # Bob's
    # Nor do the hubs' own sync stores keep them, in their rows or in the files' free pages and logs.
    for name in ("a", "b"):
        files = sorted((tmp_path / name).glob("sync.sqlite3*"))
        on_disk = b"".join(f.read_bytes() for f in files)
        assert files and not any(struct.pack(">d", v) in on_disk for v in rounded(alice)), (name, files)
    # The cloud never logs an embedding: no number of Alice's appears in its log.
    log = cloud.server.log.read_text()
    numbers = [str(round(float(v), 7)) for v in alice[:32] if len(str(round(float(v), 7))) >= 9]
    assert numbers and not any(n in log for n in numbers), log[-2000:]


def test_with_faces_sync_off_nothing_about_faces_reaches_the_cloud(cloud: Cloud, tmp_path: Path) -> None:
    settings = EdgeSettings(config_dir=tmp_path / "config", data_dir=tmp_path / "data", cloud_url=cloud.server.url)
    user = link_hub(cloud.server.url, HubFiles(settings.config_dir, settings.data_dir))
    owner = user_id(httpx.Client(base_url=cloud.server.url), user["access_token"])
    env = {
        **os.environ,
        "COMPANION_CONFIG_DIR": str(settings.config_dir),
        "COMPANION_DATA_DIR": str(settings.data_dir),
        "COMPANION_CLOUD_URL": cloud.server.url,
    }

    def cli(faces_sync: bool, *args: str) -> subprocess.CompletedProcess[str]:
        run_env = {**env, "COMPANION_FACES_SYNC": "true" if faces_sync else "false"}
        done = subprocess.run([*EXE, *args], env=run_env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done

    replica = open_replica(settings)
    replica.doc.set_profile("name", "Ada")  # so the stored document is not empty either way
    replica.store.close()
    picture = tmp_path / "alice.jpg"
    cv2.imwrite(str(picture), photo("astronaut"))
    enrolled = cli(False, "faces", "enroll", "Alice", str(picture))
    assert "Enrolled Alice: 1 photo on this hub." in enrolled.stdout and "faces_sync" not in enrolled.stderr
    assert "stay on this hub" in cli(False, "faces", "list").stderr
    cli(False, "sync", "now")
    whole, doc = stored_document(cloud.database_url, owner)
    assert doc.get("profile", type=pycrdt.Map).to_py() == {"name": "Ada"}
    assert "faces" not in set(doc.keys()) and stored_faces(doc) == {} and b"Alice" not in whole

    # Turned on: the next faces command publishes her; the stored document holds her name and numbers.
    listed = cli(True, "faces", "list", "--json")
    assert json.loads(listed.stdout) == [{"name": "Alice", "photos": 1}]
    cli(True, "sync", "now")
    _, doc = stored_document(cloud.database_url, owner)
    entries = list(stored_faces(doc).values())
    assert [(e["name"], len(e["embedding"]), e["model"]) for e in entries] == [("Alice", 128, RESNET)]

    # Turned off again: withdrawn from the synced profile, kept on this hub.
    assert "stay on this hub" in cli(False, "faces", "list").stderr
    cli(False, "sync", "now")
    _, doc = stored_document(cloud.database_url, owner)
    assert stored_faces(doc) == {}
    assert json.loads((settings.data_dir / "faces.json").read_text()).keys() == {"version", "model", "people"}
    assert KnownFaces.in_dir(settings.data_dir).counts() == {"Alice": 1}


def entry(**fields: Any) -> pycrdt.Map[Any]:
    return pycrdt.Map({"name": "Eve", "embedding": [0.01] * 128, "model": RESNET, **fields})


def faces_map(doc: pycrdt.Doc[Any]) -> pycrdt.Map[Any]:
    return doc.get("faces", type=pycrdt.Map)


def put(key: str, value: Any) -> Callable[[pycrdt.Doc[Any]], None]:
    return lambda d: faces_map(d).__setitem__(key, value)


BAD: dict[str, Callable[[pycrdt.Doc[Any]], None]] = {
    "an embedding too short": put("eve\t1", entry(embedding=[0.01] * 127)),
    "an embedding too long": put("eve\t2", entry(embedding=[0.01] * 129)),
    "an embedding of strings": put("eve\t3", entry(embedding=["0.01"] * 128)),
    "an embedding with a bool": put("eve\t4", entry(embedding=[True] + [0.01] * 127)),
    "an embedding that is a string": put("eve\t5", entry(embedding="0.01," * 128)),
    "a name over 40 characters": put("eve\t6", entry(name="E" * 41)),
    "a name that is a number": put("eve\t7", entry(name=7.0)),
    "no model": put("eve\t8", pycrdt.Map({"name": "Eve", "embedding": [0.01] * 128})),
    "a field of its own": put("eve\t9", entry(photo="jpeg")),
    "a key without a sample id": put("eve", entry()),
    "an entry that is a string": put("eve\t10", "Eve"),
    "faces as a list root": lambda d: d.get("faces", type=pycrdt.Array).append("Eve"),
}


def test_malformed_synced_faces_are_refused_by_the_cloud_and_ignored_by_a_hub(
    cloud: Cloud, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = signup(httpx.Client(base_url=cloud.server.url))["access_token"]
    for what, write in BAD.items():
        refused = push(cloud.server.url, token, raw_update(write))
        assert refused.status_code == 400, (what, refused.text)
        assert refused.json()["error"]["code"] == "SYNC_BAD_SHAPE" and "0.01" not in refused.text, (what, refused.text)
    sound = raw_update(put("eve\tgood", entry()))
    assert push(cloud.server.url, token, sound).status_code == 200

    # Stored before the check, or written behind its back: a hub skips each with a code and names the rest.
    replica = Replica.open(tmp_path / "sync.sqlite3")
    for write in [w for what, w in BAD.items() if what != "faces as a list root"]:
        replica.receive(raw_update(write, base=replica.doc.diff()))
    replica.receive(raw_update(put("eve\tother-model", entry(model="another-model")), base=replica.doc.diff()))
    replica.receive(raw_update(put("eve\tgood", entry()), base=replica.doc.diff()))
    known = KnownFaces.in_dir(tmp_path)
    shared = SharedFaces.start(known, replica, enabled=True)
    assert shared is not None
    with caplog.at_level(logging.WARNING, logger="companion.vision.faces"):
        named = shared.recognisable({})
    assert list(named) == ["Eve"] and len(named["Eve"]) == 1
    ignored = [r for r in caplog.records if getattr(r, "code", None) == "FACES_SYNCED_INVALID"]
    assert ignored and getattr(ignored[0], "skipped", 0) == len(BAD)  # 11 malformed, and one of another model
    assert not any("0.01" in r.getMessage() + str(getattr(r, "first", "")) for r in caplog.records)

    class OneFace:  # a recognizer that sees Eve's numbers in any frame
        def faces(self, frame: np.ndarray) -> list[SeenFace]:
            return [SeenFace(Face(0, 0, 10, 10), 1.0, np.full(128, 0.01))]

    eve = cast(FaceRecognizer, OneFace())
    reply, data = asyncio.run(WhoIsThere(known, lambda: eve, shared=shared).answer(photo("coffee"), "here"))
    assert reply == "I see Eve here." and data["known"] == ["Eve"]
    # With faces_sync off this hub names nobody from the synced profile.
    off = SharedFaces(known, replica, enabled=False)
    assert off.recognisable({}) == {} and synced.all_keys(replica.doc)
    # The CLI on that hub lists her as enrolled elsewhere, and forgets her from the synced profile.
    env = {
        **os.environ,
        "COMPANION_CONFIG_DIR": str(tmp_path / "config"),
        "COMPANION_DATA_DIR": str(tmp_path),
        "COMPANION_FACES_SYNC": "true",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*EXE, "faces", *args], env=env, capture_output=True, text=True, timeout=120, check=False)

    listed = cli("list", "--json")
    assert json.loads(listed.stdout) == [{"name": "Eve", "photos": 0, "other_hubs": 1}], listed.stderr
    forgot = cli("forget", "eve")
    assert forgot.stdout.strip() == "Forgot Eve." and "Removed from the synced profile too" in forgot.stderr
    assert "Nobody is enrolled yet" in cli("list").stdout


def test_the_hub_shares_its_faces_at_start_only_if_allowed(tmp_path: Path) -> None:
    """`hub up` (start_vision with the hub's replica): faces enrolled while sharing was off are published
    once it is on, and withdrawn once it is off again; the hub's own file keeps them throughout."""
    from edge_runtime.vision import start_vision

    settings = EdgeSettings(config_dir=tmp_path / "config", data_dir=tmp_path / "data", faces_sync=True)
    known = KnownFaces.in_dir(settings.data_dir)
    known.enroll("Alice", [np.full(128, 0.02)])
    replica = open_replica(settings)

    def start(faces_sync: bool) -> set[str]:
        async def run() -> None:
            allowed = settings.model_copy(update={"faces_sync": faces_sync})
            vision = await start_vision(allowed, cameras=[], replica=replica)
            await vision.stop()

        asyncio.run(run())
        return synced.all_keys(replica.doc)

    assert [k.split("\t")[0] for k in start(True)] == ["alice"]
    assert start(True) == synced.all_keys(replica.doc) and len(replica.store.outbox(replica.name)) == 1  # once
    assert start(False) == set() and known.counts() == {"Alice": 1}
