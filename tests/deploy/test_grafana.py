"""The Grafana dashboard in deploy/grafana: current with its generator, and built only on series
the hub and the cloud really export (a renamed metric would leave a panel silently empty)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
_spec = importlib.util.spec_from_file_location("grafana_generate", ROOT / "deploy" / "grafana" / "generate.py")
assert _spec is not None and _spec.loader is not None
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)
EXPORTERS = [ROOT / "edge_runtime" / "metrics.py", ROOT / "cloud" / "common" / "metrics.py"]


def test_dashboard_is_generated_and_uses_only_exported_series() -> None:
    assert generate.OUT.read_text() == generate.render(), "run python deploy/grafana/generate.py"
    board = json.loads(generate.OUT.read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    used = {re.sub(r"_(bucket|total)$", "", m) for e in exprs for m in re.findall(r"companion_[a-z0-9_]+", e)}
    source = "".join(p.read_text() for p in EXPORTERS)
    exported = {m for m in used if f'"{m}"' in source or f'"{m}_total"' in source}
    assert used - exported == set() and len(used) >= 15
    assert any("companion_hub_turn_stage_seconds" in e for e in exprs)
