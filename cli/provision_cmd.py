"""`companion hub provision HOST`: configure a new hub over its LAN API with the code it shows,
checking each step; and `hub link --host` / `hub unlink --host` for a hub on another machine."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from cli.common import Context, print_json
from cli.hubs import STATUS_TIMEOUT_S, HubApiError, LanClient, base_url, lan_client, save_hub
from models.errors import CompanionError

err = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
PASSWORD_ENV = "COMPANION_PROVISION_MQTT_PASSWORD"  # never an argument: argv is readable by every user
AskPasswordOpt = Annotated[
    bool, typer.Option("--ask-mqtt-password", help=f"Prompt for the broker password (or set {PASSWORD_ENV}).")
]


class Steps:
    """Runs named steps with a progress line each; records what each found."""

    def __init__(self, quiet: bool) -> None:
        self.done: list[dict[str, Any]] = []
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            disable=quiet,
            transient=False,
        )

    def run(self, name: str, action: Callable[[], str]) -> None:
        task = self.progress.add_task(name, total=1)
        try:
            try:
                detail = action()
            except (KeyError, TypeError, AttributeError) as bad:  # a reply without what a hub sends
                raise HubApiError(
                    f"the hub's reply to '{name}' lacked {bad}",
                    code="HUB_BAD_REPLY",
                    hint="is that address a Companion hub of this version?",
                ) from bad
        except CompanionError as exc:
            self.done.append({"step": name, "status": "fail", "detail": f"[{exc.code}] {exc.message}"})
            self.progress.update(task, description=f"[red]✗[/] {name}: {escape(exc.message)}", completed=1)
            raise
        self.done.append({"step": name, "status": "ok", "detail": detail})
        self.progress.update(task, description=f"[green]✓[/] {name}: {escape(str(detail))}", completed=1)


def provision(
    ctx: typer.Context,
    host: Annotated[str, typer.Argument(help="The hub: HOST, HOST:PORT or http://HOST:PORT.")],
    code: Annotated[str, typer.Option("--code", prompt="Setup code shown by the hub", help="Its 6 digits.")],
    name: Annotated[str | None, typer.Option(help="What to call the hub.")] = None,
    room: Annotated[str | None, typer.Option(help="The room it stands in.")] = None,
    locale: Annotated[str | None, typer.Option(help="Language of speech and replies: en, de, en-GB...")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA name, e.g. Europe/Berlin.")] = None,
    wake_word: Annotated[str | None, typer.Option(help="hey_jarvis, alexa, hey_mycroft, hey_rhasspy.")] = None,
    mqtt_url: Annotated[str | None, typer.Option(help="The broker: mqtt://host:1883 or mqtts://...")] = None,
    mqtt_username: Annotated[str | None, typer.Option(help="Broker user.")] = None,
    ask_mqtt_password: AskPasswordOpt = False,
    cloud_url: Annotated[str | None, typer.Option(help="The cloud the hub will link to.")] = None,
    app_name: Annotated[str, typer.Option(help="How this CLI appears in the hub's app list.")] = "companion CLI",
    as_json: JsonOpt = False,
) -> None:
    """Pair with a new hub using its setup code, configure it, and check each step."""
    url = base_url(host)
    mqtt_password = os.environ.get(PASSWORD_ENV) or None
    if ask_mqtt_password and mqtt_password is None:
        mqtt_password = typer.prompt("Broker password", hide_input=True)
    if mqtt_url and "@" in mqtt_url.split("//", 1)[-1].split("/", 1)[0]:
        raise HubApiError(
            "put the broker's user and password in --mqtt-username and the password prompt, not in the URL",
            code="PROVISION_SECRET_IN_URL",
        )
    wanted: dict[str, Any] = {
        "hub_name": name,
        "room": room,
        "timezone": timezone,
        "wake_word": wake_word,
        "mqtt_url": mqtt_url,
        "mqtt_username": mqtt_username,
        "mqtt_password": mqtt_password,
        "cloud_url": cloud_url,
        "language": locale.split("-")[0].split("_")[0].lower() if locale else None,
    }
    wanted = {k: v for k, v in wanted.items() if v is not None}
    steps = Steps(quiet=as_json)
    found: dict[str, Any] = {"url": url}
    bare = LanClient(url, None)

    def reach() -> str:
        health = bare.call("GET", "/health")
        found.update(hub_id=health["hub_id"], name=health["name"])
        return f"{health['name']} ({health['hub_id']})"

    def pair() -> str:
        paired = bare.call("POST", "/v1/pairing", json={"code": code.replace(" ", ""), "name": app_name})
        save_hub(ctx.obj, url, {"token": paired["token"], "hub_id": paired["hub_id"], "app_id": paired["app"]["id"]})
        found["token"] = paired["token"]
        return f"paired as app {paired['app']['id']}; token saved (0600)"

    def configure(lan: LanClient) -> str:
        if not wanted:
            return "nothing to change"
        answer = lan.call("PATCH", "/v1/settings", json=wanted)
        found["restart_required"] = answer["restart_required"]
        overridden = answer.get("overridden_by_environment") or []
        if overridden:
            raise HubApiError(
                f"saved, but the hub's environment overrides {', '.join(overridden)}",
                code="PROVISION_OVERRIDDEN",
                hint="remove "
                + ", ".join(f"COMPANION_{k.upper()}" for k in overridden)
                + " from the hub's environment, then restart it",
            )
        found["warnings"] = answer.get("warnings") or []
        return "set " + ", ".join(answer["changed"])

    def verify(lan: LanClient) -> str:
        shown = lan.call("GET", "/v1/settings")
        for key, value in wanted.items():
            ok = shown["mqtt_password_set"] if key == "mqtt_password" else shown.get(key) == value
            if not ok:
                raise HubApiError(f"the hub did not keep {key}", code="PROVISION_NOT_APPLIED")
        return f"{len(wanted)} settings read back"

    def check(lan: LanClient, which: str) -> str:
        results = {r["check"]: r for r in lan.call("GET", "/v1/status", timeout=STATUS_TIMEOUT_S)}
        result = results.get(which)
        if result is None or result["status"] == "fail":
            detail = result["detail"] if result else "no result"
            raise HubApiError(
                f"the hub's {which} check failed: {detail}",
                code=f"PROVISION_{which.upper()}",
                hint=(result or {}).get("fix") or None,
            )
        return str(result["detail"])

    try:
        with steps.progress:
            steps.run("reach the hub", reach)
            steps.run("pair with the setup code", pair)
            with lan_client(ctx.obj, url, token=found["token"]) as lan:
                steps.run("configure", lambda: configure(lan))
                steps.run("read back", lambda: verify(lan))
                steps.run("hub reaches the broker", lambda: check(lan, "broker"))
                steps.run("hub reaches the cloud", lambda: check(lan, "cloud"))
    except CompanionError as exc:
        if as_json:
            print_json(
                {
                    "hub": _public(found),
                    "steps": steps.done,
                    "ok": False,
                    "error": {"code": exc.code, "message": exc.message, "hint": exc.hint},
                }
            )
            raise typer.Exit(2) from None
        raise
    finally:
        bare.close()
    if as_json:
        print_json({"hub": _public(found), "steps": steps.done, "ok": True})
        return
    for warning in found.get("warnings", []):
        err.print(f"[yellow]note[/] {escape(warning)}")
    if found.get("restart_required"):
        err.print(f"restart the hub to apply: {', '.join(found['restart_required'])}")
    err.print(f"[green]provisioned[/] {found['name']} at {url}; next: `companion hub link --host {host}`")


def _public(found: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in found.items() if k != "token"}


def link_remote(
    ctx: Context, host: str, *, cloud: str | None, approve: bool, name: str | None, as_json: bool, poll_s: float = 1.0
) -> None:
    """The hub starts the device grant itself; we show the code, optionally approve, and wait."""
    from cli.link_cmd import files

    signed_in = files(ctx).credentials(files(ctx).user_credentials) or {}
    with lan_client(ctx, host) as lan:
        body = {k: v for k, v in {"cloud_url": cloud or signed_in.get("url"), "name": name}.items() if v}
        grant = lan.call("POST", "/v1/link", json=body)
        err.print(f"To link the hub, open [bold]{grant['verification_uri']}[/] and enter [bold]{grant['user_code']}[/]")
        if approve:
            from cli.link_cmd import client

            client(ctx, signed_in.get("url")).approve(grant["user_code"])  # never to a cloud the hub names
            err.print("approved with your signed-in account")
        deadline = time.monotonic() + float(grant.get("expires_in", 600)) + 10
        with err.status("waiting for approval…"):
            while True:
                state = lan.call("GET", "/v1/link")
                if state["state"] == "linked":
                    break
                if state["state"] in ("expired", "denied", "error") or time.monotonic() > deadline:
                    code = {"expired": "LINK_EXPIRED", "denied": "LINK_DENIED"}.get(state["state"], "LINK_FAILED")
                    raise HubApiError(
                        state.get("message") or f"linking {state['state']}",
                        code=code,
                        hint="run `companion hub link --host` again",
                    )
                time.sleep(poll_s)
    if as_json:
        print_json(
            {
                "host": base_url(host),
                "linked": True,
                "device_id": state.get("device_id"),
                "cloud": state.get("cloud_url"),
            }
        )
    else:
        err.print(f"[green]linked[/] the hub at {base_url(host)} as device {state.get('device_id')}")


def unlink_remote(ctx: Context, host: str) -> None:
    with lan_client(ctx, host) as lan:
        lan.call("DELETE", "/v1/link")
    err.print(f"unlinked: the cloud no longer accepts the tokens of the hub at {base_url(host)}")
