"""`companion home`: the home this hub belongs to. Hubs of one home share a key: they arbitrate the
wake word (one answers), speak each other's announcements, and stop each other's timers.

`invite` on a hub of the home prints a join token; `join TOKEN` on the new hub makes it a member
(restart its `hub up`). `show` lists the home's hubs the broker knows of."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.common import Context, print_json
from edge_runtime.api.discovery import browse
from edge_runtime.peers import Home, HomeError, Status, home_file, join_home, load_home, read_home

app = typer.Typer(help="The home this hub belongs to: its other hubs and how to add one.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command()
def invite(ctx: typer.Context) -> None:
    """Print the join token for another hub of this home (a secret: share it only with your hubs)."""
    obj: Context = ctx.obj
    home = load_home(home_file(obj.settings.config_dir))
    typer.echo(home.token())
    typer.echo(f"On the other hub: companion home join {home.token()}", err=True)


@app.command()
def join(
    ctx: typer.Context,
    token: Annotated[str, typer.Argument(help="The token `companion home invite` printed on a hub of the home.")],
    force: Annotated[bool, typer.Option("--force", help="Leave the home this hub is in now.")] = False,
) -> None:
    """Make this hub a member of another hub's home (then restart `hub up`)."""
    obj: Context = ctx.obj
    path = home_file(obj.settings.config_dir)
    new = Home.from_token(token)
    current = read_home(path)
    if current is not None and current.home_id != new.home_id and not force:
        raise HomeError(
            f"this hub is already in home {current.home_id}",
            code="HOME_ALREADY_JOINED",
            hint="add --force to leave it for the new one",
        )
    join_home(path, token)
    typer.echo(f"Joined home {new.home_id}. Restart `companion hub up` to meet its other hubs.")


@app.command()
def show(
    ctx: typer.Context,
    wait_s: Annotated[float, typer.Option("--wait", help="Seconds to listen to the broker (and the LAN).")] = 1.0,
    lan: Annotated[bool, typer.Option("--lan", help="Also look for the home's hubs on the LAN (mDNS).")] = False,
    json_out: JsonOpt = False,
) -> None:
    """This home's id and its hubs: those the broker knows of (their last status), and with --lan those
    answering on this network (mDNS), so a hub on another broker shows up."""
    obj: Context = ctx.obj
    home = load_home(home_file(obj.settings.config_dir))
    hubs = {h["hub"]: {**h, "broker": True, "lan": []} for h in _statuses(obj, home, wait_s)}
    if lan:
        for found in asyncio.run(browse(wait_s)):
            if found["properties"].get("home") != home.home_id or not found["hub_id"]:
                continue  # another home's hub: not ours to list
            entry = hubs.setdefault(
                found["hub_id"],
                {"hub": found["hub_id"], "name": found["properties"].get("name"), "room": None, "online": True},
            )
            entry.setdefault("broker", False)
            entry["lan"] = [f"{a}:{found['port']}" for a in found["addresses"]]
    listed = sorted(hubs.values(), key=lambda h: h["hub"])
    if json_out:
        print_json({"home_id": home.home_id, "hubs": listed})
        return
    out.print(f"Home {home.home_id}")
    table = Table("Hub", "Name", "Room", "Online", "On this broker", "On the LAN")
    for hub in listed:
        cells = (hub["hub"], hub["name"] or "", hub["room"] or "", str(hub["online"]), str(hub["broker"]))
        table.add_row(*(escape(c) for c in cells), escape(", ".join(hub["lan"])))
    out.print(table)
    apart = [h["hub"] for h in listed if not h["broker"]]
    if apart:
        err.print(
            f"[yellow]On the LAN but not on this broker: {', '.join(apart)}. Hubs arbitrate the wake word over "
            "the broker: give them all the same COMPANION_MQTT_URL.[/]"
        )


def _statuses(obj: Context, home: Home, wait_s: float) -> list[dict[str, Any]]:
    """The retained statuses on the home's topics, unsealed with its key (a stranger's are skipped)."""
    import paho.mqtt.client as mqtt

    from device_drivers.mqtt_url import BrokerAddress, configure
    from edge_runtime.devices import mqtt_credentials
    from edge_runtime.peers.wire import PeerError, home_filter, unsealed

    settings = obj.settings
    address = BrokerAddress.parse(settings.mqtt_url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"companion-home-{time.monotonic_ns()}")
    configure(client, address, **mqtt_credentials(settings))
    found: dict[str, dict[str, Any]] = {}

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        try:
            message = unsealed(home, msg.topic, bytes(msg.payload))
        except PeerError:
            return
        if isinstance(message, Status):
            found[message.hub] = message.model_dump(include={"hub", "name", "room", "online"})

    client.on_connect = lambda c, *a: c.subscribe(home_filter(home.home_id), qos=1)
    client.on_message = on_message
    try:
        client.connect(address.host, address.port)
    except OSError as err:
        raise HomeError(f"cannot reach the MQTT broker at {address}: {err}", code="MQTT_UNAVAILABLE") from err
    client.loop_start()
    time.sleep(wait_s)
    client.disconnect()
    client.loop_stop()
    return sorted(found.values(), key=lambda h: h["hub"])
