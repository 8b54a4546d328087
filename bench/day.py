"""A realistic day (issue #23): `tests/eval/day.yaml`'s household day through the real brain on the
simulated home (real Mosquitto, the real small LLM), once with a cloud that answers and once with the
cloud unreachable. Reports the turns per route, the share handled on the hub, the device commands
the day's notes say should not happen, and any offline reply worse than "I can't do that".

    make bench-day    # or: .venv/bin/python -m bench.day [--offline-only]

Prints Markdown tables and writes bench/results/day.json.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import re
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.common import machine, median, table, write_json
from common.escalation import ReplyDelta, StreamDone
from device_drivers.mosquitto import Mosquitto, free_port
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.escalate import Escalator
from models.llm import LLM
from sync.document import SyncedDoc
from tests.eval.home import home_config, running_home

DAY = Path(__file__).parents[1] / "tests" / "eval" / "day.yaml"
CLOUD_SAYS = "Here is what the cloud knows about that."
OFFLINE = "CLOUD_UNREACHABLE"
TOLERANCE = 1.0  # brightness, percentage, position and degrees: a unit of rounding on the wire


def load_day(path: Path = DAY) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """(the home's state at dawn, the day's turns in order, each with its part and room)."""
    day = yaml.safe_load(path.read_text())
    turns = [
        {"part": part["part"], **turn, "room": turn.get("room", part.get("room"))}
        for part in day["parts"]
        for turn in part["turns"]
    ]
    return day.get("start", {}), turns


def day_home(start: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The evaluation home with the dawn's states (the night light on, the front door unlocked...)."""
    config = copy.deepcopy(home_config())
    by_name = {d["name"]: d for d in config["devices"]}
    for name, state in start.items():
        by_name[name]["state"] = {**by_name[name].get("state", {}), **state}
    return config


def security_devices(config: dict[str, Any]) -> set[str]:
    """Locks, doors, blinds and the alarm: a wrong command on one of them opens the home."""
    return {d["name"] for d in config["devices"] if d["kind"] in ("lock", "cover") or "alarm" in d["name"].lower()}


def _matches(want: Any, got: Any, before: Any) -> bool:
    if want in ("up", "down"):
        if not isinstance(got, int | float) or not isinstance(before, int | float):
            return False
        if want == "up":
            return got > before or got == before >= 100  # already at full: as bright or fast as it goes
        return got < before or got == before <= 1
    if isinstance(want, bool) or not isinstance(want, int | float):
        return bool(got == want)
    return isinstance(got, int | float) and abs(got - want) <= TOLERANCE


def _tells(said: str, key: str, truth: Any) -> bool:
    """Whether a reply says a device's real state: on/off, locked/unlocked, open/closed."""
    words = {"on": {True: "on", False: "off"}, "locked": {True: "locked", False: "unlocked"}}
    word = words[key][truth] if key in words else str(truth)
    return bool(re.search(rf"(?<!un)\b{re.escape(word)}\b", said))


def judge(
    turn: dict[str, Any], before: dict[str, Any], after: dict[str, Any], touched: set[str], reply: str, route: str
) -> dict[str, Any]:
    """The turn's verdict: right, missed (nothing wrong done, the right thing not done or not said)
    or wrong (a device the note did not mean, or the right device set to other values)."""
    act: dict[str, dict[str, Any]] = turn.get("act") or {}
    one_of: list[str] = turn.get("one_of") or []
    allowed = set(act) | set(one_of) | set(turn.get("may") or [])
    wrong = [f"{name}: not meant, now {after.get(name)}" for name in sorted(touched - allowed)]
    missed: list[str] = []
    for name, want in act.items():
        if all(_matches(v, after[name].get(k), before[name].get(k)) for k, v in want.items()):
            continue
        (wrong if name in touched else missed).append(f"{name}: want {want}, now {after[name]}")
    if one_of and not touched & set(one_of):
        missed.append(f"one of {one_of}: untouched")
    if turn["want"] != "act":
        said = reply.strip().lower()
        if not said:
            missed.append("answer: empty")
        elif turn.get("reply_any") and not any(w.lower() in said for w in turn["reply_any"]):
            missed.append(f"answer: want one of {turn['reply_any']}")
        elif turn.get("net") and route != "cloud":
            missed.append("needs the internet: answered on the hub alone")
        elif turn.get("tells") and not _tells(said, turn["tells"][1], after[turn["tells"][0]][turn["tells"][1]]):
            missed.append(f"answer: the {turn['tells'][0]} is {after[turn['tells'][0]]}")
    verdict = "wrong" if wrong else "missed" if missed else "right"
    return {"verdict": verdict, "wrong": wrong, "missed": missed}


