"""voice: the hub's STT (Whisper) and TTS (Piper) engines behind HTTP, for thin clients."""

from __future__ import annotations

from cloud.common.service import Service
from cloud.voice.router import router
from cloud.voice.workers import start, stop

service = Service("voice", router, start, stop)
