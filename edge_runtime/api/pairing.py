"""Pairing: the hub shows a 6-digit code; an app that posts it gets its own token.

State lives in SQLite (0600) in the data directory, so `companion hub pair-code` in another
process makes the code the running hub checks. Tokens are stored as sha256 only. A code is
single-use, expires, and is thrown away after a few wrong guesses, so 6 digits can't be brute-forced.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from models.errors import CompanionError

TOKEN_PREFIX = "cmpa_"


class PairingError(CompanionError):
    code = "PAIRING_FAILED"


@dataclass(frozen=True)
class PairedApp:
    id: str
    name: str
    created: float
    last_used: float | None
    revoked: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "created": self.created,
            "last_used": self.last_used,
            "revoked": self.revoked,
        }


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PairingStore:
    def __init__(self, path: Path, *, code_ttl_s: float = 600, max_failures: int = 5) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created 0600 before SQLite opens it (SQLite gives its WAL files the database's mode).
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS apps (id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT "
            "UNIQUE NOT NULL, created REAL NOT NULL, last_used REAL, revoked REAL)"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS pairing (one INTEGER PRIMARY KEY CHECK (one = 1), code TEXT "
            "NOT NULL, expires REAL NOT NULL, failures INTEGER NOT NULL DEFAULT 0)"
        )
        self.code_ttl_s, self.max_failures = code_ttl_s, max_failures

    def close(self) -> None:
        self.db.close()

    # --- the code

    def current_code(self, *, now: float | None = None) -> tuple[str, float]:
        """The valid code and its expiry, making a new one if there is none."""
        now = time.time() if now is None else now
        row = self.db.execute("SELECT code, expires FROM pairing WHERE one = 1").fetchone()
        if row and row[1] > now:
            return str(row[0]), float(row[1])
        return self.new_code(now=now)

    def new_code(self, *, now: float | None = None) -> tuple[str, float]:
        now = time.time() if now is None else now
        code, expires = f"{secrets.randbelow(1_000_000):06d}", now + self.code_ttl_s
        self.db.execute(
            "INSERT OR REPLACE INTO pairing (one, code, expires, failures) VALUES (1, ?, ?, 0)", (code, expires)
        )
        return code, expires

    def pair(self, code: str, name: str, *, now: float | None = None) -> tuple[PairedApp, str]:
        """Trade the code for a new app token (shown once). Wrong codes count against the code."""
        now = time.time() if now is None else now
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:  # `companion hub pair-code` holds the lock
            raise PairingError("the hub's pairing store is busy", code="PAIRING_BUSY", hint="try again") from err
        try:
            row = self.db.execute("SELECT code, expires, failures FROM pairing WHERE one = 1").fetchone()
            if row is None or row[1] <= now:
                raise PairingError(
                    "there is no pairing code right now",
                    code="PAIRING_NO_CODE",
                    hint="run `companion hub pair-code` on the hub for a new code",
                )
            if not hmac.compare_digest(str(row[0]).encode(), code.encode()):
                failures = int(row[2]) + 1
                if failures >= self.max_failures:
                    self.db.execute("DELETE FROM pairing WHERE one = 1")
                    raise PairingError(
                        "too many wrong codes: this code is no longer valid",
                        code="PAIRING_LOCKED",
                        hint="run `companion hub pair-code` on the hub for a new code",
                    )
                self.db.execute("UPDATE pairing SET failures = ? WHERE one = 1", (failures,))
                raise PairingError(
                    "that is not the hub's code",
                    code="PAIRING_WRONG_CODE",
                    hint=f"{self.max_failures - failures} tries left for this code",
                )
            self.db.execute("DELETE FROM pairing WHERE one = 1")  # single use
            app_id, token = secrets.token_hex(8), TOKEN_PREFIX + secrets.token_urlsafe(32)
            self.db.execute(
                "INSERT INTO apps (id, name, token_hash, created) VALUES (?, ?, ?, ?)",
                (app_id, name, _hash(token), now),
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("COMMIT")  # a failure count or a spent code must stick
            raise
        return PairedApp(app_id, name, now, None, False), token

    # --- tokens

    def authenticate(self, token: str) -> PairedApp:
        row = self.db.execute(
            "SELECT id, name, created, last_used, revoked FROM apps WHERE token_hash = ?", (_hash(token),)
        ).fetchone()
        if row is None:
            raise PairingError("unknown app token", code="TOKEN_INVALID", hint="pair the app again")
        if row[4] is not None:
            raise PairingError("this app's token has been revoked", code="TOKEN_REVOKED", hint="pair the app again")
        now = time.time()
        if row[3] is None or now - row[3] > 60:  # write at most once a minute per app
            self.db.execute("UPDATE apps SET last_used = ? WHERE id = ?", (now, row[0]))
        return PairedApp(row[0], row[1], row[2], row[3], False)

    def apps(self, *, include_revoked: bool = False) -> list[PairedApp]:
        rows = self.db.execute("SELECT id, name, created, last_used, revoked FROM apps ORDER BY created").fetchall()
        found = [PairedApp(r[0], r[1], r[2], r[3], r[4] is not None) for r in rows]
        return found if include_revoked else [a for a in found if not a.revoked]

    def revoke(self, app_id: str) -> PairedApp:
        row = self.db.execute("SELECT id FROM apps WHERE id = ?", (app_id,)).fetchone()
        if row is None:
            raise PairingError(f"no paired app {app_id}", code="APP_UNKNOWN", hint="see `companion hub apps`")
        self.db.execute("UPDATE apps SET revoked = COALESCE(revoked, ?) WHERE id = ?", (time.time(), app_id))
        return next(a for a in self.apps(include_revoked=True) if a.id == app_id)
