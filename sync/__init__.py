"""Sync of each user's profile and memory between hubs, the cloud and the app (Yjs, via pycrdt).

The server router (`sync.server`) needs FastAPI and is imported on its own by the cloud.
"""

from sync.client import LiveSync, SyncSession, sync_http
from sync.document import PROFILE_FIELDS, SyncedDoc
from sync.errors import SyncError, SyncProtocolError
from sync.replica import Replica
from sync.store import LocalStore

__all__ = [
    "PROFILE_FIELDS",
    "LiveSync",
    "LocalStore",
    "Replica",
    "SyncError",
    "SyncProtocolError",
    "SyncSession",
    "SyncedDoc",
    "sync_http",
]
