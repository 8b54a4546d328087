"""Cloud data services benchmark (issue #7): rag ingest in documents per second vs bare
onnxruntime embedding of the same chunks, rag query latency at 10,000 chunks, and analytics
events ingested per second over HTTP into PostgreSQL.

    make bench-cloud    # runs bench.cloud, then this; or: .venv/bin/python -m bench.cloud_data

Prints Markdown tables and writes bench/results/cloud_data.json.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.common import machine, median, table, write_json
from cloud.rag.chunking import chunk
from cloud.rag.index import RagIndex
from models.embed import MiniLMEmbedder
from models.registry import Registry

WORDS = (
    "boiler",
    "heating",
    "garden",
    "tomato",
    "window",
    "kitchen",
    "insurance",
    "passport",
    "birthday",
    "recipe",
    "garage",
    "bicycle",
    "invoice",
    "school",
    "holiday",
    "doctor",
    "dentist",
    "battery",
    "filter",
    "warranty",
)


def document(i: int, sentences: int = 12) -> str:
    rng = np.random.default_rng(i)
    return " ".join(" ".join(rng.choice(WORDS, 9)).capitalize() + "." for _ in range(sentences))


def bare_embed(embedder: MiniLMEmbedder, texts: list[str]) -> None:
    """The same model and tokenizer, straight through onnxruntime: no engine, no store."""
    encoded = embedder.tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in encoded], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in embedder.inputs:
        feeds["token_type_ids"] = np.zeros_like(ids)
    hidden = embedder.session.run(None, feeds)[0]
    pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    _ = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


async def rag(docs: int, corpus_chunks: int, queries: int) -> dict[str, Any]:
    embedder = MiniLMEmbedder(Registry())
    embedder.embed(["warm up"])
    with tempfile.TemporaryDirectory() as tmp:
        index = RagIndex(embedder, path=Path(tmp) / "chroma")
        texts = [document(i) for i in range(docs)]
        chunked = [chunk([(t, None)]) for t in texts]
        started = time.perf_counter()
        for i, chunks in enumerate(chunked):
            await index.add("bench", f"d{i}", f"doc {i}", chunks, source="document")
        ours_s = time.perf_counter() - started
        started = time.perf_counter()
        for chunks in chunked:
            bare_embed(embedder, [c.text for c in chunks])
        bare_s = time.perf_counter() - started
        # 10,000 chunks for the query figure, added in large batches.
        big = [c for i in range(corpus_chunks) for c in chunk([(document(10_000 + i, 4), None)])][:corpus_chunks]
        for start in range(0, len(big), 500):
            await index.add("corpus", f"c{start}", "corpus", big[start : start + 500], source="document")
        times = []
        for q in range(queries):
            started = time.perf_counter()
            await index.query("corpus", f"where is the {WORDS[q % len(WORDS)]} warranty", 5)
            times.append(time.perf_counter() - started)
    chunks_per_doc = sum(len(c) for c in chunked) / len(chunked)
    return {
        "docs": docs,
        "chunks_per_doc": round(chunks_per_doc, 1),
        "ours_docs_per_s": round(docs / ours_s, 1),
        "bare_docs_per_s": round(docs / bare_s, 1),
        "ratio": round(ours_s / bare_s, 3),
        "corpus_chunks": len(big),
        "query_ms_median": round(1000 * median(times), 1),
        "query_ms_p95": round(1000 * sorted(times)[int(0.95 * (len(times) - 1))], 1),
    }


def analytics(batches: int, batch_size: int) -> dict[str, Any]:
    from tests.cloud.server import CloudServer, bearer, fresh_database, signup

    with tempfile.TemporaryDirectory() as tmp:
        server = CloudServer(
            Path(tmp), services=["auth", "analytics"], database_url=fresh_database(), log_level="WARNING"
        ).start()
        try:
            client = httpx.Client(base_url=server.url, timeout=60)
            headers = bearer(signup(client)["access_token"])
            now = datetime.now(UTC).isoformat()
            bodies = [
                {
                    "events": [
                        {
                            "event_id": uuid.uuid4().hex,
                            "hub_id": "bench",
                            "type": "turn",
                            "at": now,
                            "route": "local-intent",
                            "latency_ms": 400.0,
                        }
                        for _ in range(batch_size)
                    ]
                }
                for _ in range(batches)
            ]
            client.post("/v1/analytics/events", json=bodies[0], headers=headers)  # warm up
            started = time.perf_counter()
            for body in bodies[1:]:
                assert client.post("/v1/analytics/events", json=body, headers=headers).json()["stored"] == batch_size
            seconds = time.perf_counter() - started
        finally:
            server.stop()
    events = (batches - 1) * batch_size
    return {"events": events, "batch_size": batch_size, "events_per_s": round(events / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--corpus", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--batches", type=int, default=21)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    r = asyncio.run(rag(args.docs, args.corpus, args.queries))
    a = analytics(args.batches, args.batch_size)
    results = {
        "machine": machine(),
        "command": "make bench-cloud (.venv/bin/python -m bench.cloud_data)",
        "rag": r,
        "analytics": a,
    }
    print(
        table(
            f"rag ingest, {r['docs']} documents of ~{r['chunks_per_doc']} chunks",
            ["path", "docs/s"],
            [
                ["ours: chunk + MiniLM embed + chromadb upsert (RagIndex.add)", r["ours_docs_per_s"]],
                ["bare onnxruntime embedding of the same chunks", r["bare_docs_per_s"]],
                ["time ratio ours/bare", r["ratio"]],
            ],
        )
    )
    print()
    print(
        table(
            f"rag query at {r['corpus_chunks']} chunks (embed + chromadb top 5)",
            ["median ms", "p95 ms"],
            [[r["query_ms_median"], r["query_ms_p95"]]],
        )
    )
    print()
    print(
        table(
            f"analytics ingest over HTTP into PostgreSQL, batches of {a['batch_size']}",
            ["events/s"],
            [[a["events_per_s"]]],
        )
    )
    print(f"\nwrote {write_json('cloud_data', results)}")


if __name__ == "__main__":
    main()
