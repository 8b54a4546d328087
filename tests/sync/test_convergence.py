"""Replicas exchanging encoded sync messages over a network that reorders, duplicates and drops
them, with partitions and a replica that joins late: they converge, and no acknowledged write is
lost (after automerge-py's tests: peers in a loop until they agree)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import protocol
from sync.document import PROFILE_FIELDS, SyncedDoc
from sync.protocol import Kind


@dataclass
class Peer:
    doc: SyncedDoc
    writes: list[tuple[str, Any]] = field(default_factory=list)  # what this replica acknowledged

    def answer(self, data: bytes) -> list[bytes]:
        message = protocol.decode(data)
        if message.kind is Kind.STEP1:
            return [protocol.step2(self.doc.diff(message.payload))]
        self.doc.apply(message.payload)
        return []


@dataclass
class Network:
    """Messages in flight between peers; a test strategy decides what happens to them."""

    rng: random.Random
    flight: list[tuple[int, bytes]] = field(default_factory=list)  # (to, message)
    cut: set[int] = field(default_factory=set)  # partitioned away

    def send(self, to: int, data: bytes, frm: int) -> None:
        if to in self.cut or frm in self.cut:
            return  # a partition drops it
        self.flight.append((to, data))

    def step(self, peers: list[Peer], *, lossy: bool) -> None:
        if not self.flight:
            return
        to, data = self.flight.pop(self.rng.randrange(len(self.flight)))  # any order
        if lossy and self.rng.random() < 0.15:
            return  # dropped
        if lossy and self.rng.random() < 0.15:
            self.flight.append((to, data))  # delivered twice
        for reply in peers[to].answer(data):
            self.send(self.rng.choice([i for i in range(len(peers)) if i != to]), reply, to)


def gossip(peers: list[Peer], net: Network, frm: int) -> None:
    """Anti-entropy: a peer asks the others what it lacks, and sends what it has as an update."""
    for to in range(len(peers)):
        if to != frm:
            net.send(to, protocol.step1(peers[frm].doc.state_vector()), frm)
            net.send(to, protocol.update(peers[frm].doc.diff()), frm)


OPS = st.lists(
    st.tuples(
        st.integers(0, 3),  # which replica
        st.sampled_from(["profile", "add", "edit", "delete", "alias", "unalias", "room", "gossip", "net", "cut"]),
        st.integers(0, 5),  # which field / item / value
    ),
    min_size=5,
    max_size=60,
)


def apply_op(peer: Peer, kind: str, n: int, serial: int) -> None:
    doc = peer.doc
    ids = sorted(doc.memory.keys())
    if kind == "profile":
        field_name, value = PROFILE_FIELDS[n % len(PROFILE_FIELDS)], f"v{serial}"
        doc.set_profile(field_name, value)
        peer.writes.append(("profile", (field_name, value)))
    elif kind == "add":
        item = doc.add_memory(f"memory {serial}", tags=[f"t{n}"], item_id=f"m{serial}")
        peer.writes.append(("memory", item))
    elif kind == "edit" and ids:
        item = ids[n % len(ids)]
        doc.edit_memory(item, f"edited {serial}")
        peer.writes.append(("edit", item))
    elif kind == "delete" and ids:
        item = ids[n % len(ids)]
        doc.delete_memory(item)
        peer.writes.append(("delete", item))
    elif kind == "alias":
        doc.add_alias(f"dev{n % 3}", f"alias {serial}")
        peer.writes.append(("alias", (f"dev{n % 3}", f"alias {serial}")))
    elif kind == "unalias":
        names = doc.device_aliases().get(f"dev{n % 3}")
        if names:
            doc.remove_alias(f"dev{n % 3}", names[0])
            peer.writes.append(("unalias", (f"dev{n % 3}", names[0])))
    elif kind == "room":
        doc.name_room(f"area{n % 2}", f"Room {serial}")
        peer.writes.append(("room", (f"area{n % 2}", f"Room {serial}")))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, seed=st.integers(0, 2**16), late=st.booleans())
def test_replicas_converge_and_keep_every_acknowledged_write(
    ops: list[tuple[int, str, int]], seed: int, late: bool
) -> None:
    rng = random.Random(seed)
    peers = [Peer(SyncedDoc(client_id=i + 1)) for i in range(4)]
    net = Network(rng)
    if late:
        net.cut.add(3)  # replica 3 is offline from the start and joins at the end
    for serial, (who, kind, n) in enumerate(ops):
        if kind == "gossip":
            gossip(peers, net, who)
        elif kind == "net":
            for _ in range(n + 1):
                net.step(peers, lossy=True)
        elif kind == "cut":
            net.cut ^= {who}  # partition or heal one replica
        else:
            apply_op(peers[who], kind, n, serial)
    # Heal everything and let anti-entropy run over a reliable network until all agree.
    net.cut.clear()
    for _ in range(6):
        for i in range(len(peers)):
            gossip(peers, net, i)
        while net.flight:
            net.step(peers, lossy=False)
    states = [p.doc.to_py() for p in peers]
    assert all(s == states[0] for s in states), "replicas did not converge"
    final = states[0]
    deleted = {item for p in peers for kind, item in p.writes if kind == "delete"}
    for peer in peers:
        for kind, what in peer.writes:
            if kind == "memory" and what not in deleted:
                assert what in final["memory"], f"memory item {what} was lost"
            if kind == "profile":
                field_name, _ = what
                written = {
                    v for p in peers for k, (f, v) in ((k, w) for k, w in p.writes if k == "profile") if f == field_name
                }
                assert final["profile"][field_name] in written  # one of the writes won, none was invented
    removed = {w for p in peers for k, w in p.writes if k == "unalias"}
    for peer in peers:
        for kind, what in peer.writes:
            if kind == "alias" and what not in removed:
                device, alias = what
                assert alias in final["aliases"].get(device, []), f"alias {what} was lost"


def test_concurrent_sets_have_one_deterministic_winner() -> None:
    for first, second in ((1, 2), (2, 1)):
        a, b = SyncedDoc(client_id=first), SyncedDoc(client_id=second)
        a.set_profile("name", f"from {first}")
        b.set_profile("name", f"from {second}")
        a.apply(b.diff(a.state_vector()))
        b.apply(a.diff(b.state_vector()))
        assert a.to_py()["profile"]["name"] == b.to_py()["profile"]["name"] == "from 2"  # higher client id


def test_a_delete_wins_over_a_concurrent_edit() -> None:
    a, b = SyncedDoc(client_id=1), SyncedDoc(client_id=2)
    item = a.add_memory("my bank pin hint", item_id="m1")
    b.apply(a.diff())
    b.edit_memory(item, "my bank pin hint, updated")  # on the phone, offline
    a.delete_memory(item)  # "forget that", on the hub
    a.apply(b.diff(a.state_vector()))
    b.apply(a.diff(b.state_vector()))
    assert a.to_py()["memory"] == b.to_py()["memory"] == {}


def test_sets_neither_duplicate_nor_lose() -> None:
    a, b = SyncedDoc(client_id=1), SyncedDoc(client_id=2)
    a.add_alias("ha:lamp", "Couch Lamp")
    b.add_alias("ha:lamp", "couch lamp")  # the same alias, typed on two replicas
    b.add_alias("ha:lamp", "reading lamp")
    a.apply(b.diff(a.state_vector()))
    b.apply(a.diff(b.state_vector()))
    assert a.to_py()["aliases"] == b.to_py()["aliases"] == {"ha:lamp": ["couch lamp", "reading lamp"]}


def test_presence_messages_are_ignored_not_fatal() -> None:
    """A stock y-websocket client sends awareness (1) and query-awareness (3) messages."""
    import pycrdt

    awareness = bytes([protocol.AWARENESS]) + pycrdt.write_message(b"\x01\x02")
    query = bytes([protocol.QUERY_AWARENESS])
    body = protocol.step1(b"\x00") + awareness + query
    assert protocol.split(body) == [protocol.step1(b"\x00"), awareness, query]
    assert protocol.is_awareness(awareness) and protocol.is_awareness(query)
