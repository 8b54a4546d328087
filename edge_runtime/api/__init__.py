"""The hub's LAN API for the app: pairing, devices, asking, history, settings, events, WebRTC."""

from edge_runtime.api.app import create_api
from edge_runtime.api.context import HubContext
from edge_runtime.api.discovery import Advertiser, browse
from edge_runtime.api.events import EventBus
from edge_runtime.api.pairing import PairedApp, PairingError, PairingStore
from edge_runtime.api.server import ApiServer
from edge_runtime.api.voice_events import attach_voice

__all__ = [
    "Advertiser",
    "ApiServer",
    "EventBus",
    "HubContext",
    "PairedApp",
    "PairingError",
    "PairingStore",
    "attach_voice",
    "browse",
    "create_api",
]
