"""Timers that outlive the hub process: after a restart, or a crash, every timer is back, due at the
same wall-clock time. A row is deleted before its timer rings or runs its command, so a crash at that
moment loses one alert rather than repeating an action (a wrong action is worse than none)."""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS timers (
    id INTEGER PRIMARY KEY,
    seconds INTEGER NOT NULL,
    due_wall REAL,
    paused_left REAL,
    name TEXT,
    area TEXT,
    command TEXT
)
"""


@dataclass(frozen=True)
class StoredTimer:
    id: int
    seconds: int
    due_wall: float | None  # Unix time it rings at, while running
    paused_left: float | None  # seconds left, while paused
    name: str | None
    area: str | None
    command: str | None


class TimerStore:
    """One small SQLite file; every write is committed before the call returns (WAL, synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # names and commands are the user's: 0600
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(SCHEMA)

    def save(self, timer: StoredTimer) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO timers (id, seconds, due_wall, paused_left, name, area, command)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    timer.id,
                    timer.seconds,
                    timer.due_wall,
                    timer.paused_left,
                    timer.name,
                    timer.area,
                    timer.command,
                ),
            )

    def remove(self, timer_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM timers WHERE id = ?", (timer_id,))

    def load(self) -> list[StoredTimer]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, seconds, due_wall, paused_left, name, area, command FROM timers ORDER BY id"
            ).fetchall()
        return [StoredTimer(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
