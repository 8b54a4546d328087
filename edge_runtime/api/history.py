"""Conversation history for the app: every turn, by voice or text, kept in SQLite (bounded)."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

KEEP = 2000


class History:
    def __init__(self, db: sqlite3.Connection, keep: int = KEEP) -> None:
        self.db = db
        self.keep = keep  # turns per app (and for the hub's own microphone): one app can't flush another's
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS turns (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, "
            "source TEXT NOT NULL, conversation TEXT NOT NULL, text TEXT NOT NULL, reply TEXT NOT NULL, "
            "route TEXT, intent TEXT, actions TEXT NOT NULL DEFAULT '[]')"
        )

    @classmethod
    def open(cls, path: Path) -> History:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # what was said at home: 0600 from the start
        return cls(sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5))

    def add(
        self,
        *,
        source: str,
        conversation: str,
        text: str,
        reply: str,
        route: str | None = None,
        intent: str | None = None,
        actions: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        at = time.time()
        cur = self.db.execute(
            "INSERT INTO turns (at, source, conversation, text, reply, route, intent, actions) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (at, source, conversation, text, reply, route, intent, json.dumps(actions or [], default=str)),
        )
        turn_id = int(cur.lastrowid or 0)
        if turn_id % 100 == 0:
            self._trim()
        return {
            "id": turn_id,
            "at": at,
            "source": source,
            "conversation": conversation,
            "text": text,
            "reply": reply,
            "route": route,
            "intent": intent,
            "actions": actions or [],
        }

    def _trim(self) -> None:
        self.db.execute(
            "DELETE FROM turns WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY "
            "CASE WHEN instr(conversation, ':') > 0 THEN substr(conversation, 1, instr(conversation, ':') - 1) "
            "ELSE conversation END ORDER BY id DESC) AS newest FROM turns) WHERE newest > ?)",
            (self.keep,),
        )

    def recent(
        self,
        *,
        limit: int = 50,
        conversation: str | None = None,
        before: int | None = None,
        visible_to: str | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first; with `visible_to`, only that app's conversations and the hub's own."""
        query = "SELECT id, at, source, conversation, text, reply, route, intent, actions FROM turns WHERE 1=1"
        args: list[Any] = []
        if visible_to is not None:
            prefix = f"{visible_to}:"
            query += " AND (conversation = 'hub' OR substr(conversation, 1, ?) = ?)"
            args += [len(prefix), prefix]
        if conversation:
            query += " AND conversation = ?"
            args.append(conversation)
        if before:
            query += " AND id < ?"
            args.append(before)
        rows = self.db.execute(query + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        keys = ("id", "at", "source", "conversation", "text", "reply", "route", "intent", "actions")
        return [{**dict(zip(keys, r, strict=True)), "actions": json.loads(r[8])} for r in rows]
