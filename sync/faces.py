"""Enrolled faces in the synced document: the `faces` root, written only by a hub whose user allows it
(`faces_sync`), and the one rule of what an entry looks like, which the cloud's shape check and every
reader apply alike.

    faces: Map  "<name key>\t<sample id>" -> Map {name, embedding, model}

`name` is the name as enrolled (at most 40 characters, one a letter or digit), its key the name folded
to one case and spacing, so "alice" and "Alice" are one person. `embedding` is one photo's 128 numbers
(never the photo), `model` the model that made them. A sample is never edited: a hub adds it, and
forgetting a person deletes every sample under their name key, whichever hub added it. Samples are a
flat set of keys in one root (docs/SYNC.md), so concurrent enrolments on two hubs are both kept, and a
sample added concurrently with a forget survives it, as a re-added alias does.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pycrdt

from sync.document import SyncedDoc

ROOT = "faces"
FIELDS = {"name", "embedding", "model"}
MAX_NAME = 40  # what a hub says aloud: "I see Alice at the door"
DIMENSIONS = 128  # dlib's ResNet; `sync` imports nothing of ours, so models.faces is not asked
MAX_MODEL = 100
MAX_KEY = 200


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def sample_key(name: str, embedding: Sequence[float], origin: str) -> str:
    """One photo of `name` as enrolled on the replica `origin`: the same photo enrolled on two hubs is
    two samples, so turning sync off on one withdraws only its own."""
    digest = hashlib.sha256(f"{origin}:{json.dumps([float(v) for v in embedding])}".encode()).hexdigest()
    return f"{name_key(name)}\t{digest[:16]}"


def faces_root(doc: SyncedDoc) -> pycrdt.Map[Any]:
    return doc.faces


def all_keys(doc: SyncedDoc) -> set[str]:
    return set(faces_root(doc).keys())


def add_samples(doc: SyncedDoc, samples: Mapping[str, tuple[str, Sequence[float], str]]) -> int:
    """key -> (name, embedding, model), in one transaction; keys already there are left as they are."""
    root = faces_root(doc)
    new = {k: v for k, v in samples.items() if k not in root}
    if new:
        with doc.doc.transaction():
            for key, (name, embedding, model) in new.items():
                root[key] = pycrdt.Map({"name": name, "embedding": [float(v) for v in embedding], "model": model})
    return len(new)


def remove_samples(doc: SyncedDoc, keys: Iterable[str]) -> int:
    """Deletes those of `keys` that are there, in one transaction (none there: nothing is written)."""
    root = faces_root(doc)
    there = [k for k in dict.fromkeys(keys) if k in root]
    if there:
        with doc.doc.transaction():
            for key in there:
                del root[key]
    return len(there)


def keys_of(doc: SyncedDoc, name: str) -> list[str]:
    """Every sample of `name` (in any case), from any hub."""
    prefix = name_key(name) + "\t"
    return sorted(k for k in all_keys(doc) if k.startswith(prefix))


def read(doc: SyncedDoc) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The well-formed samples ({name, embedding, model} by key) and one line per entry skipped. The
    lines name the key and what is wrong, never a value: an embedding is biometric data."""
    good, skipped = {}, []
    for key, value in faces_root(doc).items():
        wrong = entry_problems(key, value)
        if wrong:
            skipped.append(f"{key!r}: {wrong[0]}")
        else:
            good[key] = {"name": " ".join(value["name"].split()), **{f: value[f] for f in ("embedding", "model")}}
    return good, skipped


def entry_problems(key: str, entry: Any) -> list[str]:
    """Where one entry of `faces` departs from its shape (empty: it is sound)."""
    listed, tab, sample = key.partition("\t")
    if not (tab and listed.strip() and sample.strip()) or len(key) > MAX_KEY:
        return ["the key is not '<name key>\\t<sample id>'"]
    if not isinstance(entry, pycrdt.Map):
        return ["not a map {name, embedding, model}"]
    out = [f"unknown field {field!r}" for field, _ in entry.items() if field not in FIELDS]
    name = entry.get("name")
    if not (isinstance(name, str) and 0 < len(" ".join(name.split())) <= MAX_NAME and any(c.isalnum() for c in name)):
        out.append(f"name is not a name of 1 to {MAX_NAME} characters")
    embedding = entry.get("embedding")
    if not (isinstance(embedding, list) and len(embedding) == DIMENSIONS and all(map(_number, embedding))):
        out.append(f"embedding is not {DIMENSIONS} finite numbers")
    model = entry.get("model")
    if not (isinstance(model, str) and 0 < len(model) <= MAX_MODEL):
        out.append("model is not the name of a model")
    return out


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
