"""Per-user collections in chromadb, embedded by our MiniLM from the registry (never chromadb's
default embedder: it downloads). Synced memory items are indexed next to documents."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from cloud.rag.chunking import Chunk
from models.embed import MiniLMEmbedder

MEMORY_DOC = "memory"


class RagIndex:
    def __init__(self, embedder: MiniLMEmbedder, *, path: Path | None = None, url: str | None = None) -> None:
        import chromadb
        from chromadb.config import Settings

        config = Settings(anonymized_telemetry=False, allow_reset=False)
        if url:
            host, _, port = url.removeprefix("http://").rstrip("/").partition(":")
            self.client = chromadb.HttpClient(host=host, port=int(port or 8000), settings=config)
        else:
            assert path is not None
            path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=config)
        self.embedder = embedder
        self._lock = asyncio.Lock()  # one embedding at a time: the model's threads are the box's cores

    def _collection(self, user_id: str) -> Any:
        return self.client.get_or_create_collection(
            f"u_{user_id}", embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    async def add(self, user_id: str, doc_id: str, title: str, chunks: list[Chunk], source: str) -> int:
        if not chunks:
            return 0
        async with self._lock:
            vectors = await asyncio.to_thread(self.embedder.embed, [c.text for c in chunks])
        metas = [
            {
                "doc_id": doc_id,
                "title": title,
                "source": source,
                "chunk": i,
                "page": c.page or 0,
                "heading": c.heading or "",
            }
            for i, c in enumerate(chunks)
        ]
        ids = [f"{doc_id}:{i}" for i in range(len(chunks))]
        collection = self._collection(user_id)
        await asyncio.to_thread(
            collection.upsert, ids=ids, embeddings=vectors.tolist(), documents=[c.text for c in chunks], metadatas=metas
        )
        return len(chunks)

    async def delete(self, user_id: str, doc_id: str) -> int:
        collection = self._collection(user_id)
        found = await asyncio.to_thread(collection.get, where={"doc_id": doc_id}, include=[])
        if found["ids"]:
            await asyncio.to_thread(collection.delete, ids=found["ids"])
        return len(found["ids"])

    async def documents(self, user_id: str) -> list[dict[str, Any]]:
        collection = self._collection(user_id)
        found = await asyncio.to_thread(collection.get, include=["metadatas"])
        docs: dict[str, dict[str, Any]] = {}
        for meta in found["metadatas"] or []:
            doc = docs.setdefault(
                str(meta["doc_id"]),
                {"id": meta["doc_id"], "title": meta["title"], "source": meta["source"], "chunks": 0},
            )
            doc["chunks"] += 1
        return sorted(docs.values(), key=lambda d: str(d["title"]))

    async def query(self, user_id: str, question: str, k: int) -> list[dict[str, Any]]:
        async with self._lock:
            vector = await asyncio.to_thread(self.embedder.embed, [question])
        collection = self._collection(user_id)
        found = await asyncio.to_thread(
            collection.query,
            query_embeddings=vector.tolist(),
            n_results=k,
            include=["documents", "metadatas", "distances"],
        )
        out = []
        for text, meta, distance in zip(
            found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True
        ):
            out.append(
                {
                    "text": text,
                    "doc_id": meta["doc_id"],
                    "title": meta["title"],
                    "source": meta["source"],
                    "page": meta["page"] or None,
                    "heading": meta["heading"] or None,
                    "score": round(1 - float(distance), 4),
                }
            )
        return out

    async def index_memory(self, user_id: str, memory: dict[str, dict[str, Any]]) -> dict[str, int]:
        """The user's synced memory items, each one chunk; changed items re-embedded, gone ones removed."""
        collection = self._collection(user_id)
        have = await asyncio.to_thread(collection.get, where={"source": MEMORY_DOC}, include=["metadatas"])
        current = {i: str(m.get("heading", "")) for i, m in zip(have["ids"], have["metadatas"] or [], strict=True)}
        wanted = {f"memory:{item_id}": item for item_id, item in memory.items()}
        stale = [i for i in current if i not in wanted]
        fresh = {i: item for i, item in wanted.items() if current.get(i) != _version(item)}
        if stale:
            await asyncio.to_thread(collection.delete, ids=stale)
        if fresh:
            texts = [str(item.get("text", "")) for item in fresh.values()]
            async with self._lock:
                vectors = await asyncio.to_thread(self.embedder.embed, texts)
            metas = [
                {"doc_id": i, "title": "memory", "source": MEMORY_DOC, "chunk": 0, "page": 0, "heading": _version(item)}
                for i, item in fresh.items()
            ]
            await asyncio.to_thread(
                collection.upsert, ids=list(fresh), embeddings=vectors.tolist(), documents=texts, metadatas=metas
            )
        return {"indexed": len(fresh), "removed": len(stale)}


def _version(item: dict[str, Any]) -> str:
    """Which edit of a memory item is indexed (kept in the chunk's metadata)."""
    return hashlib.sha256(f"{item.get('updated')}|{item.get('text')}".encode()).hexdigest()[:16]
