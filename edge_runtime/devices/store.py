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
CREATE TABLE IF NOT EXISTS problems (   -- the last message of each device that could not be read
    device_id TEXT PRIMARY KEY,
    info TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refusals (   -- devices discovery announced and the hub would not take
    source TEXT NOT NULL,
    device_id TEXT NOT NULL,
    info TEXT NOT NULL,          -- edge_runtime.devices.claims.Refusal.to_dict
    last REAL NOT NULL,
    PRIMARY KEY (source, device_id)
);
"""
MAX_REFUSALS = 1000  # an attacker announcing without end fills no disk


class DeviceStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(devices)")}
        if "source" not in columns:  # the discovery topic that announced it, which owns its id
            self.db.execute("ALTER TABLE devices ADD COLUMN source TEXT")

    def close(self) -> None:
        self.db.close()

    def load(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, info, user_name, aliases, area, available, state, source FROM devices"
        ).fetchall()
        return [
            {
                "id": r[0],
                "info": json.loads(r[1]),
                "user_name": r[2],
                "aliases": json.loads(r[3]),
                "area": r[4],
                "available": None if r[5] is None else bool(r[5]),
                "state": json.loads(r[6]),
                "source": r[7],
            }
            for r in rows
        ]

    def save_discovered(
        self, device_id: str, info: dict[str, Any], area_hint: str | None, source: str | None = None
    ) -> None:
        """Insert or refresh what discovery says; the user's names, aliases and area are kept."""
        self.db.execute(
            "INSERT INTO devices (id, info, area, updated, source) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET info = excluded.info, updated = excluded.updated, "
            "source = COALESCE(excluded.source, devices.source)",
            (device_id, json.dumps(info), area_hint or None, time.time(), source),
        )

    def save_many(self, rows: list[tuple[str, dict[str, Any], str | None]] | list[tuple[Any, ...]]) -> None:
        """(id, info, area hint[, source]) rows, in one transaction."""
        with self.db:
            self.db.execute("BEGIN")
            for row in rows:
                self.save_discovered(*row)

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
        self.db.execute("DELETE FROM problems WHERE device_id = ?", (device_id,))

    def save_refusal(self, info: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO refusals (source, device_id, info, last) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(source, device_id) DO UPDATE SET info = excluded.info, last = excluded.last",
            (info["source"], info["device_id"], json.dumps(info), info["last"]),
        )
        self.db.execute(
            "DELETE FROM refusals WHERE rowid NOT IN (SELECT rowid FROM refusals ORDER BY last DESC LIMIT ?)",
            (MAX_REFUSALS,),
        )

    def delete_refusals(self, keys: list[tuple[str, str]]) -> None:
        self.db.executemany("DELETE FROM refusals WHERE source = ? AND device_id = ?", keys)

    def save_problem(self, device_id: str, info: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO problems (device_id, info) VALUES (?, ?)", (device_id, json.dumps(info))
        )

    def delete_problem(self, device_id: str) -> None:
        self.db.execute("DELETE FROM problems WHERE device_id = ?", (device_id,))

    @staticmethod
    def read_problems(path: Path) -> dict[str, dict[str, Any]]:
        """Device id -> its last unreadable message, read without opening the store for writing."""
        if not Path(path).exists():
            return {}
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT device_id, info FROM problems").fetchall()
        except sqlite3.Error:
            return {}
        finally:
            db.close()
        return {device_id: json.loads(info) for device_id, info in rows}

    def refusals(self) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT info FROM refusals ORDER BY last DESC")]

    @staticmethod
    def read_refusals(path: Path) -> list[dict[str, Any]]:
        """For `doctor`, without creating or changing anything (the hub may be running)."""
        if not path.exists():
            return []
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT info FROM refusals ORDER BY last DESC").fetchall()
        except sqlite3.OperationalError:  # a store from before refusals were kept
            return []
        finally:
            db.close()
        return [json.loads(r[0]) for r in rows]

    def areas(self) -> dict[str, str | None]:
        return dict(self.db.execute("SELECT name, floor FROM areas").fetchall())

    def save_area(self, name: str, floor: str | None) -> None:
        self.db.execute(
            "INSERT INTO areas (name, floor) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET floor = excluded.floor",
            (name, floor),
        )
