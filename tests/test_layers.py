"""Layers import inward only (docs/architecture.md): a check that fails when one reaches outward.

integrations -> ingest -> client -> types; server -> services -> engine -> types;
services -> extract -> types (extraction is pure: no server, services, client or engine);
services -> classify (pure Python, imports nothing of lamina). The
client reaches the server in exactly one place, the lazy import of the embedded transport.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "lamina"

# For each layer, the lamina packages it must never import.
FORBIDDEN: dict[str, set[str]] = {
    "types": {"client", "engine", "server", "services", "cli"},
    "engine": {"client", "server", "services", "cli"},
    "services": {"client", "server", "cli"},
    "server": {"client", "cli"},
    "client": {"engine", "services", "cli"},
    "ingest": {"engine", "server", "services", "cli"},
    "extract": {"client", "engine", "server", "services", "cli", "ingest"},
    "classify": {"client", "engine", "server", "services", "cli", "ingest", "extract"},
}
# (module, imported package) pairs allowed on purpose.
ALLOWED = {("client/_transport.py", "server"), ("client/_base.py", "server")}


def _lamina_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "lamina" and len(parts) > 1:
                found.add(parts[1])
    return found


def _cases() -> list[tuple[str, Path]]:
    return [(layer, path) for layer in FORBIDDEN for path in sorted((SRC / layer).rglob("*.py"))]


@pytest.mark.parametrize(("layer", "path"), _cases(), ids=lambda v: str(v))
def test_module_imports_only_inward(layer: str, path: Path) -> None:
    rel = path.relative_to(SRC).as_posix()
    bad = {pkg for pkg in _lamina_imports(path) & FORBIDDEN[layer] if (rel, pkg) not in ALLOWED}
    assert not bad, f"{rel} imports outward layers: {sorted(bad)}"
