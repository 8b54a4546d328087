"""SQLite (WAL) persistence of the device registry: devices survive a restart, offline ones too."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY,
    info TEXT NOT NULL,          -- the discovered device (device_drivers.Device.to_dict)
    user_name TEXT,              -- what the user calls it, when they renamed it
    aliases TEXT NOT NULL DEFAULT '[]',
    area TEXT,
    available INTEGER,           -- 1, 0, or NULL (unknown)
    state TEXT NOT NULL DEFAULT '{}',
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS areas (
    name TEXT PRIMARY KEY,
    floor TEXT
);
"""


class DeviceStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def load(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT id, info, user_name, aliases, area, available, state FROM devices").fetchall()
        return [
            {"id": r[0], "info": json.loads(r[1]), "user_name": r[2], "aliases": json.loads(r[3]), "area": r[4],
             "available": None if r[5] is None else bool(r[5]), "state": json.loads(r[6])}
            for r in rows
        ]  # fmt: skip

    def save_discovered(self, device_id: str, info: dict[str, Any], area_hint: str | None) -> None:
        """Insert or refresh what discovery says; the user's names, aliases and area are kept."""
        self.db.execute(
            "INSERT INTO devices (id, info, area, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET info = excluded.info, updated = excluded.updated",
            (device_id, json.dumps(info), area_hint or None, time.time()),
        )

    def save_many(self, rows: list[tuple[str, dict[str, Any], str | None]]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            for device_id, info, area in rows:
                self.save_discovered(device_id, info, area)

    def save_user(self, device_id: str, *, user_name: str | None, aliases: list[str], area: str | None) -> None:
        self.db.execute(
            "UPDATE devices SET user_name = ?, aliases = ?, area = ?, updated = ? WHERE id = ?",
            (user_name, json.dumps(aliases), area, time.time(), device_id),
        )

    def save_states(self, rows: list[tuple[str, bool | None, dict[str, Any]]]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "UPDATE devices SET available = ?, state = ? WHERE id = ?",
                [(None if a is None else int(a), json.dumps(s), i) for i, a, s in rows],
            )

    def delete(self, device_id: str) -> None:
        self.db.execute("DELETE FROM devices WHERE id = ?", (device_id,))

    def areas(self) -> dict[str, str | None]:
        return dict(self.db.execute("SELECT name, floor FROM areas").fetchall())

    def save_area(self, name: str, floor: str | None) -> None:
        self.db.execute(
            "INSERT INTO areas (name, floor) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET floor = excluded.floor",
            (name, floor),
        )
