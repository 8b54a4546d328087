"""`companion cameras`: add the hub's cameras, list and show them, take a snapshot (kept on this
machine: frames never leave the hub unless a camera's owner allows it), and watch a running hub's
camera events live (cli/cameras_watch.py)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.common import Context, print_json
from cli.hubs import HubApiError
from edge_runtime.vision import config as cameras_toml
from edge_runtime.vision.config import CameraConfig

app = typer.Typer(help="The hub's cameras: motion, people, codes and text, on the hub.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _zone(text: str) -> list[float]:
    try:
        zone = [float(v) for v in text.split(",")]
    except ValueError as err:
        raise typer.BadParameter(f"{text!r}: a zone is x,y,width,height, each 0..1") from err
    if len(zone) != 4:
        raise typer.BadParameter(f"{text!r}: a zone is x,y,width,height, each 0..1")
    return zone


@app.command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What you call it: 'front door', 'garage'.")],
    source: Annotated[str, typer.Argument(help="http:// MJPEG or rtsp:// URL, device:0, or a folder of images.")],
    room: Annotated[str | None, typer.Option(help="The room it watches.")] = None,
    zone: Annotated[list[str] | None, typer.Option(help="A motion zone x,y,w,h (fractions); repeatable.")] = None,
    sensitivity: Annotated[float, typer.Option(help="Motion sensitivity, 0..1.")] = 0.5,
    hold: Annotated[float, typer.Option(help="Seconds motion stays on after the last movement.")] = 10.0,
    fps: Annotated[float, typer.Option(help="Frames a second the detectors look at.")] = 5.0,
    motion: Annotated[bool, typer.Option(help="Look for motion.")] = True,
    people: Annotated[bool, typer.Option(help="Look for people (costs CPU: see docs/VISION.md).")] = False,
    check: Annotated[bool, typer.Option(help="Take one frame first, to be sure the camera answers.")] = False,
    rtsp_udp: Annotated[bool, typer.Option("--rtsp-udp", help="RTSP with RTP over UDP (default: TCP).")] = False,
    snapshots: Annotated[bool, typer.Option(help="Keep a JPEG on the hub at each motion and person event.")] = True,
    snapshot_keep: Annotated[int | None, typer.Option(help="At most this many kept (default: [snapshots]).")] = None,
    snapshot_max_age_days: Annotated[
        float | None, typer.Option(help="None kept longer (default: [snapshots]).")
    ] = None,
) -> None:
    """Add a camera (or replace the one with this name) in <config dir>/cameras.toml."""
    camera = CameraConfig(
        name.strip(),
        source,
        room=room,
        fps=fps,
        motion=motion,
        sensitivity=sensitivity,
        hold_s=hold,
        zones=[_zone(z) for z in zone or []],
        people=people,
        rtsp_transport="udp" if rtsp_udp else "tcp",
        snapshots=snapshots,
        snapshot_keep=snapshot_keep,
        snapshot_max_age_days=snapshot_max_age_days,
    ).check()
    if check:
        from edge_runtime.vision.sources import grab

        grab(camera.source, rtsp_transport=camera.rtsp_transport)
    cameras = cameras_toml.add(ctx.obj.settings.config_dir, camera)
    out.print(f"Added the {escape(camera.name)} camera ({len(cameras)} in all). `companion hub up` watches it.")


@app.command("list")
def list_cameras(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """The configured cameras (sources without their passwords)."""
    cameras = cameras_toml.load(ctx.obj.settings.config_dir)
    if json_out:
        print_json([c.public() for c in cameras])
        return
    if not cameras:
        out.print("No cameras yet: companion cameras add NAME SOURCE")
        return
    table = Table("name", "room", "source", "motion", "zones")
    for c in cameras:
        zones = str(len(c.zones)) if c.zones else "all"
        table.add_row(
            escape(c.name), escape(c.room or ""), escape(c.public()["source"]), "on" if c.motion else "off", zones
        )
    out.print(table)


@app.command()
def show(ctx: typer.Context, name: str, json_out: JsonOpt = False) -> None:
    """One camera's settings, and whether it gives a frame now (its size, and how long that took)."""
    camera = cameras_toml.find(cameras_toml.load(ctx.obj.settings.config_dir), name)
    info: dict[str, Any] = camera.public()
    info.update(_probe(camera))
    if json_out:
        print_json(info)
        return
    for key, value in info.items():
        out.print(f"[bold]{key}[/bold]: {escape(str(value))}")


