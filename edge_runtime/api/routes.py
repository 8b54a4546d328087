"""The app's REST routes: pairing, paired apps, devices, asking in text, history, settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, SecretStr

from common.wire import is_timezone
from edge_runtime.api.auth import App, Hub, PairLimit
from edge_runtime.api.deps import Devices, HubBrain, Pinned
from edge_runtime.api.pairing import PairingError
from edge_runtime.app_events import TranscriptEvent, decided
from edge_runtime.errors import EdgeError
from edge_runtime.settings import EdgeSettings

router = APIRouter(prefix="/v1")


class PairRequest(BaseModel):
    code: str = Field(pattern=r"^[0-9]{6}$", description="the 6 digits the hub shows")  # \d takes any script
    name: str = Field("app", min_length=1, max_length=64, description="what to call this app in the list")


class AskRequest(BaseModel):
    text: str = Field(min_length=1, max_length=1000)
    conversation: str = Field("default", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")


class SettingsUpdate(BaseModel):
    """What provisioning sets. Secrets are write-only: reading settings never returns them."""

    hub_name: str | None = Field(None, min_length=1, max_length=64)
    room: str | None = Field(None, max_length=64)
    language: str | None = Field(None, pattern=r"^[a-z]{2}$")
    timezone: str | None = Field(None, max_length=64)
    wake_word: str | None = Field(None, pattern=r"^[a-z_]{2,32}$")
    mqtt_url: str | None = Field(
        None,
        pattern=r"^mqtts?://[^@/\s]+/?$",
        max_length=300,
        description="no user:password@ here: credentials are their own fields",
    )
    mqtt_username: str | None = Field(None, max_length=128)
    mqtt_password: SecretStr | None = Field(None, max_length=256)
    cloud_url: str | None = Field(None, pattern=r"^https?://", max_length=300)


@router.get("/pairing", tags=["pairing"], summary="Bootstrap: who this hub is (no token needed)")
async def pairing_info(hub: Hub) -> dict[str, Any]:
    return {
        "hub_id": hub.hub_id,
        "name": hub.settings.hub_name,
        "pairing": "6-digit code",
        "paired_apps": len(hub.pairing.apps()),
    }


@router.post(
    "/pairing",
    tags=["pairing"],
    status_code=201,
    summary="Trade the hub's 6-digit code for this app's token (shown once)",
)
async def pair(body: PairRequest, request: Request, hub: Hub, limiter: PairLimit) -> dict[str, Any]:
    limiter.check(request.client.host if request.client else "unknown")
    paired, token = hub.pairing.pair(body.code, body.name)
    hub.bus.publish("paired", app=paired.id, name=paired.name)
    return {"token": token, "app": paired.to_dict(), "hub_id": hub.hub_id}


@router.get("/apps", tags=["pairing"], summary="Paired apps")
async def apps(hub: Hub, me: App) -> list[dict[str, Any]]:
    return [{**a.to_dict(), "this": a.id == me.id} for a in hub.pairing.apps()]


@router.delete("/apps/{app_id}", tags=["pairing"], summary="Revoke an app's token (this app's too)")
async def revoke(app_id: str, hub: Hub, _: App) -> dict[str, Any]:
    revoked = hub.pairing.revoke(app_id)
    await hub.cut_off(app_id)
    return revoked.to_dict()


@router.get("/devices", tags=["devices"], summary="Every known device with its state")
async def devices(_: App, parts: Devices) -> list[dict[str, Any]]:
    return [rec.to_dict() for rec in parts.registry.listing()]


@router.get("/devices/{ref}", tags=["devices"], summary="One device, by id, name or alias")
async def device(ref: str, _: App, parts: Devices) -> dict[str, Any]:
    return dict(parts.registry.resolve(ref).to_dict())


@router.post(
    "/devices/{ref}", tags=["devices"], summary="Set attributes; answers once the device confirms, or with a code"
)
async def control(ref: str, values: dict[str, Any], _: App, parts: Devices) -> dict[str, Any]:
    if not values or len(values) > 16:
        raise EdgeError('send the attributes to set, e.g. {"on": true}', code="DEVICE_INVALID_COMMAND")
    record = await parts.set(ref, values)
    return {"confirmed": True, "device": record.to_dict()}


@router.post("/ask", tags=["conversation"], summary="Ask in text, as if spoken; the reply comes back here too")
async def ask(body: AskRequest, hub: Hub, me: App, brain: HubBrain) -> dict[str, Any]:
    key = f"{me.id}:{body.conversation}"
    hub.bus.publish_event(TranscriptEvent(text=body.text), conversation=key, source="text")
    result = (await brain.handle(body.text, hub.conversation(key))).to_dict()
    for event in decided(result["route"], result["intent"], result["actions"]):
        hub.bus.publish_event(event, conversation=key, source="text")
    turn = hub.record_turn(source=f"app:{me.id}", conversation=key, text=body.text, result=result)
    return {**result, "turn": turn["id"], "conversation": key}


@router.get("/history", tags=["conversation"], summary="Recent turns by voice and text, newest first")
async def history(
    hub: Hub,
    me: App,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    conversation: Annotated[str | None, Query(max_length=130)] = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> list[dict[str, Any]]:
    return hub.history.recent(limit=limit, conversation=conversation, before=before, visible_to=me.id)


@router.get("/settings", tags=["settings"], summary="The hub's settings (secrets left out)")
async def get_settings(hub: Hub, _: App) -> dict[str, Any]:
    s = hub.settings
    return {
        "hub_id": hub.hub_id,
        "hub_name": s.hub_name,
        "room": s.room,
        "language": s.language,
        "timezone": s.timezone,
        "wake_word": s.wake_word,
        "mqtt_url": s.mqtt_url,
        "mqtt_username": s.mqtt_username,
        "mqtt_password_set": s.mqtt_password is not None,
        "cloud_url": s.cloud_url,
        "ice_servers": s.ice_servers,
    }


@router.patch("/settings", tags=["settings"], summary="Provision: name, room, locale, wake word, MQTT, cloud")
async def patch_settings(body: SettingsUpdate, hub: Hub, _: App, pinned: Pinned) -> dict[str, Any]:
    from edge_runtime.engines import known_wake_words

    changes = body.model_dump(exclude_unset=True)
    if "wake_word" in changes and changes["wake_word"] not in known_wake_words():
        raise EdgeError(
            f"no wake word model '{changes['wake_word']}'",
            code="SETTINGS_UNKNOWN_WAKE_WORD",
            hint=f"one of: {', '.join(known_wake_words())}",
        )
    if changes.get("timezone"):
        _check_timezone(changes["timezone"])
    secret = changes.get("mqtt_password")
    restart = hub.save_settings({**changes, **({"mqtt_password": secret.get_secret_value()} if secret else {})})
    if secret:
        hub.settings = hub.settings.model_copy(update={"mqtt_password": secret})
    if "room" in changes and hub.devices is not None:  # applies at once: "the lights" are the new room's
        hub.devices.registry.home_area = changes["room"]
    hub.bus.publish("settings", changed=sorted(changes))
    # Saved, but the hub's environment wins over the file: say so rather than seem to apply it.
    overridden = sorted(name for name in changes if name in pinned)
    warnings = []
    if changes.get("language"):
        warnings += _speech_warnings(hub.settings, changes["language"])
    return {
        "changed": sorted(changes),
        "restart_required": restart,
        "overridden_by_environment": overridden,
        "warnings": warnings,
        "settings": await get_settings(hub, _),
    }


def _speech_warnings(settings: EdgeSettings, language: str) -> list[str]:
    """Speech follows the hub's language after a restart (a multilingual model for a language
    tiny.en does not hear), unless COMPANION_STT_LANGUAGE pins it."""
    from models.errors import SttError
    from models.registry import Registry, Status, load_overrides
    from models.stt import stt_model_for

    pinned = settings.stt_language or (settings.vosk_language if settings.stt_engine == "vosk" else None)
    if pinned:
        if pinned == language:
            return []
        return [f"speech recognition stays in '{pinned}'; typed requests and replies use '{language}'"]
    registry = Registry(overrides=load_overrides(settings.model_overrides_file))
    try:
        model = stt_model_for(registry, settings.stt_model, language)
    except SttError as err:
        return [f"speech recognition cannot follow: {err.message}"]
    if model == settings.stt_model:
        return []
    note = f"speech recognition switches to '{language}' with {model} after a restart"
    needed = [model, *registry.entry(model).parts]
    if any(registry.check(m, deep=False).status is Status.MISSING for m in needed):
        note += f"; install it first: `companion models install {model}`"
    return [note]


def _check_timezone(name: str) -> None:
    if not is_timezone(name):
        hint = "an IANA name such as Europe/Berlin"
        raise EdgeError(f"unknown timezone '{name}'", code="SETTINGS_UNKNOWN_TIMEZONE", hint=hint)


__all__ = ["PairingError", "router"]
