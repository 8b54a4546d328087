"""A user's synced document: profile, memory, device aliases and room names, on pycrdt (Yrs).

Shape (the Yjs app reads and writes the same names):

    profile:     Map   name, language, voice, wake_word, timezone -> str
    preferences: Map   key -> str | number | bool
    memory:      Map   item id -> Map {text, source, created, updated, tags: Map(tag -> true)}
    aliases:     Map   "<device id>\t<alias>" -> true (a flat set)
    rooms:       Map   area key -> the name the user gave
    lists:       Map   list key -> the name the user gave (shopping and to-do always exist)
    list_items:  Map   "<list key>\t<item key>" -> Map {text, done, created, updated}
    faces:       Map   "<name key>\t<sample id>" -> Map {name, embedding, model}, only if the user allows
                 it (sync/faces.py)

Containers shared by several replicas are roots, never created on the fly: two replicas that
each create a map under the same key concurrently would keep only one of them, and lose the
other's contents. So sets of aliases are flat keys, not a map per device, and list items are
one flat map keyed by list and item, not a map per list.

Merge rules (docs/SYNC.md): concurrent sets of one field: the replica with the higher client
id wins, the same on every replica; a set that saw the other always wins. Deleting a memory
item wins over a concurrent edit of it. Sets (tags, aliases) are maps, so two replicas adding
the same alias keep one, and concurrent adds of different ones keep both. A list item's key is
its words, so two replicas adding "milk" keep one milk; deleting an item wins over checking it off.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pycrdt

from sync.errors import SyncError

PROFILE_FIELDS = ("name", "language", "voice", "wake_word", "timezone")
MAX_TEXT = 4000
MAX_ITEM_KEY = 150  # the words of a list item that make its key (keys stay under the shape's 200)
# Lists every user has without creating them, by key; the app and `name_list` add others.
DEFAULT_LISTS = {"shopping": "Shopping", "to do": "To-do"}


class SyncedDoc:
    """Every change is one transaction; `on_update` gets its Yjs update (to persist, then send)."""

    def __init__(self, client_id: int | None = None, on_update: Callable[[bytes], None] | None = None) -> None:
        self.doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=client_id) if client_id is not None else pycrdt.Doc()
        self.profile = self.doc.get("profile", type=pycrdt.Map)
        self.preferences = self.doc.get("preferences", type=pycrdt.Map)
        self.memory = self.doc.get("memory", type=pycrdt.Map)
        self.aliases = self.doc.get("aliases", type=pycrdt.Map)
        self.rooms = self.doc.get("rooms", type=pycrdt.Map)
        self.lists = self.doc.get("lists", type=pycrdt.Map)
        self.list_items = self.doc.get("list_items", type=pycrdt.Map)
        self.faces = self.doc.get("faces", type=pycrdt.Map)  # written through sync/faces.py only
        self._local = True
        self._on_update = on_update
        self._subscription = self.doc.observe(self._changed)

    @property
    def client_id(self) -> int:
        return int(self.doc.client_id)

    def _changed(self, event: pycrdt.TransactionEvent) -> None:
        if self._local and self._on_update is not None:
            self._on_update(event.update)

    # --- sync ---------------------------------------------------------------------------

    def state_vector(self) -> bytes:
        return self.doc.get_state()

    def diff(self, state_vector: bytes | None = None) -> bytes:
        """What a replica at `state_vector` lacks (everything if None)."""
        return self.doc.get_update(state_vector) if state_vector is not None else self.doc.get_update()

    def apply(self, update: bytes) -> None:
        """A remote update: merged, not reported to `on_update` (it is not ours to send)."""
        self._local = False
        try:
            self.doc.apply_update(update)
        except Exception as err:
            raise SyncError(f"could not apply an update ({len(update)} bytes): {err}", code="SYNC_BAD_UPDATE") from err
        finally:
            self._local = True

    # --- profile ------------------------------------------------------------------------

    def set_profile(self, field: str, value: str) -> None:
        if field not in PROFILE_FIELDS:
            raise SyncError(
                f"unknown profile field {field!r}", code="SYNC_BAD_FIELD", hint=f"one of {', '.join(PROFILE_FIELDS)}"
            )
        self.profile[field] = str(value)[:200]

    def set_preference(self, key: str, value: str | int | float | bool) -> None:
        self.preferences[key[:100]] = value

    # --- memory -------------------------------------------------------------------------

    def add_memory(
        self,
        text: str,
        *,
        tags: list[str] | None = None,
        source: str = "",
        item_id: str | None = None,
        now: float | None = None,
    ) -> str:
        item_id = item_id or uuid.uuid4().hex
        stamp = now if now is not None else time.time()
        self.memory[item_id] = pycrdt.Map(
            {
                "text": _text(text),
                "source": source[:100],
                "created": stamp,
                "updated": stamp,
                "tags": pycrdt.Map({t: True for t in tags or []}),
            }
        )
        return item_id

    def edit_memory(self, item_id: str, text: str, *, now: float | None = None) -> None:
        item = self._item(item_id)
        with self.doc.transaction():
            item["text"] = _text(text)
            item["updated"] = now if now is not None else time.time()

    def tag_memory(self, item_id: str, tag: str, *, present: bool = True) -> None:
        tags = self._item(item_id)["tags"]
        if present:
            tags[tag] = True
        elif tag in tags:
            del tags[tag]

    def delete_memory(self, item_id: str) -> None:
        self._item(item_id)
        del self.memory[item_id]

    def _item(self, item_id: str) -> Any:
        item = self.memory.get(item_id)
        if item is None:
            raise SyncError(f"no memory item {item_id!r}", code="SYNC_UNKNOWN_ITEM")
        return item

    # --- devices ------------------------------------------------------------------------

    def add_alias(self, device_id: str, alias: str) -> None:
        self.aliases[_alias_key(device_id, alias)] = True

    def remove_alias(self, device_id: str, alias: str) -> None:
        key = _alias_key(device_id, alias)
        if key in self.aliases:
            del self.aliases[key]

    def device_aliases(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key in self.aliases:
            device, _, alias = key.partition("\t")
            out.setdefault(device, []).append(alias)
        return {d: sorted(names) for d, names in sorted(out.items())}

    def name_room(self, area: str, name: str) -> None:
        self.rooms[area.strip().lower()] = name.strip()

    # --- lists --------------------------------------------------------------------------

    def list_names(self) -> dict[str, str]:
        """Every list by key: the defaults, then those the user named."""
        return {**DEFAULT_LISTS, **{k: str(v) for k, v in self.lists.items() if isinstance(v, str)}}

    def name_list(self, name: str) -> str:
        """Creates (or renames) the list; returns its key."""
        key = list_key(name)
        if not key:
            raise SyncError("a list needs a name", code="SYNC_BAD_FIELD")
        self.lists[key] = name.strip()[:200]
        return key

    def add_list_item(self, list_name: str, text: str, *, now: float | None = None) -> str:
        """Adds `text` to the list, or puts it back if it was checked off; returns the item's key."""
        key = item_key(list_name, text)
        stamp = now if now is not None else time.time()
        item = self.list_items.get(key)
        if isinstance(item, pycrdt.Map):
            with self.doc.transaction():
                item["done"] = False
                item["updated"] = stamp
            return key
        self.list_items[key] = pycrdt.Map({"text": _text(text), "done": False, "created": stamp, "updated": stamp})
        return key

    def check_list_item(self, key: str, *, done: bool = True, now: float | None = None) -> None:
        item = self.list_items.get(key)
        if not isinstance(item, pycrdt.Map):
            raise SyncError(f"no list item {key!r}", code="SYNC_UNKNOWN_ITEM")
        with self.doc.transaction():
            item["done"] = done
            item["updated"] = now if now is not None else time.time()

    def remove_list_item(self, key: str) -> None:
        if key not in self.list_items:
            raise SyncError(f"no list item {key!r}", code="SYNC_UNKNOWN_ITEM")
        del self.list_items[key]

    def list_items_of(self, list_name: str) -> list[dict[str, Any]]:
        """The list's well-formed items, oldest first: {key, text, done, created, updated}."""
        prefix = list_key(list_name) + "\t"
        out = []
        for key, item in self.list_items.items():
            if key.startswith(prefix) and isinstance(item, pycrdt.Map) and isinstance(item.get("text"), str):
                out.append({"key": key, **(item.to_py() or {})})
        return sorted(out, key=lambda i: (i.get("created") or 0, i["key"]))

    # --- reading ------------------------------------------------------------------------

    def to_py(self) -> dict[str, Any]:
        memory = {}
        for item_id, item in self.memory.items():
            value = item.to_py()
            value["tags"] = sorted(value.get("tags", {}))
            memory[item_id] = value
        return {
            "profile": self.profile.to_py(),
            "preferences": self.preferences.to_py(),
            "memory": memory,
            "aliases": self.device_aliases(),
            "rooms": self.rooms.to_py(),
            "lists": self.lists.to_py(),
            "list_items": {k: v.to_py() for k, v in self.list_items.items() if isinstance(v, pycrdt.Map)},
        }


def list_key(name: str) -> str:
    """ "My Chores List", "chores" -> "chores"; "to-do", "todo" -> "to do": one key per list however said."""
    words = _words(name)
    words = re.sub(r"^(?:my|the|our) ", "", words)
    words = re.sub(r"(?: list)+$", "", words).strip()
    return "to do" if words in ("todo", "to do") else words[:MAX_ITEM_KEY]


def item_key(list_name: str, text: str) -> str:
    """ "<list key>\t<item words>": "the Milk" and "milk" are one item of one list."""
    words = re.sub(r"^(?:the|a|an|some|my|our) ", "", _words(text))
    if not words:
        raise SyncError("a list item needs some text", code="SYNC_BAD_FIELD")
    return f"{list_key(list_name)}\t{words[:MAX_ITEM_KEY]}"


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w']+", " ", text.lower())).strip()


def _alias_key(device_id: str, alias: str) -> str:
    return f"{device_id.strip()}\t{alias.strip().lower()}"


def _text(text: str) -> str:
    text = text.strip()
    if not text:
        raise SyncError("a memory needs some text", code="SYNC_BAD_FIELD")
    return text[:MAX_TEXT]
