"""Enrolled faces in the synced profile, only if the user allows it (`faces_sync`, off by default).

With it on, each sample enrolled here (its name and 128 numbers, never a photo) is published to the
hub's replica of the synced document (sync/faces.py), so the household's other hubs with `faces_sync` on
name that person too; and what they published is named here. `forget` removes a person everywhere: it
deletes every synced sample of the name, whichever hub enrolled it, and a hub that learns of that delete
drops its own samples of them from faces.json. With it off, nothing about faces enters the replica, and
the samples this hub published before are withdrawn (the next time the hub starts or a `companion faces`
command runs); what other hubs published is not named here.

This hub's faces.json stays the source of what it enrolled. It notes which samples it published, so that
a published sample found missing later is known to be forgotten elsewhere, not new: then it is dropped
here, not published again.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from common.errors import CompanionError
from edge_runtime.vision.known_faces import KnownFaces, LocalFaces, UnknownFace, rounded
from models.faces import RESNET
from sync import Replica
from sync import faces as synced

log = logging.getLogger("companion.vision.faces")
INVALID = "FACES_SYNCED_INVALID"
FAILED = "FACES_SYNC_FAILED"


class SharedFaces:
    """This hub's faces (`local`) and the synced profile's, kept in step through `replica`."""

    def __init__(self, local: KnownFaces, replica: Replica, *, enabled: bool) -> None:
        self.local, self.replica, self.enabled = local, replica, enabled
        self.origin = str(replica.store.client_id())  # the replica's own id, whoever writes through it
        self._seen: set[str] = set()

    @classmethod
    def start(cls, local: KnownFaces, replica: Replica, *, enabled: bool) -> SharedFaces | None:
        """At the hub's start: in step once (a bad faces.json is logged, never fatal), then, if enabled,
        watching the replica for forgets made elsewhere. None when faces are not shared."""
        shared = cls(local, replica, enabled=enabled)
        try:
            shared.reconcile()
        except Exception as err:  # a bad faces.json, a full disk: logged; the hub starts all the same
            _failed(err)
        if not enabled:
            return None
        replica.on_remote.append(shared._remote_change)
        return shared

    def reconcile(self) -> dict[str, int]:
        """Publishes what was enrolled here and is not yet synced; drops what was forgotten elsewhere;
        with sharing off, withdraws what this hub published. Writes nothing when all is in step."""
        state = self.local.state()
        doc = self.replica.doc
        mine = self._keys(state)
        ours = state.published if state.replica == self.origin else set()
        stale = state.published - ours  # published through a replica since reset: ours all the same
        if not self.enabled:
            withdrawn = synced.remove_samples(doc, [*mine, *state.published])
            if state.replica:
                self.local.save(LocalFaces(state.people))
            return {"published": 0, "withdrawn": withdrawn, "forgotten": 0}
        # Published before a reset of the replica, or of a person forgotten here without the replica at hand.
        withdrawn = synced.remove_samples(doc, stale | (ours - set(mine)))
        there = synced.all_keys(doc)
        gone = {k for k in mine if k in ours and k not in there}
        new = {k: (name, rounded(s), RESNET) for k, (name, s) in mine.items() if k not in there and k not in ours}
        added = synced.add_samples(doc, new)
        published = set(mine) - gone
        if gone or published != state.published or state.replica != self.origin:
            self.local.save(LocalFaces(self._without(state, gone), self.origin, published))
        self._seen = synced.all_keys(doc)
        return {"published": added, "withdrawn": withdrawn, "forgotten": len(gone)}

    def enroll(self, name: str, embeddings: list[np.ndarray]) -> int:
        total = self.local.enroll(name, embeddings)
        if self.enabled:
            self.reconcile()
        return total

    def forget(self, name: str) -> tuple[str, int]:
        """Removes `name` here and from the synced profile, wherever it was enrolled (whatever the setting:
        removing is never sharing). Returns the name as it was, and how many synced samples went."""
        state = self.local.state()
        found = KnownFaces.find(state.people, name)
        keys = synced.keys_of(self.replica.doc, name)
        if found is None and not keys:
            raise UnknownFace(f"nobody called {name!r} is enrolled", hint="companion faces list")
        named = [e["name"] for k, e in synced.read(self.replica.doc)[0].items() if k in keys]
        removed = found or (named[0] if named else " ".join(name.split()))
        removed_synced = synced.remove_samples(self.replica.doc, keys)
        self._seen = synced.all_keys(self.replica.doc)
        if found is not None:
            del state.people[found]
        prefix = synced.name_key(name) + "\t"
        published = {k for k in state.published if not k.startswith(prefix)}
        self.local.save(LocalFaces(state.people, state.replica, published))
        return removed, removed_synced

    def others(self) -> dict[str, int]:
        """Synced samples by name that this hub did not enrol (what `faces list` shows besides its own)."""
        mine = set(self._keys(self.local.state()))
        counts: dict[str, int] = {}
        for key, entry in self.entries().items():
            if key not in mine:
                counts[entry["name"]] = counts.get(entry["name"], 0) + 1
        return counts

    def recognisable(self, local: dict[str, list[np.ndarray]]) -> dict[str, list[np.ndarray]]:
        """This hub's faces and the well-formed synced ones, by name (one name in any case is one
        person). Reads the replica's document: call it on the thread that owns it (the hub's loop)."""
        known = {name: list(samples) for name, samples in local.items()}
        for entry in self.entries().values():
            name = KnownFaces.find(known, entry["name"]) or entry["name"]
            known.setdefault(name, []).append(np.asarray(entry["embedding"], dtype=np.float64))
        return known

    def entries(self) -> dict[str, dict[str, Any]]:
        """The synced samples a hub can use; every other entry is skipped and logged with a stable code,
        its key and what is wrong, never its numbers. Nothing in the replica can make this raise."""
        if not self.enabled:
            return {}
        try:
            good, skipped = synced.read(self.replica.doc)
        except Exception as err:
            log.warning("faces.synced_unreadable", extra={"code": INVALID, "error": type(err).__name__})
            return {}
        other = [k for k, e in good.items() if e["model"] != RESNET]
        skipped += [f"{k!r}: made by another model" for k in other]
        if skipped:
            log.warning("faces.synced_ignored", extra={"code": INVALID, "skipped": len(skipped), "first": skipped[0]})
        return {k: e for k, e in good.items() if k not in other}

    def _remote_change(self) -> None:
        """A forget made elsewhere reached this hub: its own samples of that person go too."""
        now = synced.all_keys(self.replica.doc)
        removed, self._seen = self._seen - now, now
        if not removed:
            return
        try:
            state = self.local.state()
            gone = {k for k in self._keys(state) if k in removed}
            if gone:
                published = state.published - gone
                self.local.save(LocalFaces(self._without(state, gone), state.replica, published))
                log.info("faces.forgotten_elsewhere", extra={"samples": len(gone)})
        except Exception as err:  # called from inside a sync session: never let it break the link
            _failed(err)

    def _keys(self, state: LocalFaces) -> dict[str, tuple[str, np.ndarray]]:
        return {
            synced.sample_key(name, rounded(s), self.origin): (name, s)
            for name, samples in state.people.items()
            for s in samples
        }

    def _without(self, state: LocalFaces, gone: set[str]) -> dict[str, list[np.ndarray]]:
        people = {
            name: [s for s in samples if synced.sample_key(name, rounded(s), self.origin) not in gone]
            for name, samples in state.people.items()
        }
        return {name: samples for name, samples in people.items() if samples}


def _failed(err: Exception) -> None:
    code = err.code if isinstance(err, CompanionError) else FAILED
    log.warning("faces.sync_failed", extra={"code": code, "error": getattr(err, "message", type(err).__name__)})
