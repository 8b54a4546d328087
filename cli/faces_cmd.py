"""`companion faces`: enrol the household's faces for "who is at the door?", list them, forget one.

Run on the hub: photos are read here and only their embeddings (128 numbers a photo, dlib's ResNet)
are kept, in <data dir>/faces.json (0600), never a photo. They enter the synced profile (name and
embeddings) only with `faces_sync` on; then the household's other hubs with it on name them too, and
`forget` removes a person from every hub. Needs the `faces` extra: pip install 'companion[faces]'.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.common import print_json
from common.errors import CompanionError
from edge_runtime.vision.known_faces import KnownFaces
from edge_runtime.vision.shared_faces import SharedFaces

app = typer.Typer(help='Faces the hub can name ("who is at the door?"), kept on the hub.', no_args_is_help=True)
out = Console()
err = Console(stderr=True)


class NoFaceInPhoto(CompanionError):
    code = "FACES_NOT_FOUND"


SHARED = "shared with your other hubs through the synced profile: they have it after the next sync"


def _known(ctx: typer.Context) -> KnownFaces:
    return KnownFaces.in_dir(ctx.obj.settings.data_dir)


@contextmanager
def _shared(ctx: typer.Context) -> Iterator[SharedFaces | None]:
    """This hub's faces with the synced document, in step with `faces_sync` (on: published; off: this
    hub's withdrawn). None with sharing off and no replica here: then there is nothing to keep in step."""
    from edge_runtime.synced import open_replica

    settings = ctx.obj.settings
    if not settings.faces_sync and not (settings.data_dir / "sync.sqlite3").exists():
        yield None
        return
    replica = open_replica(settings, own_writer=True)  # `hub up` may hold the same replica meanwhile
    try:
        shared = SharedFaces(_known(ctx), replica, enabled=settings.faces_sync)
        shared.reconcile()
        yield shared
    finally:
        replica.store.close()


@app.command()
def enroll(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Who it is, as the hub should say it: 'Alice'.")],
    photos: Annotated[list[Path], typer.Argument(help="Photos of their face (JPEG, PNG); several help.")],
) -> None:
    """Add a person's face from one or more photos (or more photos to someone already enrolled)."""
    import cv2

    from models.faces import FaceRecognizer

    recognizer = FaceRecognizer(ctx.obj.registry)
    embeddings = []
    for photo in photos:
        image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
        if image is None:
            raise NoFaceInPhoto(f"cannot read {photo} as an image", hint="give a JPEG or PNG photo")
        faces = recognizer.faces(image)
        if not faces:
            hint = "use a photo where the face is upright, lit and at least about 80 pixels across"
            raise NoFaceInPhoto(f"no face found in {photo}; nothing was enrolled", hint=hint)
        if len(faces) > 1:
            err.print(f"{escape(str(photo))}: {len(faces)} faces; the largest is taken as {escape(name)}")
        embeddings.append(faces[0].embedding)
    with _shared(ctx) as shared:
        total = shared.enroll(name, embeddings) if shared is not None else _known(ctx).enroll(name, embeddings)
        out.print(f"Enrolled {escape(name)}: {total} photo{'s' if total != 1 else ''} on this hub.")
        if shared is not None and shared.enabled:
            err.print(f"faces_sync is on: {SHARED} (companion sync now).")


@app.command("list")
def list_faces(
    ctx: typer.Context, json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Who is enrolled, and from how many photos."""
    with _shared(ctx) as shared:
        counts = _known(ctx).counts()
        others = shared.others() if shared is not None else {}
    rows: list[dict[str, Any]] = [{"name": name, "photos": n} for name, n in counts.items()]
    for name, n in others.items():  # enrolled on another hub, shared through the synced profile
        row = next((r for r in rows if str(r["name"]).casefold() == name.casefold()), None)
        if row is None:
            rows.append(row := {"name": name, "photos": 0})
        row["other_hubs"] = row.get("other_hubs", 0) + n
    if json_out:
        print_json(rows)
        return
    if not rows:
        out.print("Nobody is enrolled yet: companion faces enroll NAME PHOTO...")
        return
    table = Table("name", "photos", *(["on other hubs"] if others else []))
    for row in rows:
        shared_count = [str(row.get("other_hubs", 0))] if others else []
        table.add_row(escape(str(row["name"])), str(row["photos"]), *shared_count)
    out.print(table)
    if ctx.obj.settings.faces_sync:
        err.print(f"faces_sync is on: the faces enrolled here are {SHARED}.")
    else:
        err.print("faces_sync is off: the faces enrolled here stay on this hub.")


@app.command()
def forget(ctx: typer.Context, name: str) -> None:
    """Remove a person's face from this hub, and from the synced profile (so from every hub) if there."""
    with _shared(ctx) as shared:
        removed, everywhere = shared.forget(name) if shared is not None else (_known(ctx).forget(name), 0)
    out.print(f"Forgot {escape(removed)}.")
    if everywhere:
        err.print("Removed from the synced profile too: your other hubs forget them at their next sync.")
