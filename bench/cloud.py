"""Cloud benchmark: an authenticated, rate-limited endpoint vs a bare FastAPI hello-world, and
chat tokens/s through the gateway vs bare llama.cpp, in the same run.

    make bench-cloud    # or: .venv/bin/python -m bench.cloud [--seconds 10] [--rounds 3] [--runs 1] [--http-only]

With `--runs N`, the HTTP pair (ours, then bare) is measured N times against the same servers;
each run's ratio is printed, and the median run is the figure.

Needs PostgreSQL and Redis on loopback (as the tests do) and `wrk` (Debian: apt-get install wrk).
Prints Markdown tables and writes bench/results/cloud.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import machine, median, table, write_json
from device_drivers.mosquitto import free_port


def wrk(url: str, seconds: int, token: str | None = None) -> dict[str, float]:
    exe = shutil.which("wrk")
    if exe is None:
        raise SystemExit("bench/cloud.py needs wrk: apt-get install wrk")
    args = [exe, "-t1", "-c50", f"-d{seconds}s", "--latency", url]
    if token:
        args[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": ms("50%"), "p99_ms": ms("99%"), "non_2xx": float(non2xx.group(1)) if non2xx else 0.0}


def load() -> float:
    """The 1-minute load average when a run ended: how busy the machine was around it."""
    return float(Path("/proc/loadavg").read_text().split()[0]) if Path("/proc/loadavg").exists() else float("nan")


def serve_hello(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.hello_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    )


def wait_up(url: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def tokens_per_second_ours(url: str, token: str, prompt: str, max_tokens: int) -> tuple[float, int]:
    body = {
        "model": "companion",
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
    }
    count, first, last = 0, 0.0, 0.0
    with httpx.stream(
        "POST", f"{url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as response:
        for line in response.iter_lines():
            if not line.startswith("data: {"):
                continue
            delta = json.loads(line[6:])["choices"][0]["delta"].get("content")
            if delta:
                count += 1
                last = time.perf_counter()
                first = first or last
    return (count - 1) / (last - first) if count > 1 else 0.0, count


def tokens_per_second_bare(llm: Any, prompt_text: str, max_tokens: int) -> tuple[float, int]:
    from cloud.chat.prompting import STOPS

    count, first, last = 0, 0.0, 0.0
    for piece in llm.create_completion(prompt_text, max_tokens=max_tokens, temperature=0, stop=STOPS, stream=True):
        if piece["choices"][0].get("text"):
            count += 1
            last = time.perf_counter()
            first = first or last
    return (count - 1) / (last - first) if count > 1 else 0.0, count


def chat(url: str, token: str, rounds: int, max_tokens: int) -> dict[str, float]:
    from llama_cpp import Llama

    from cloud.chat.prompting import transcript
    from cloud.chat.schemas import Message
    from models.registry import Registry

    question = "Tell me about the history of bread, in a few sentences."
    prompt_text = transcript([Message(role="user", content=question)])
    llm = Llama(model_path=str(Registry().path("llm-gemma3-270m")), n_ctx=2048, n_threads=2, verbose=False)
    tokens_per_second_bare(llm, prompt_text, 8)  # warm up
    ours_tps, bare_tps = [], []
    for _ in range(rounds):
        ours_tps.append(tokens_per_second_ours(url, token, question, max_tokens)[0])
        bare_tps.append(tokens_per_second_bare(llm, prompt_text, max_tokens)[0])
    ours_m, bare_m = median(ours_tps), median(bare_tps)
    return {
        "ours_tokens_per_s": ours_m,
        "bare_tokens_per_s": bare_m,
        "ratio_bare_over_ours": bare_m / ours_m,
        "rounds": rounds,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--runs", type=int, default=1, help="HTTP runs (ours, then bare); the median is the figure")
    parser.add_argument("--http-only", action="store_true", help="only the HTTP figure (no chat, no model)")
    args = parser.parse_args()
    from tests.cloud.server import CloudServer, fresh_database, fresh_redis, signup

    results: dict[str, Any] = {"machine": machine(), "command": "make bench-cloud (.venv/bin/python -m bench.cloud)"}
    with tempfile.TemporaryDirectory() as tmp:
        server = CloudServer(
            Path(tmp) / "cloud",
            services=["auth", "chat"],
            database_url=fresh_database(),
            redis_url=fresh_redis(3),
            rate_limit_per_minute="1000000000",
            log_level="WARNING",
        ).start()
        hello_port = free_port()
        hello = serve_hello(hello_port)
        try:
            wait_up(f"http://127.0.0.1:{hello_port}/hello")
            token = signup(httpx.Client(base_url=server.url))["access_token"]
            runs: list[dict[str, Any]] = []
            for _ in range(max(1, args.runs)):
                ours = wrk(f"{server.url}/v1/models", args.seconds, token)
                bare = wrk(f"http://127.0.0.1:{hello_port}/hello", args.seconds)
                runs.append({"ours": ours, "bare": bare, "ratio_rps": ours["rps"] / bare["rps"], "load": load()})
            middle = sorted(runs, key=lambda run: run["ratio_rps"])[len(runs) // 2]
            results["http"] = {**middle, "runs": runs}
            hello.terminate()
            if not args.http_only:
                results["chat"] = chat(server.url, token, args.rounds, args.max_tokens)
        finally:
            hello.terminate()
            server.stop()

    h, c = results["http"], results.get("chat")
    o, b = h["ours"], h["bare"]
    if len(h["runs"]) > 1:
        rows = [
            [i + 1, run["ours"]["rps"], run["bare"]["rps"], run["ratio_rps"], run["load"]]
            for i, run in enumerate(h["runs"])
        ]
        print(table("HTTP runs", ["run", "ours req/s", "bare req/s", "ratio", "load avg (1 min)"], rows))
        print()
    print(
        table(
            f"HTTP, 50 concurrent clients for {args.seconds} s (wrk, 1 thread)",
            ["endpoint", "req/s", "p50 ms", "p99 ms"],
            [
                ["ours: GET /v1/models (JWT auth + Redis sliding-window limit)", o["rps"], o["p50_ms"], o["p99_ms"]],
                ["bare FastAPI hello-world", b["rps"], b["p50_ms"], b["p99_ms"]],
                ["ratio ours / bare" + (" (median run)" if len(h["runs"]) > 1 else ""), h["ratio_rps"], "", ""],
            ],
        )
    )
    if c is not None:
        print()
        print(
            table(
                "Chat tokens per second (streamed; median of rounds)",
                ["path", "tokens/s"],
                [
                    ["ours: /v1/chat/completions over HTTP (SSE)", c["ours_tokens_per_s"]],
                    ["bare llama.cpp, same model, prompt and settings", c["bare_tokens_per_s"]],
                    ["ratio bare / ours (budget 1.05)", c["ratio_bare_over_ours"]],
                ],
            )
        )
    print(f"\nwrote {write_json('cloud', results)}")


if __name__ == "__main__":
    main()
