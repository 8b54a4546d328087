"""The telemetry outbox: one row per turn record, in SQLite in the hub's data dir, until the cloud
has acknowledged it. A record is written before it counts as recorded (WAL, synchronous=FULL), so
it survives a restart, a `kill -9` or a power cut; it leaves only when the cloud said it holds it.

The outbox is bounded: past `max_rows` the oldest rows are dropped, and counted, so a hub that is
never linked again does not fill its disk. `read_backlog` reads the file without opening it for
writing, for `companion status` while the hub runs or not."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Backlog:
    rows: int  # records waiting for the cloud
    oldest: float | None  # when the oldest waiting one was recorded (Unix time)
    last_sent: float | None  # when the cloud last acknowledged a batch
    sent: int  # records the cloud has acknowledged, in all
    dropped: int  # records dropped unsent because the outbox was full
    rejected: int  # records the cloud refused as invalid (dropped)
    last_error: str | None  # why the last send failed, until one succeeds

    def oldest_age_s(self, now: float | None = None) -> float | None:
        return None if self.oldest is None else max(0.0, (now or time.time()) - self.oldest)


class Outbox:
    def __init__(self, path: Path, *, max_rows: int = 10_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_rows = max_rows
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # transcripts may be in it: 0600 from the start
        self._lock = threading.Lock()
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a recorded turn survives power loss too
        self.db.executescript(SCHEMA)
        self.on_add: list[Callable[[int], None]] = []  # called with the rows waiting, after each add

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def add(self, record: dict[str, Any]) -> bool:
        """Keep one record (it must carry its `event_id`); False if that id is already here."""
        body = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                cur = self.db.execute(
                    "INSERT OR IGNORE INTO outbox (event_id, created, body) VALUES (?, ?, ?)",
                    (str(record["event_id"]), time.time(), body),
                )
                added = cur.rowcount == 1
                rows = self._count()
                if rows > self.max_rows:
                    over = rows - self.max_rows
                    self.db.execute(
                        "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)", (over,)
                    )
                    self._bump("dropped", over)
                    rows = self.max_rows
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        for listener in list(self.on_add):
            listener(rows)
        return added

    def batch(self, limit: int) -> list[dict[str, Any]]:
        """The oldest records waiting, up to `limit`, in the order they were recorded."""
        with self._lock:
            found = self.db.execute("SELECT body FROM outbox ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [json.loads(body) for (body,) in found]

    def ack(self, event_ids: list[str], *, rejected: int = 0) -> None:
        """The cloud holds these (or refused them for good): they leave the outbox."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany("DELETE FROM outbox WHERE event_id = ?", [(i,) for i in event_ids])
                self._bump("sent", len(event_ids) - rejected)
                self._bump("rejected", rejected)
                self._set("last_sent", str(time.time()))
                self.db.execute("DELETE FROM meta WHERE key = 'last_error'")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def failed(self, why: str) -> None:
        with self._lock:
            self._set("last_error", why[:300])

    def backlog(self) -> Backlog:
        with self._lock:
            return _backlog(self.db)

    def __len__(self) -> int:
        with self._lock:
            return self._count()

    def _count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def _bump(self, key: str, by: int) -> None:
        if by:
            self.db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value",
                (key, str(by)),
            )

    def _set(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def read_backlog(path: Path) -> Backlog | None:
    """The backlog of an outbox file, read-only (the hub may hold it open); None if there is none."""
    if not path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0) as db:
            return _backlog(db)
    except sqlite3.Error:
        return None


def _backlog(db: sqlite3.Connection) -> Backlog:
    rows, oldest = db.execute("SELECT count(*), min(created) FROM outbox").fetchone()
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    return Backlog(
        rows=int(rows),
        oldest=float(oldest) if oldest is not None else None,
        last_sent=float(meta["last_sent"]) if "last_sent" in meta else None,
        sent=int(meta.get("sent", 0)),
        dropped=int(meta.get("dropped", 0)),
        rejected=int(meta.get("rejected", 0)),
        last_error=meta.get("last_error"),
    )
