"""A replica: the document, kept durable by its store. What the hub and a Python app hold."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pycrdt

from sync.document import SyncedDoc
from sync.protocol import EMPTY_UPDATE
from sync.store import LocalStore


class Replica:
    """Local changes are written to SQLite inside the change itself, before the caller goes on."""

    def __init__(self, store: LocalStore, doc_name: str = "main", *, client_id: int | None = None) -> None:
        """`client_id`: a writer of its own beside the replica's usual one (a CLI command while the hub
        runs on the same store: two live documents writing as one Yjs client would lose writes)."""
        self.store = store
        self.name = doc_name
        self.listeners: list[Callable[[bytes], None]] = []  # a live connection sends local updates
        self.on_remote: list[Callable[[], None]] = []  # the hub re-reads aliases and rooms
        self.doc = SyncedDoc(client_id=client_id or store.client_id(), on_update=self._local_change)
        history = store.history(doc_name)
        if history:
            self.doc.apply(pycrdt.merge_updates(*history))
        # A forgotten face (here or elsewhere) leaves this store's history as soon as every row is
        # confirmed: the whole history is squashed then, and Yjs keeps no deleted content.
        self._erase_pending = False
        self._faces_watch = self.doc.faces.observe(self._faces_changed)

    def _faces_changed(self, event: Any) -> None:
        if any(change.get("action") == "delete" for change in event.keys.values()):
            self._erase_pending = True

    def _erase_if_due(self) -> None:
        if self._erase_pending and not self.store.outbox(self.name):
            self.store.compact(self.name, keep_under=0, erase=True)
            self._erase_pending = False

    @classmethod
    def open(cls, path: Path, doc_name: str = "main", *, client_id: int | None = None) -> Replica:
        return cls(LocalStore(path), doc_name, client_id=client_id)

    def _local_change(self, update: bytes) -> None:
        self.store.append(self.name, update, local=True)
        for listener in list(self.listeners):
            listener(update)

    def receive(self, update: bytes) -> None:
        """An update from elsewhere: merged and kept (a delete changes no state vector, so keep all)."""
        if update == EMPTY_UPDATE:
            return
        self.doc.apply(update)
        self.store.append(self.name, update, local=False)
        self._erase_if_due()
        for listener in list(self.on_remote):
            listener()

    def pending(self) -> tuple[list[int], bytes] | None:
        """Every local change the server has not acknowledged, merged, with the rows it came from."""
        rows = self.store.outbox(self.name)
        if not rows:
            return None
        return [i for i, _ in rows], pycrdt.merge_updates(*[data for _, data in rows])

    def acknowledged(self, ids: list[int]) -> None:
        self.store.confirm(ids)
        self._erase_if_due()
        self.store.compact(self.name)
