"""A replica's durable side (hub or app): every update in SQLite before the change is acknowledged.

`updates` is both the local history (replayed at start) and the outbox (local rows the server
has not confirmed). A change made offline survives a restart or a `kill -9`, and is sent when
the link comes back. Confirmed history is merged into one row from time to time.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

from sync.protocol import squash

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS updates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc TEXT NOT NULL,
    data BLOB NOT NULL,
    local INTEGER NOT NULL,      -- 1: made here
    confirmed INTEGER NOT NULL,  -- 1: the server holds it (or it came from the server)
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS updates_outbox ON updates (doc, confirmed);
CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY AUTOINCREMENT, t REAL NOT NULL, doc TEXT NOT NULL,
                                event TEXT NOT NULL, detail TEXT NOT NULL);
"""
COMPACT_AFTER = 200  # confirmed rows; merged into one when more pile up
LOG_KEEP = 1000


class LocalStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # the user's profile and memory: 0600 from the start
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # an acknowledged change survives power loss too
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def client_id(self) -> int:
        """This replica's Yjs client id, the same across restarts (its history is replayed first)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'client_id'").fetchone()
        if row:
            return int(row[0])
        client = random.SystemRandom().randrange(1, 2**32)
        self.db.execute("INSERT INTO meta (key, value) VALUES ('client_id', ?)", (str(client),))
        return client

    def append(self, doc: str, data: bytes, *, local: bool) -> int:
        cur = self.db.execute(
            "INSERT INTO updates (doc, data, local, confirmed, created) VALUES (?, ?, ?, ?, ?)",
            (doc, data, int(local), int(not local), time.time()),
        )
        return int(cur.lastrowid or 0)

    def history(self, doc: str) -> list[bytes]:
        return [r[0] for r in self.db.execute("SELECT data FROM updates WHERE doc = ? ORDER BY id", (doc,))]

    def outbox(self, doc: str) -> list[tuple[int, bytes]]:
        return list(
            self.db.execute(
                "SELECT id, data FROM updates WHERE doc = ? AND local = 1 AND confirmed = 0 ORDER BY id", (doc,)
            )
        )

    def confirm(self, ids: list[int]) -> None:
        """The server acknowledged these outbox rows (it stored them durably)."""
        with self.db:
            self.db.executemany("UPDATE updates SET confirmed = 1 WHERE id = ?", [(i,) for i in ids])

    def compact(self, doc: str, *, keep_under: int = COMPACT_AFTER, erase: bool = False) -> int:
        """Confirmed rows merged into one; unconfirmed rows stay as they are. Returns rows removed.
        `erase`: deleted content must leave the file too (a forgotten face): the freed pages are
        zeroed (secure_delete) and the write-ahead log emptied into the database."""
        rows = list(self.db.execute("SELECT id, data FROM updates WHERE doc = ? AND confirmed = 1 ORDER BY id", (doc,)))
        if len(rows) <= keep_under:
            return 0
        merged = squash(*[r[1] for r in rows])
        if erase:
            self.db.execute("PRAGMA secure_delete = ON")
        with self.db:
            self.db.execute("DELETE FROM updates WHERE doc = ? AND confirmed = 1 AND id <= ?", (doc, rows[-1][0]))
            self.db.execute(
                "INSERT INTO updates (doc, data, local, confirmed, created) VALUES (?, ?, 0, 1, ?)",
                (doc, merged, time.time()),
            )
        if erase:
            self.db.execute("PRAGMA secure_delete = OFF")
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(rows) - 1

    def note(self, doc: str, event: str, **detail: Any) -> None:
        self.db.execute(
            "INSERT INTO log (t, doc, event, detail) VALUES (?, ?, ?, ?)",
            (time.time(), doc, event, json.dumps(detail, default=str)),
        )
        self.db.execute("DELETE FROM log WHERE id <= (SELECT MAX(id) FROM log) - ?", (LOG_KEEP,))

    def log(self, doc: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT t, event, detail FROM log WHERE doc = ? ORDER BY id DESC LIMIT ?", (doc, limit))
        return [{"t": t, "event": e, **json.loads(d)} for t, e, d in rows][::-1]

    def status(self, doc: str) -> dict[str, Any]:
        total, pending, size = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(local = 1 AND confirmed = 0), 0), COALESCE(SUM(LENGTH(data)), 0) "
            "FROM updates WHERE doc = ?",
            (doc,),
        ).fetchone()
        last = self.db.execute("SELECT MAX(t) FROM log WHERE doc = ? AND event = 'synced'", (doc,)).fetchone()[0]
        return {"doc": doc, "updates": total, "pending": pending, "bytes": size, "last_synced": last}
