"""The synced document's shape (docs/SYNC.md), checked on every write and assumed by no reader.

A Yjs update can put anything anywhere: a string where a memory item belongs, a number for a
profile name, a root of its own. Such an update is refused with SYNC_BAD_SHAPE before it is stored.
The check compares the document before and after the update, so an account that already holds a
bad item (stored before this check, or behind its back) can still sync, and may delete it; readers
(rag, escalation) take only items of the right shape from what is stored.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pycrdt

from sync import faces
from sync.document import PROFILE_FIELDS
from sync.errors import SyncError

log = logging.getLogger("sync.shape")
ROOTS = ("profile", "preferences", "memory", "aliases", "rooms", "lists", "list_items", faces.ROOT)
ITEM_FIELDS = {"text", "source", "created", "updated", "tags"}
LIST_ITEM_FIELDS = {"text", "done", "created", "updated"}
# Bounds against abuse, generous beyond what our clients write (the Python client cuts memory text at
# 4,000 characters, a Yjs app may not): a sound write from any client must never be refused.
MAX_KEY = 200  # item ids, preference keys, tags, aliases, room keys
MAX_VALUE = 16_384  # any string value


def check(current: bytes, update: bytes) -> bool:
    """Raises SYNC_BAD_SHAPE if applying `update` to the stored document adds a problem. Returns
    whether it deletes an enrolled face: the store then compacts at once, so the numbers leave its
    history with the forget, not some updates later."""
    doc = _load(current)
    before = problems(doc)
    enrolled = set(doc.get(faces.ROOT, type=pycrdt.Map).keys())
    try:
        doc.apply_update(update)
    except Exception as err:
        raise SyncError("the update does not apply to the stored document", code="SYNC_BAD_UPDATE") from err
    added = sorted(problems(doc) - before)
    if added:
        raise SyncError(
            f"the update does not fit the document's shape: {'; '.join(p[:120] for p in added[:3])}",
            code="SYNC_BAD_SHAPE",
            hint="see docs/SYNC.md for each root's shape",
        )
    return bool(enrolled - set(doc.get(faces.ROOT, type=pycrdt.Map).keys()))


def problems(doc: pycrdt.Doc[Any]) -> set[str]:
    """Where `doc` departs from the shape, one stable line per place."""
    names = set(doc.keys())
    found = {f"{name}: not a root of the document" for name in names if name not in ROOTS}
    found |= {f"{name}: holds list or text content, not map entries" for name in _sequences(doc, names & set(ROOTS))}
    maps = {name: doc.get(name, type=pycrdt.Map) for name in ROOTS}
    for key, value in maps["profile"].items():
        if key not in PROFILE_FIELDS or not _text(value, MAX_VALUE, empty=True):
            found.add(f"profile.{key}: not one of {', '.join(PROFILE_FIELDS)} with a string")
    for key, value in maps["preferences"].items():
        if len(key) > MAX_KEY or not (_text(value, MAX_VALUE, empty=True) or _number(value) or isinstance(value, bool)):
            found.add(f"preferences.{key}: not a string, number or bool")
    for key, value in maps["memory"].items():
        found |= {f"memory.{key}: {p}" for p in _item_problems(key, value)}
    for key, value in maps["aliases"].items():
        if "\t" not in key or len(key) > MAX_KEY or value is not True:
            found.add(f"aliases.{key!r}: not '<device id>\\t<alias>' -> true")
    for key, value in maps["rooms"].items():
        if len(key) > MAX_KEY or not _text(value, MAX_VALUE, empty=True):
            found.add(f"rooms.{key}: not a room name")
    for key, value in maps["lists"].items():
        if not key.strip() or len(key) > MAX_KEY or not _text(value, MAX_VALUE):
            found.add(f"lists.{key!r}: not a list key -> its name")
    for key, value in maps["list_items"].items():
        found |= {f"list_items.{key!r}: {p}" for p in _list_item_problems(key, value)}
    for key, value in maps[faces.ROOT].items():  # the lines name what is wrong, never an embedding's numbers
        found |= {f"faces.{key!r}: {p}" for p in faces.entry_problems(key, value)}
    return found


def memory_items(whole: bytes) -> dict[str, dict[str, Any]]:
    """The memory items a reader can use ({text, updated}), from whatever is stored; the rest skipped."""
    try:
        memory = _load(whole).get("memory", type=pycrdt.Map)
        entries = list(memory.items())
    except Exception as err:
        log.warning("sync.unreadable_document", extra={"code": "SYNC_BAD_UPDATE", "error": type(err).__name__})
        return {}
    items, skipped = {}, 0
    for key, value in entries:
        text = value.get("text") if isinstance(value, pycrdt.Map) else None
        if _text(text, MAX_VALUE) and len(key) <= MAX_KEY:
            updated = value.get("updated")
            items[key] = {"text": text, "updated": updated if _number(updated) else None}
        else:
            skipped += 1
    if skipped:
        log.warning("sync.bad_items_skipped", extra={"code": "SYNC_BAD_SHAPE", "skipped": skipped})
    return items


def _item_problems(key: str, item: Any) -> list[str]:
    if len(key) > MAX_KEY:
        return ["the item id is too long"]
    if not isinstance(item, pycrdt.Map):
        return ["not a map {text, source, created, updated, tags}"]
    out = [f"unknown field {field!r}" for field, _ in item.items() if field not in ITEM_FIELDS]
    if not _text(item.get("text"), MAX_VALUE):
        out.append(f"text is not a string of 1 to {MAX_VALUE} characters")
    if "source" in item and not _text(item.get("source"), MAX_VALUE, empty=True):
        out.append("source is not a short string")
    out += [
        f"{field} is not a finite number"
        for field in ("created", "updated")
        if field in item and not _number(item.get(field))
    ]
    tags = item.get("tags")
    if tags is not None and not (
        isinstance(tags, pycrdt.Map) and all(len(t) <= MAX_KEY and v is True for t, v in tags.items())
    ):
        out.append("tags is not a map of tag -> true")
    return out


def _list_item_problems(key: str, item: Any) -> list[str]:
    """Any client may write a list item: the app's own keys are fine as long as the list is named."""
    listed, tab, words = key.partition("\t")
    if not (tab and listed.strip() and words.strip()) or len(key) > MAX_KEY:
        return ["the key is not '<list key>\\t<item>'"]
    if not isinstance(item, pycrdt.Map):
        return ["not a map {text, done, created, updated}"]
    out = [f"unknown field {field!r}" for field, _ in item.items() if field not in LIST_ITEM_FIELDS]
    if not _text(item.get("text"), MAX_VALUE):
        out.append(f"text is not a string of 1 to {MAX_VALUE} characters")
    if "done" in item and not isinstance(item.get("done"), bool):
        out.append("done is not a bool")
    return out + [
        f"{field} is not a finite number"
        for field in ("created", "updated")
        if field in item and not _number(item.get(field))
    ]


def _sequences(doc: pycrdt.Doc[Any], names: set[str]) -> set[str]:
    """The roots that hold list or text content (which a map reader never sees), read on a copy so
    that reading them as lists changes nothing in `doc`."""
    if not names:
        return set()
    copy = _load(doc.get_update())
    out = set()
    for name in names:
        try:
            if len(copy.get(name, type=pycrdt.Array)) > 0:
                out.add(name)
        except Exception:
            out.add(name)
    return out


def _load(whole: bytes) -> pycrdt.Doc[Any]:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    if whole:
        doc.apply_update(whole)
    return doc


def _text(value: Any, most: int, *, empty: bool = False) -> bool:
    return isinstance(value, str) and (empty or bool(value.strip())) and len(value) <= most


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
