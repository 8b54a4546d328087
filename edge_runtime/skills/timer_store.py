"""Timers that outlive the hub process: after a restart, or a crash, every timer is back, due at the
same wall-clock time. A row is deleted before its timer rings or runs its command, so a crash at that
moment loses one alert rather than repeating an action (a wrong action is worse than none)."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("edge.timers")

SCHEMA = """
CREATE TABLE IF NOT EXISTS timers (
    id INTEGER PRIMARY KEY,
    seconds INTEGER NOT NULL,
    due_wall REAL,
    paused_left REAL,
    name TEXT,
    area TEXT,
    command TEXT,
    kind TEXT NOT NULL DEFAULT 'timer'
)
"""
COLUMNS = "id, seconds, due_wall, paused_left, name, area, command, kind"


@dataclass(frozen=True)
class StoredTimer:
    id: int
    seconds: int
    due_wall: float | None  # Unix time it rings at, while running
    paused_left: float | None  # seconds left, while paused
    name: str | None
    area: str | None
    command: str | None
    kind: str = "timer"  # "timer", "alarm" or "reminder"


class TimerStore:
    """One small SQLite file; every write is committed before the call returns (WAL, synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db = _open(path)
        except sqlite3.DatabaseError as err:
            # Not a database (a disk fault, a stray write): kept aside for the user, never deleted;
            # the hub starts with no timers rather than not at all.
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            path.replace(aside)
            log.error(
                "timers.store_corrupt", extra={"code": "TIMER_STORE_CORRUPT", "kept": str(aside), "error": str(err)}
            )
            self._db = _open(path)

    def save(self, timer: StoredTimer) -> None:
        with self._lock:
            self._db.execute(
                f"INSERT OR REPLACE INTO timers ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    timer.id,
                    timer.seconds,
                    timer.due_wall,
                    timer.paused_left,
                    timer.name,
                    timer.area,
                    timer.command,
                    timer.kind,
                ),
            )

    def remove(self, timer_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM timers WHERE id = ?", (timer_id,))

    def load(self) -> list[StoredTimer]:
        with self._lock:
            rows = self._db.execute(f"SELECT {COLUMNS} FROM timers ORDER BY id").fetchall()
        return [StoredTimer(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _open(path: Path) -> sqlite3.Connection:
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # names and commands are the user's: 0600
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(SCHEMA)
        if "kind" not in {row[1] for row in db.execute("PRAGMA table_info(timers)")}:  # a store from before alarms
            db.execute("ALTER TABLE timers ADD COLUMN kind TEXT NOT NULL DEFAULT 'timer'")
        db.execute(f"SELECT {COLUMNS} FROM timers LIMIT 1").fetchall()
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db
