"""A command that writes to the synced document while `hub up` holds the same replica (`companion
devices edit`, `companion faces`): its writes go as a Yjs client of its own, so neither side's
writes shadow the other's. As one client, the second writer's change reused the first's ids and was
dropped when the replica was read again."""

from __future__ import annotations

from pathlib import Path

from edge_runtime.settings import EdgeSettings
from edge_runtime.synced import open_replica, record_edit
from sync.replica import Replica


def write_both(path: Path, command: Replica) -> dict[str, list[str]]:
    hub = Replica.open(path)
    record_edit(hub, "light.hall", ["hall lamp"], None)
    record_edit(command, "light.desk", ["desk lamp"], "Study")
    record_edit(hub, "light.porch", ["porch lamp"], None)
    return Replica.open(path).doc.device_aliases()


def test_a_command_beside_the_running_hub_keeps_both_sides_writes(tmp_path: Path) -> None:
    settings = EdgeSettings(data_dir=tmp_path)
    open_replica(settings).doc.add_alias("light.kitchen", "cooker light")  # the hub's history so far
    aliases = write_both(tmp_path / "sync.sqlite3", open_replica(settings, own_writer=True))
    assert aliases == {
        "light.kitchen": ["cooker light"],
        "light.hall": ["hall lamp"],
        "light.desk": ["desk lamp"],
        "light.porch": ["porch lamp"],
    }


def test_as_one_client_a_write_is_lost(tmp_path: Path) -> None:
    """Why the command needs a client of its own: the same two writers sharing the hub's id."""
    settings = EdgeSettings(data_dir=tmp_path)
    open_replica(settings).doc.add_alias("light.kitchen", "cooker light")
    aliases = write_both(tmp_path / "sync.sqlite3", open_replica(settings))
    assert "light.desk" not in aliases or "light.porch" not in aliases