@app.command()
def snapshot(
    ctx: typer.Context,
    name: str,
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="JPEG file to write (default: the hub's snapshots).")
    ] = None,
) -> None:
    """Take one frame now and save it as a JPEG on this machine: in the hub's snapshots folder (within
    its retention limit), or at --out."""
    from edge_runtime.vision.snapshots import SnapshotStore
    from edge_runtime.vision.sources import grab
    from models.vision_hub import cv2_module

    settings = ctx.obj.settings
    cameras = cameras_toml.load(settings.config_dir)
    camera = cameras_toml.find(cameras, name)
    frame = grab(camera.source, rtsp_transport=camera.rtsp_transport)
    ok, data = cv2_module().imencode(".jpg", frame)
    if not ok:
        raise typer.Exit(1)
    if output is None:
        store = SnapshotStore.for_cameras(settings.data_dir, cameras_toml.load_retention(settings.config_dir), cameras)
        path = store.write(camera.slug, bytes(data), "snapshot")
    else:
        path = output
        path.write_bytes(bytes(data))
    out.print(f"{path} ({frame.shape[1]}x{frame.shape[0]})", soft_wrap=True, markup=False)


def _probe(camera: CameraConfig) -> dict[str, Any]:
    from common.errors import CompanionError
    from edge_runtime.vision.sources import grab

    started = time.perf_counter()
    try:
        frame = grab(camera.source, attempts=1, rtsp_transport=camera.rtsp_transport)
    except CompanionError as err:
        return {"state": "unavailable", "error": err.message}
    ms = round(1000 * (time.perf_counter() - started), 1)
    return {"state": "online", "width": int(frame.shape[1]), "height": int(frame.shape[0]), "first_frame_ms": ms}


