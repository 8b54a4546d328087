"""`companion faces`: enrol the household's faces for "who is at the door?", list them, forget one.

Run on the hub: photos are read here and only their embeddings (128 numbers a photo, dlib's ResNet)
are kept, in <data dir>/faces.json (0600), never a photo and never in the synced profile.
Needs the `faces` extra: pip install 'companion[faces]'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.common import print_json
from common.errors import CompanionError
from edge_runtime.vision.known_faces import KnownFaces

app = typer.Typer(help='Faces the hub can name ("who is at the door?"), kept on the hub.', no_args_is_help=True)
out = Console()
err = Console(stderr=True)


class NoFaceInPhoto(CompanionError):
    code = "FACES_NOT_FOUND"


def _known(ctx: typer.Context) -> KnownFaces:
    return KnownFaces.in_dir(ctx.obj.settings.data_dir)


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
    total = _known(ctx).enroll(name, embeddings)
    out.print(f"Enrolled {escape(name)}: {total} photo{'s' if total != 1 else ''} on this hub.")


@app.command("list")
def list_faces(
    ctx: typer.Context, json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Who is enrolled, and from how many photos."""
    counts = _known(ctx).counts()
    if json_out:
        print_json([{"name": name, "photos": n} for name, n in counts.items()])
        return
    if not counts:
        out.print("Nobody is enrolled yet: companion faces enroll NAME PHOTO...")
        return
    table = Table("name", "photos")
    for name, n in counts.items():
        table.add_row(escape(name), str(n))
    out.print(table)
    if ctx.obj.settings.faces_sync:
        err.print("faces_sync is on, but syncing faces is not built yet: they stay on this hub.")


@app.command()
def forget(ctx: typer.Context, name: str) -> None:
    """Remove a person's face from this hub."""
    removed = _known(ctx).forget(name)
    out.print(f"Forgot {escape(removed)}.")
