"""Writes companion.json, the Grafana dashboard for the hub's and the cloud's /metrics.
Run it after changing a panel: `python deploy/grafana/generate.py` (a test checks it is current)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("companion.json")


def panel(title: str, exprs: list[tuple[str, str]], unit: str, x: int, y: int, kind: str = "timeseries") -> Any:
    return {
        "type": kind,
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(65 + i), "expr": e, "legendFormat": legend} for i, (e, legend) in enumerate(exprs)],
    }


def quantile(q: float, series: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by (le, {by}) (rate({series}_bucket[$__rate_interval])))"


PANELS = [
    (
        "Hub: turn latency p50 by stage",
        [(quantile(0.5, "companion_hub_turn_stage_seconds", "stage"), "{{stage}}")],
        "s",
    ),
    (
        "Hub: turn latency p95 by stage",
        [(quantile(0.95, "companion_hub_turn_stage_seconds", "stage"), "{{stage}}")],
        "s",
    ),
    (
        "Hub: turns by route",
        [("sum by (route) (rate(companion_hub_turns_total[$__rate_interval]))", "{{route}}")],
        "ops",
    ),
    (
        "Hub: device commands by outcome",
        [("sum by (outcome) (rate(companion_hub_device_commands_total[$__rate_interval]))", "{{outcome}}")],
        "ops",
    ),
    ("Hub: MQTT connected", [("min by (instance) (companion_hub_mqtt_connected)", "{{instance}}")], "none"),
    (
        "Hub: cloud fallbacks and STT errors",
        [
            ("sum by (code) (rate(companion_hub_cloud_fallbacks_total[$__rate_interval]))", "fallback {{code}}"),
            ("sum by (code) (rate(companion_hub_stt_errors_total[$__rate_interval]))", "stt {{code}}"),
        ],
        "ops",
    ),
    (
        "Hub: LLM tokens/s, event streams, WebRTC",
        [
            ("companion_hub_llm_tokens_per_second", "llm tok/s {{instance}}"),
            ("companion_hub_websockets_open", "event streams {{instance}}"),
            ("companion_hub_webrtc_sessions", "webrtc {{instance}}"),
        ],
        "none",
    ),
    (
        "Sync backlog (hub outbox, cloud uncompacted)",
        [
            ("companion_hub_sync_backlog_updates", "hub {{instance}}"),
            ("companion_sync_backlog_updates", "cloud {{instance}}"),
        ],
        "none",
    ),
    (
        "Cloud: LLM first token p50/p95",
        [
            (quantile(0.5, "companion_llm_first_token_seconds", "upstream"), "p50 {{upstream}}"),
            (quantile(0.95, "companion_llm_first_token_seconds", "upstream"), "p95 {{upstream}}"),
        ],
        "s",
    ),
    (
        "Cloud: LLM tokens/s (median)",
        [(quantile(0.5, "companion_llm_tokens_per_second", "upstream"), "{{upstream}}")],
        "none",
    ),
    (
        "Cloud: upstream fallbacks",
        [
            (
                "sum by (upstream, reason) (rate(companion_llm_fallbacks_total[$__rate_interval]))",
                "{{upstream}} {{reason}}",
            )
        ],
        "ops",
    ),
    (
        "Cloud: DB and Redis errors",
        [
            ("sum by (kind) (rate(companion_db_errors_total[$__rate_interval]))", "db {{kind}}"),
            ("sum(rate(companion_cache_errors_total[$__rate_interval]))", "redis"),
        ],
        "ops",
    ),
    (
        "Cloud: requests by route and status",
        [("sum by (route, status) (rate(companion_http_requests_total[$__rate_interval]))", "{{route}} {{status}}")],
        "reqps",
    ),
    ("Cloud: request latency p95", [(quantile(0.95, "companion_http_request_seconds", "route"), "{{route}}")], "s"),
    ("Cloud: WebSockets open", [("sum by (route) (companion_websockets_open)", "{{route}}")], "none"),
    (
        "Cloud: API key authentication",
        [("sum by (outcome) (rate(companion_api_key_auth_total[$__rate_interval]))", "{{outcome}}")],
        "ops",
    ),
]


def dashboard() -> dict[str, Any]:
    panels = [panel(t, e, u, 12 * (i % 2), 8 * (i // 2)) for i, (t, e, u) in enumerate(PANELS)]
    for i, p in enumerate(panels):
        p["id"] = i + 1
    return {
        "title": "Companion: hub and cloud",
        "uid": "companion-overview",
        "tags": ["companion"],
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}]
        },
        "panels": panels,
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
