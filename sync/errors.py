"""Sync errors with stable codes, on the base both tiers share (common.errors)."""

from __future__ import annotations

from common.errors import CompanionError


class SyncError(CompanionError):
    code = "SYNC_ERROR"


class SyncProtocolError(SyncError):
    """A peer sent bytes that are not a sync message or not a Yjs update."""

    code = "SYNC_BAD_MESSAGE"
