"""The layer rules, read from docs/ARCHITECTURE.md and enforced on every module of every package.

The table in the doc is the rule: a change to what may import what is a change to that table.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "models", "device_drivers", "sync", "edge_runtime", "cloud", "cli")


def rules() -> dict[str, set[str]]:
    """`| \\`pkg\\` | \\`a\\`, \\`b\\` |` rows of the doc's layer table; "nothing of ours" is the empty set."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = text.split("<!-- layers -->")[1]
    out: dict[str, set[str]] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.fullmatch(r"`\w+`", cells[0]):
            out[cells[0].strip("`")] = set(re.findall(r"`(\w+)`", cells[1]))
    return out


def imports_of(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, top-level package) of each import in the file, relative ones resolved, nested ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, package if node.level else (node.module or "").split(".")[0]))
    return found


def violations(package: str, allowed: set[str], root: Path = ROOT) -> list[str]:
    bad = []
    for path in sorted((root / package).rglob("*.py")):
        for line, name in imports_of(path, package):
            if name in PACKAGES and name != package and name not in allowed:
                bad.append(f"{path.relative_to(root)}:{line} imports {name}")
    return bad


def test_the_doc_names_every_package_once() -> None:
    assert set(rules()) == set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_layer_rules_hold(package: str) -> None:
    assert violations(package, rules()[package]) == []


def test_a_forbidden_import_is_caught(tmp_path: Path) -> None:
    """The checker itself: an edge_runtime module that imports cloud, and one in models importing sync."""
    for package, line in (("edge_runtime", "from cloud.common import errors\n"), ("models", "import sync.store\n")):
        (tmp_path / package / "sub").mkdir(parents=True)
        (tmp_path / package / "sub" / "mod.py").write_text(f"def f() -> None:\n    {line}")
    assert violations("edge_runtime", {"models", "device_drivers", "sync"}, tmp_path) == [
        "edge_runtime/sub/mod.py:2 imports cloud"
    ]
    assert violations("models", set(), tmp_path) == ["models/sub/mod.py:2 imports sync"]