@app.command()
def watch(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this camera's events.")] = None,
    host: Annotated[
        str | None, typer.Option("--host", help="A provisioned hub on another machine (default: this one's).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
) -> None:
    """Follow a running hub's camera events live (motion, people, a camera gone or back); Ctrl-C stops."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
    from websockets.sync.client import connect

    url, token, local = _hub(ctx.obj, host)
    token, cameras = _cameras(ctx.obj, url, token, local)
    names = {cameras_toml.slug(c["name"]): c["name"] for c in cameras}
    wanted = cameras_toml.slug(name) if name else None
    if wanted is not None and wanted not in names:
        known = ", ".join(names.values()) or "none"
        raise cameras_toml.CameraNotFound(f"the hub has no camera named {name!r} (cameras: {known})")
    which = names[wanted] if wanted else f"{len(names)} camera{'' if len(names) == 1 else 's'}"
    err.print(f"watching {escape(which)} on {url}; Ctrl-C stops", soft_wrap=True)
    ws_url = "ws" + url.removeprefix("http") + "/v1/events"
    try:
        with connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10) as ws:
            for message in ws:
                ev = json.loads(message)
                if ev.get("type") == "camera" and (wanted is None or cameras_toml.slug(ev["camera"]) == wanted):
                    _print_event(ev, json_out)
            raise HubApiError(f"the hub at {url} stopped", code="HUB_GONE", hint=_START)
    except KeyboardInterrupt:
        return
    except ConnectionClosed as closed:
        if closed.rcvd is not None and closed.rcvd.code == 4401:
            reason = closed.rcvd.reason or "TOKEN_INVALID"
            raise HubApiError(f"the hub refused this CLI ({reason})", code=reason, hint=_REFUSED) from closed
        raise HubApiError(f"the hub at {url} closed the event stream", code="HUB_GONE", hint=_START) from closed
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as failed:
        code, hint = ("HUB_NOT_RUNNING", _START) if local else ("HUB_UNREACHABLE", _THERE)
        raise HubApiError(f"cannot reach the hub at {url} ({type(failed).__name__})", code=code, hint=hint) from failed


_START = "start it with `companion hub up`"
_THERE = "is `companion hub up` running there, with COMPANION_API_HOST=0.0.0.0?"
_REFUSED = "its owner may have revoked this CLI (`companion hub apps`); provision it again to watch"
_CLI_APP = "companion CLI (cameras watch)"


def _hub(ctx: Context, host: str | None) -> tuple[str, str | None, bool]:
    """The hub's URL, this CLI's saved app token for it, and whether it is this machine's own hub
    (found through the api.json a running `hub up` writes, and its pid)."""
    from cli.hubs import base_url, saved_hubs
    from edge_runtime.api.server import running_api

    if host is not None:
        url = base_url(host)
        token = saved_hubs(ctx).get(url, {}).get("token")
        if token is None:
            hint = f"companion hub provision {host} --code CODE"
            raise HubApiError(f"this CLI has not provisioned {url}", code="HUB_NOT_PROVISIONED", hint=hint)
        return url, str(token), False
    settings = ctx.settings
    running = running_api(settings.data_dir)
    if running is None or not _alive(running.get("pid")):
        raise HubApiError("the hub is not running on this machine", code="HUB_NOT_RUNNING", hint=_START)
    address = str(running.get("host") or "127.0.0.1")
    address = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(address, address)
    if ":" in address and not address.startswith("["):
        address = f"[{address}]"
    url = f"{'https' if settings.api_tls_cert_file else 'http'}://{address}:{running['port']}"
    token = saved_hubs(ctx).get(url, {}).get("token")
    return url, None if token is None else str(token), True


def _alive(pid: object) -> bool:
    import os

    if not isinstance(pid, int):
        return True  # an api.json without a pid: let the connection tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pair_here(ctx: Context, url: str) -> str:
    """This CLI paired with the hub on this machine through the hub's own pairing store, as `hub
    pair-code` reads it (the code shown then is used up), its token saved in hubs.toml (0600)."""
    from cli.hubs import save_hub
    from cli.pair_cmd import store

    pairing = store(ctx)
    try:
        code, _ = pairing.current_code()
        paired, token = pairing.pair(code, _CLI_APP)
    finally:
        pairing.close()
    save_hub(ctx, url, {"token": token, "app_id": paired.id, "name": ctx.settings.hub_name})
    return token


def _cameras(ctx: Context, url: str, token: str | None, local: bool) -> tuple[str, list[dict[str, Any]]]:
    """The hub's cameras (which also proves the token); on this machine, a token the hub no longer
    knows (its data was reset) is replaced by pairing again, once. A revoked one is not."""
    from cli.hubs import LanClient

    for attempt in (1, 2):
        if token is None:
            token = _pair_here(ctx, url)
        lan = LanClient(url, token)
        try:
            return token, list(lan.call("GET", "/v1/cameras"))
        except HubApiError as failed:
            if local and failed.code == "HUB_UNREACHABLE":
                raise HubApiError(failed.message, code="HUB_NOT_RUNNING", hint=_START) from failed
            if not (local and failed.code == "TOKEN_INVALID" and attempt == 1):
                raise
            token = None
        finally:
            lan.close()
    raise AssertionError("unreachable")


def _print_event(ev: dict[str, Any], as_json: bool) -> None:
    if as_json:
        line = json.dumps(ev, separators=(",", ":"))
    else:
        at = time.strftime("%H:%M:%S", time.localtime(float(ev.get("at") or time.time())))
        line = f"{at}  {ev['camera']}  {ev['kind']}  {ev['text']}"
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