async def replay(broker_url: str, workdir: Path, *, llm: LLM | None, cloud: Escalator | None) -> list[dict[str, Any]]:
    """Every turn of the day, in order, on one home that carries its state from turn to turn."""
    start, turns = load_day()
    config = day_home(start)
    outcomes: list[dict[str, Any]] = []
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "devices.sqlite3"
    async with running_home(broker_url, db, llm=llm, cloud=cloud, config=config, doc=SyncedDoc()) as home:
        conversation = Conversation()
        for turn in turns:
            if not turn.get("follow"):
                conversation = Conversation()
            home.devices.registry.home_area = turn["room"]
            before = home.states()
            started = time.perf_counter()
            out: dict[str, Any] = {"part": turn["part"], "say": turn["say"], "want": turn["want"], "crash": None}
            names: set[str] = set()
            try:
                first = result = await home.brain.handle(turn["say"], conversation)
                names |= {a["name"] for a in first.actions}
                if "needs-confirmation" in first.signals and turn.get("confirm"):
                    result = await home.brain.handle("yes", conversation)
                    names |= {a["name"] for a in result.actions}
                out |= {"route": str(first.route), "intent": str(first.intent), "reply": result.reply}
                out |= {"fallback": first.data.get("fallback"), "asked": "needs-confirmation" in first.signals}
            except Exception as err:  # a crash is a result here: the worst reply there is
                out |= {"route": "crash", "intent": "", "reply": "", "fallback": None, "asked": False}
                out["crash"] = f"{type(err).__name__}: {err}"
            out["ms"] = round(1000 * (time.perf_counter() - started), 1)
            after = home.states()
            touched = names | {n for n in after if after[n] != before[n]}
            out["touched"] = {n: after[n] for n in sorted(touched)}
            out |= judge(turn, before, after, touched, out["reply"], out["route"])
            out["security"] = sorted(
                n for n in security_devices(config) if any(w.startswith(n + ":") for w in out["wrong"])
            )
            out["net"] = bool(turn.get("net"))
            outcomes.append(out)
    if cloud is not None:
        await cloud.close()
    return outcomes


def worse_than_cannot(o: dict[str, Any]) -> bool:
    """Offline, a reply is no worse than "I can't do that" unless it crashed, said nothing, did a
    wrong thing, or went to the cloud and came back with anything but the offline answer."""
    escalated_badly = o["route"] == "cloud" and o["fallback"] != OFFLINE
    return bool(o["crash"] or not o["reply"].strip() or o["wrong"] or escalated_badly)


def summarize(outcomes: list[dict[str, Any]], *, offline: bool) -> dict[str, Any]:
    n = len(outcomes)
    routes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    parts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for o in outcomes:
        routes[o["route"]].append(o)
        parts[o["part"]].append(o)

    def count(os: list[dict[str, Any]], verdict: str) -> int:
        return sum(o["verdict"] == verdict for o in os)

    def share(os: list[dict[str, Any]], *, right: bool = False) -> float:
        hub = [o for o in os if o["route"] not in ("cloud", "crash") and (o["verdict"] == "right" or not right)]
        return round(len(hub) / len(os), 4)

    return {
        "turns": n,
        "hub_share": share(outcomes),
        "hub_share_right": share(outcomes, right=True),
        "hub_share_without_internet_questions": share([o for o in outcomes if not o["net"]]),
        "internet_questions": sum(o["net"] for o in outcomes),
        **{v if v != "wrong" else "wrong_turns": count(outcomes, v) for v in ("right", "missed", "wrong")},
        "wrong_actions": sum(len(o["wrong"]) for o in outcomes),
        "wrong_security_actions": sum(len(o["security"]) for o in outcomes),
        "crashes": sum(bool(o["crash"]) for o in outcomes),
        "worse_than_cannot": [o["say"] for o in outcomes if worse_than_cannot(o)] if offline else None,
        "ms_median": median([o["ms"] for o in outcomes]),
        "routes": {
            r: {"turns": len(os), "share": round(len(os) / n, 4)} | {v: count(os, v) for v in ("right", "wrong")}
            for r, os in sorted(routes.items())
        },
        "parts": {p: {"turns": len(os), "hub_share": share(os)} for p, os in parts.items()},
    }


