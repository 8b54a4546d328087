"""`companion cameras`: add the hub's cameras, list and show them, and take a snapshot (kept on this
machine: frames never leave the hub unless a camera's owner allows it)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.common import print_json
from edge_runtime.vision import config as cameras_toml
from edge_runtime.vision.config import CameraConfig

app = typer.Typer(help="The hub's cameras: motion, people, codes and text, on the hub.", no_args_is_help=True)
out = Console()
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
    output: Annotated[Path | None, typer.Option("--out", "-o", help="JPEG file to write.")] = None,
) -> None:
    """Take one frame now and save it as a JPEG on this machine."""
    from edge_runtime.vision.sources import grab
    from models.vision_hub import cv2_module

    camera = cameras_toml.find(cameras_toml.load(ctx.obj.settings.config_dir), name)
    frame = grab(camera.source, rtsp_transport=camera.rtsp_transport)
    path = output or Path(f"{camera.slug}-{time.strftime('%Y%m%d-%H%M%S')}.jpg")
    ok, data = cv2_module().imencode(".jpg", frame)
    if not ok:
        raise typer.Exit(1)
    path.write_bytes(bytes(data))
    out.print(f"{path} ({frame.shape[1]}x{frame.shape[0]})")


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
