"""Sync benchmark: operations merged per second (ours vs bare pycrdt), bytes on the wire per
change as the document grows, and the time for 3 replicas to converge after a 1000-operation
partition, through the real protocol messages.

    make bench-sync    # or: .venv/bin/python -m bench.sync

Prints Markdown tables and writes bench/results/sync.json.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import pycrdt

from bench.common import machine, median, table, write_json
from sync import protocol
from sync.document import SyncedDoc
from sync.protocol import Kind


def merge_rate(ops: int) -> dict[str, float]:
    """One replica makes `ops` changes (one update each); another merges them all."""
    updates: list[bytes] = []
    source = SyncedDoc(client_id=1, on_update=updates.append)
    for i in range(ops):
        if i % 3 == 0:
            source.add_memory(f"note {i}", item_id=f"m{i}", now=float(i))
        elif i % 3 == 1:
            source.set_profile("name", f"name {i}")
        else:
            source.add_alias(f"dev{i % 7}", f"alias {i}")
    ours = SyncedDoc(client_id=2)
    started = time.perf_counter()
    for u in updates:
        ours.apply(u)
    ours_s = time.perf_counter() - started
    bare: pycrdt.Doc[Any] = pycrdt.Doc()
    started = time.perf_counter()
    for u in updates:
        bare.apply_update(u)
    bare_s = time.perf_counter() - started
    assert ours.to_py() == source.to_py()
    return {
        "ops": ops,
        "ours_per_s": round(ops / ours_s),
        "bare_per_s": round(ops / bare_s),
        "ratio": round(ours_s / bare_s, 3),
    }


def wire_bytes(sizes: list[int]) -> list[dict[str, int]]:
    """Bytes of the Update message for one more memory item, as the document holds more items."""
    rows = []
    for size in sizes:
        updates: list[bytes] = []
        doc = SyncedDoc(client_id=1, on_update=updates.append)
        for i in range(size):
            doc.add_memory(f"memory number {i} with some text in it", item_id=f"m{i}", now=float(i))
        whole = len(doc.diff())
        updates.clear()
        doc.add_memory("one more thing to remember", item_id="new", now=1.0)
        small = len(protocol.update(updates[0]))
        updates.clear()
        doc.add_memory("x" * 1000, item_id="big", now=1.0)
        rows.append(
            {
                "items": size,
                "document_bytes": whole,
                "small_change_bytes": small,
                "1000_char_change_bytes": len(protocol.update(updates[0])),
            }
        )
    return rows


def converge_after_partition(ops: int) -> dict[str, Any]:
    """3 replicas: A and B cut off from C; each makes ops/3 changes; then the partition heals and
    they exchange SyncStep1/SyncStep2 messages (all to all) until every state vector is equal."""
    peers = [SyncedDoc(client_id=i + 1) for i in range(3)]
    for i in range(ops):
        peer = peers[i % 3]
        if i % 2:
            peer.add_memory(f"offline note {i}", item_id=f"m{i}", now=float(i))
        else:
            peer.set_profile("name", f"name {i}")
    started = time.perf_counter()
    wire = 0
    rounds = 0
    while not all(p.to_py() == peers[0].to_py() for p in peers[1:]):
        rounds += 1
        for a in range(3):
            for b in range(3):
                if a == b:
                    continue
                ask = protocol.step1(peers[a].state_vector())
                message = protocol.decode(ask)
                assert message.kind is Kind.STEP1
                answer = protocol.step2(peers[b].diff(message.payload))
                wire += len(ask) + len(answer)
                peers[a].apply(protocol.decode(answer).payload)
    return {
        "ops": ops,
        "replicas": 3,
        "rounds": rounds,
        "ms": round(1000 * (time.perf_counter() - started), 1),
        "wire_bytes": wire,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rates = [merge_rate(args.ops) for _ in range(args.runs)]
    rate = {k: median([r[k] for r in rates]) for k in ("ours_per_s", "bare_per_s", "ratio")}
    wires = wire_bytes([10, 100, 1000, 5000])
    partitions = [converge_after_partition(1000) for _ in range(args.runs)]
    part = {k: median([p[k] for p in partitions]) for k in ("ms", "rounds", "wire_bytes")}
    results = {
        "machine": machine(),
        "command": "make bench-sync (.venv/bin/python -m bench.sync)",
        "merge": {"ops": args.ops, "runs": args.runs, **rate},
        "wire": wires,
        "partition": part,
    }
    print(
        table(
            f"Operations merged per second ({args.ops} updates, median of {args.runs})",
            ["ours: SyncedDoc.apply", "bare pycrdt Doc.apply_update", "ratio ours/bare (time)"],
            [[rate["ours_per_s"], rate["bare_per_s"], rate["ratio"]]],
        )
    )
    print()
    print(
        table(
            "Bytes on the wire per change (one Update message) as the document grows",
            ["memory items", "whole document", "a short new item", "a 1000-character item"],
            [[w["items"], w["document_bytes"], w["small_change_bytes"], w["1000_char_change_bytes"]] for w in wires],
        )
    )
    print()
    print(
        table(
            f"3 replicas converge after a 1000-operation partition (median of {args.runs})",
            ["ms", "rounds", "bytes exchanged"],
            [[part["ms"], part["rounds"], part["wire_bytes"]]],
        )
    )
    print(f"\nwrote {write_json('sync', results)}")


if __name__ == "__main__":
    main()
