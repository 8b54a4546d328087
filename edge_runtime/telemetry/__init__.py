"""The hub's telemetry: each voice turn (route, intent, stage latencies, error codes, device outcomes;
what was said only with `telemetry_transcripts`) is recorded in a durable outbox in the hub's data
dir and sent in batches to the cloud's analytics service, which stores each event once by its id.

On by default for a linked hub (`telemetry_enabled` unset), off with `telemetry_enabled=false`.
`companion status` shows the backlog from the outbox file, whether the hub runs or not."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from edge_runtime.identity import HubFiles
from edge_runtime.settings import EdgeSettings
from edge_runtime.telemetry.outbox import Backlog, Outbox, read_backlog
from edge_runtime.telemetry.recorder import TurnRecorder
from edge_runtime.telemetry.sender import Sender, TelemetryError, cloud_events

__all__ = [
    "Backlog",
    "Outbox",
    "Sender",
    "Telemetry",
    "TelemetryError",
    "TurnRecorder",
    "cloud_events",
    "read_backlog",
    "start_telemetry",
    "telemetry_on",
]
log = logging.getLogger("companion.telemetry")
FINAL_FLUSH_S = 2.0  # on the way out, one last try; what does not go waits in the outbox


@dataclass
class Telemetry:
    outbox: Outbox
    recorder: TurnRecorder
    sender: Sender
    task: asyncio.Task[None]

    def attach(self, voice: Any) -> TurnRecorder:
        """Record another pipeline's turns (a WebRTC session's) in the same outbox; `detach()` it at its end."""
        recorder = self.recorder
        return TurnRecorder(self.outbox, recorder.hub_id, transcripts=recorder.transcripts).attach(voice)


def telemetry_on(settings: EdgeSettings, files: HubFiles) -> bool:
    if settings.telemetry_enabled is not None:
        return settings.telemetry_enabled
    return files.credentials(files.hub_credentials) is not None  # by default only for a linked hub


async def start_telemetry(settings: EdgeSettings, voice: Any, stack: AsyncExitStack) -> Telemetry | None:
    """Record `voice`'s turns (a VoiceHub) and send them, until `stack` closes; None when telemetry
    is off or the hub has no identity. Teardown: stop listening (a pending turn is written), one
    last send of at most FINAL_FLUSH_S, close the outbox."""
    from edge_runtime.cloud_client import CloudClient

    files = HubFiles(settings.config_dir, settings.data_dir)
    identity = files.identity()
    if identity is None or not telemetry_on(settings, files):
        return None
    saved = files.credentials(files.hub_credentials) or {}
    client = CloudClient(str(saved.get("url") or settings.cloud_url), files)

    async def token() -> str:
        return await asyncio.to_thread(client.hub_token)  # reads, and refreshes, the credentials file

    try:
        outbox = Outbox(settings.telemetry_db, max_rows=settings.telemetry_max_rows)
    except (OSError, sqlite3.Error) as err:  # the hub runs on without telemetry, and says why
        log.error("telemetry.unavailable", extra={"path": str(settings.telemetry_db), "error": str(err)})
        client.http.close()
        return None
    stack.callback(outbox.close)
    sender = Sender(
        outbox,
        client.base_url,
        token,
        batch=settings.telemetry_batch,
        interval_s=settings.telemetry_interval_s,
        max_backoff_s=settings.telemetry_max_backoff_s,
    )
    stopping = asyncio.Event()
    task = asyncio.create_task(sender.run(stopping))

    async def stop() -> None:
        stopping.set()
        await task
        with contextlib.suppress(TelemetryError, TimeoutError):  # what is not sent waits for the next start
            await asyncio.wait_for(sender.flush(), FINAL_FLUSH_S)
        await sender.close()
        client.http.close()

    stack.push_async_callback(stop)
    recorder = TurnRecorder(outbox, identity.hub_id, transcripts=settings.telemetry_transcripts).attach(voice)
    stack.callback(recorder.detach)
    log.info("telemetry.on", extra={"waiting": len(outbox), "transcripts": settings.telemetry_transcripts})
    return Telemetry(outbox, recorder, sender, task)