def unreachable_cloud() -> Escalator:
    """A cloud where nothing listens: the internet is down."""
    return Escalator(f"http://127.0.0.1:{free_port()}", "hub", _token, first_reply_s=2.0, total_s=5.0)


def answering_cloud() -> Escalator:
    """A cloud that answers at once (its words are not what is measured here, the routes are)."""
    body = f"data: {ReplyDelta(text=CLOUD_SAYS).model_dump_json()}\n\n"
    body += f"data: {StreamDone(reply=CLOUD_SAYS).model_dump_json()}\n\n"
    sse = {"content-type": "text/event-stream"}
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=body.encode(), headers=sse))
    return Escalator("http://cloud.test", "hub", _token, transport=transport)


async def _token() -> str:
    return "a-token"


def route_table(runs: dict[str, dict[str, Any]]) -> str:
    names = sorted({r for s in runs.values() for r in s["routes"]})
    header = ["route"] + [f"{mode} {col}" for mode in runs for col in ("turns", "share", "right", "wrong")]
    rows = []
    for r in names:
        row: list[Any] = [r]
        for s in runs.values():
            cell = s["routes"].get(r, {"turns": 0, "share": 0.0, "right": 0, "wrong": 0})
            row += [cell["turns"], f"{cell['share']:.1%}", cell["right"], cell["wrong"]]
        rows.append(row)
    return table("A realistic day: turns per route", header, rows)


def _worse_count(s: dict[str, Any]) -> Any:
    return "-" if s["worse_than_cannot"] is None else len(s["worse_than_cannot"])


def summary_table(runs: dict[str, dict[str, Any]]) -> str:
    measures = [
        ("turns", lambda s: s["turns"]),
        ("handled on the hub (no cloud)", lambda s: f"{s['hub_share']:.1%}"),
        ("on the hub and right", lambda s: f"{s['hub_share_right']:.1%}"),
        ("on the hub, internet questions left out", lambda s: f"{s['hub_share_without_internet_questions']:.1%}"),
        ("right outcome", lambda s: f"{s['right']} ({s['right'] / s['turns']:.1%})"),
        ("missed (nothing wrong done)", lambda s: s["missed"]),
        ("wrong actions (devices)", lambda s: s["wrong_actions"]),
        ("wrong actions on locks, doors, blinds, alarm", lambda s: s["wrong_security_actions"]),
        ("crashes", lambda s: s["crashes"]),
        ('offline: worse than "I can\'t do that"', _worse_count),
        ("median turn (ms)", lambda s: f"{s['ms_median']:.0f}"),
    ]
    rows = [[m, *(f(s) for s in runs.values())] for m, f in measures]
    return table("A realistic day: summary", ["measure", *runs], rows)


def failures(outcomes: list[dict[str, Any]]) -> list[str]:
    lines = []
    for o in outcomes:
        if o["verdict"] != "right" or o["crash"]:
            why = "; ".join(o["wrong"] + o["missed"]) or o["crash"]
            said = f"{o['route']}/{o['intent']} -> {o['reply']!r}"
            lines.append(f"- {o['verdict']} [{o['part']}] {o['say']!r}: {said} ({why})")
    return lines


async def run_day(modes: list[str], llm: LLM) -> dict[str, list[dict[str, Any]]]:
    clouds = {"online": answering_cloud, "offline": unreachable_cloud}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in modes:
            broker = Mosquitto(Path(tmp) / f"mosquitto-{mode}").start()  # retained state of its own
            try:
                results[mode] = await replay(broker.url, Path(tmp) / mode, llm=llm, cloud=clouds[mode]())
            finally:
                broker.stop()
    return results


def main() -> None:
    from models.llm import LlamaLLM
    from models.registry import Registry

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline-only", action="store_true", help="only the run with the cloud unreachable")
    args = parser.parse_args()
    llm = LlamaLLM(Registry())
    llm.warm_up()
    modes = ["offline"] if args.offline_only else ["online", "offline"]
    outcomes = asyncio.run(run_day(modes, llm))
    runs = {mode: summarize(os, offline=mode == "offline") for mode, os in outcomes.items()}
    print(route_table(runs), "", summary_table(runs), "", sep="\n")
    for mode, os in outcomes.items():
        print(f"### {mode}: turns not right", *failures(os), "", sep="\n")
    command = ".venv/bin/python -m bench.day" + (" --offline-only" if args.offline_only else "")
    data = {"machine": machine(), "date": str(date.today()), "command": command, "runs": runs, "turns": outcomes}
    print(f"wrote {write_json('day', data)}")


if __name__ == "__main__":
    main()
