"""The hub's health checks, with the fix for each failure: `companion status | doctor`, and the
LAN API's /v1/status (so an operator can check a hub from another machine)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from edge_runtime.cloud_client import CloudClient
from edge_runtime.identity import HubFiles
from edge_runtime.settings import EdgeSettings
from models.errors import CompanionError
from models.registry import Registry, Status

MIN_FREE_BYTES = 1 << 30
MAX_SKEW_S = 5.0


@dataclass
class Result:
    check: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""


def _identity(settings: EdgeSettings) -> Result:
    found = HubFiles(settings.config_dir, settings.data_dir).identity()
    if found is None:
        return Result("identity", "fail", "no hub identity", "companion hub init")
    return Result("identity", "ok", found.hub_id)


def _models(registry: Registry, deep: bool) -> Result:
    checks = [registry.check(e.id, deep=deep) for e in registry.entries("edge")]
    bad = [c.entry.id for c in checks if c.status in (Status.MISSING, Status.CORRUPT)]
    how = "sha256 verified" if deep else "sizes checked"
    if bad:
        return Result("models", "fail", f"missing or altered: {', '.join(bad)}", "companion models install --force")
    return Result("models", "ok", f"{len(checks)} edge models, {how}")


def _broker(settings: EdgeSettings) -> Result:
    import paho.mqtt.client as mqtt

    from device_drivers.mqtt_url import BrokerAddress, configure

    address = BrokerAddress.parse(settings.mqtt_url)
    probe = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"companion-doctor-{time.monotonic_ns()}")
    password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
    configure(
        probe,
        address,
        username=settings.mqtt_username,
        password=password,
        ca_file=settings.mqtt_ca_file,
        cert_file=settings.mqtt_cert_file,
        key_file=settings.mqtt_key_file,
    )
    outcome: list[str] = []
    probe.on_connect = lambda c, u, f, reason, p: outcome.append(str(reason))
    try:
        probe.connect(address.host, address.port, keepalive=5)
        deadline = time.monotonic() + 3
        while not outcome and time.monotonic() < deadline:
            probe.loop(timeout=0.1)
        probe.disconnect()
    except OSError as err:
        return Result("broker", "fail", f"{address}: {err}", "start the broker, or set COMPANION_MQTT_URL")
    if outcome == ["Success"]:
        return Result("broker", "ok", str(address))
    return Result(
        "broker",
        "fail",
        f"{address}: {outcome[0] if outcome else 'no answer'}",
        "check COMPANION_MQTT_USERNAME / PASSWORD and the broker's ACL",
    )


def device_refusals(settings: EdgeSettings) -> Result:
    """Devices discovery announced and the hub would not take: a reused id, a borrowed or bad topic."""
    from edge_runtime.devices.store import DeviceStore

    refused = DeviceStore.read_refusals(settings.devices_db)
    if not refused:
        return Result("devices", "ok", "no device refused")
    shown = "; ".join(f"{r['code']}: {r['device_id'] or '?'} from {r['source']} ({r['reason']})" for r in refused[:3])
    more = f" and {len(refused) - 3} more" if len(refused) > 3 else ""
    return Result(
        "devices",
        "warn",
        f"{len(refused)} refused: {shown}{more}"[:600],
        "remove the config that should not be there (publish an empty retained message to its topic), "
        "or restrict who may publish discovery topics in the broker's ACL",
    )


def device_problems(settings: EdgeSettings) -> Result:
    """Devices whose messages the hub cannot read: they show no state, and their commands go unconfirmed."""
    from edge_runtime.devices.store import DeviceStore

    problems = DeviceStore.read_problems(settings.devices_db)
    if not problems:
        return Result("device messages", "ok", "every device's messages are readable")
    shown = "; ".join(
        f"{device_id}: {p['code']} on {p['topic']} ({p['payload'][:40]!r}: {p['error'][:80]})"
        for device_id, p in list(problems.items())[:3]
    )
    more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
    return Result(
        "device messages",
        "warn",
        f"{len(problems)} device(s) send messages the hub cannot read: {shown}{more}"[:600],
        "see `companion devices list`; check the device's firmware and its discovery config",
    )


def _cloud(settings: EdgeSettings) -> list[Result]:
    api = cloud_client(settings)
    try:
        health, server_date = api.health()
    except CompanionError as err:
        return [Result("cloud", "fail", err.message, err.hint or "")]
    out = [Result("cloud", "ok" if health.get("status") == "ok" else "warn", f"{api.base_url}: {health.get('status')}")]
    if server_date is not None:
        skew = (datetime.now(UTC) - server_date).total_seconds()
        out.append(
            Result(
                "clock",
                "ok" if abs(skew) <= MAX_SKEW_S else "fail",
                f"{skew:+.1f} s against the cloud",
                "" if abs(skew) <= MAX_SKEW_S else "enable NTP (timedatectl set-ntp true)",
            )
        )
    try:
        me = api.me(api.hub_token())
        out.append(Result("credentials", "ok", f"linked as device {me.get('device_id')}"))
    except CompanionError as err:
        status = "warn" if err.code == "CLOUD_NOT_SIGNED_IN" else "fail"
        out.append(Result("credentials", status, err.message, err.hint or "companion hub link"))
    return out


def telemetry_backlog(settings: EdgeSettings) -> Result:
    """The telemetry outbox, read from its file (the hub may be running or not)."""
    from edge_runtime.telemetry import read_backlog

    found = read_backlog(settings.telemetry_db)
    off = settings.telemetry_enabled is False
    if found is None:
        return Result("telemetry", "ok", "off" if off else "nothing recorded yet")
    age = found.oldest_age_s()
    waiting = f"{found.rows} turn(s) waiting" + (f", the oldest {_ago(age)}" if age is not None else "")
    sent = f"last sent {_ago(time.time() - found.last_sent)}" if found.last_sent else "never sent"
    lost = f"; {found.dropped} dropped (outbox full)" if found.dropped else ""
    lost += f"; {found.rejected} refused by the cloud" if found.rejected else ""
    error = f"; last try: {found.last_error}" if found.last_error and found.rows else ""
    detail = f"{waiting}; {sent} ({found.sent} in all){lost}{error}" + ("; telemetry is off" if off else "")
    stale = found.rows > 0 and (age or 0) > 3600
    fix = "check the cloud link (`companion status` cloud and credentials rows)" if stale else ""
    return Result("telemetry", "warn" if stale or found.dropped else "ok", detail[:600], fix)


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    return f"{seconds / 60:.0f} min ago" if seconds < 7200 else f"{seconds / 3600:.1f} h ago"


def _audio() -> Result:
    try:
        import sounddevice as sd

        devices = sd.query_devices()
    except Exception as err:  # PortAudio missing or broken
        return Result("audio", "warn", f"no audio system: {err}", "apt-get install libportaudio2")
    ins = sum(1 for d in devices if d["max_input_channels"] > 0)
    outs = sum(1 for d in devices if d["max_output_channels"] > 0)
    if ins and outs:
        return Result("audio", "ok", f"{ins} input, {outs} output devices")
    return Result(
        "audio",
        "warn",
        f"{ins} input, {outs} output devices",
        "plug in a microphone and speaker, or use `hub up --wav` / `--stdin`",
    )


def _disk(settings: EdgeSettings) -> Result:
    target = settings.data_dir if settings.data_dir.exists() else settings.data_dir.parent
    while not target.exists():
        target = target.parent
    free = shutil.disk_usage(target).free
    ok = free >= MIN_FREE_BYTES
    return Result(
        "disk",
        "ok" if ok else "fail",
        f"{free / 2**30:.1f} GiB free at {target}",
        "" if ok else "free some space: models and logs need at least 1 GiB",
    )


def run_checks(settings: EdgeSettings, registry: Registry, *, deep: bool) -> list[Result]:
    checks: list[tuple[str, Callable[[], list[Result]]]] = [
        ("identity", lambda: [_identity(settings)]),
        ("models", lambda: [_models(registry, deep)]),
        ("broker", lambda: [_broker(settings)]),
        ("devices", lambda: [device_refusals(settings), device_problems(settings)]),
        ("cloud", lambda: list(_cloud(settings))),
        ("telemetry", lambda: [telemetry_backlog(settings)]),
        ("audio", lambda: [_audio()]),
        ("disk", lambda: [_disk(settings)]),
    ]
    results: list[Result] = []
    for name, check in checks:
        try:
            results += check()
        except Exception as err:  # one broken check is a failed row, never a crashed doctor
            why = err.message if isinstance(err, CompanionError) else f"{type(err).__name__}: {err}"
            fix = (err.hint if isinstance(err, CompanionError) else None) or "run with --log-level DEBUG for details"
            results.append(Result(name, "fail", why, fix))
    return results


def cloud_client(settings: EdgeSettings) -> CloudClient:
    """The cloud this hub is linked to (its saved URL), else the configured one."""
    hub_files = HubFiles(settings.config_dir, settings.data_dir)
    saved = hub_files.credentials(hub_files.hub_credentials) or hub_files.credentials(hub_files.user_credentials) or {}
    return CloudClient(saved.get("url") or settings.cloud_url, hub_files)
