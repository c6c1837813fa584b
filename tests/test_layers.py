"""Layers import inward only (docs/architecture.md): a check that fails when one reaches outward.

integrations -> ingest -> client -> types; server -> services -> engine -> types;
services -> extract -> types (extraction is pure: no server, services, client or engine);
services -> classify (pure Python, imports nothing of lamina). The
client reaches the server in exactly one place, the lazy import of the embedded transport.

Inside services the same holds between its parts: the shared modules at the top (settings, errors,
outbound, limits) import no part; ``store`` (database, storage, signing, cache) imports only the
shared modules; the API services never import the batch package.

Inside the engine, the page pipeline (``engine/pipeline``) imports no reader (the PDF reader,
``images.py``), and ``images.py`` reuses the pipeline, not the PDF reader.
"""

from __future__ import annotations

import ast
import gc
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


def _parse(path: Path) -> ast.Module:
    """``ast.parse`` with the garbage collector paused: on CPython 3.11.7 a finalizer that runs
    while the syntax tree is being built (a collection triggered by its allocations) can upset
    the builder's recursion count and raise "AST constructor recursion depth mismatch" (seen
    once in CI, in a worker process that had run many other tests)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    finally:
        if enabled:
            gc.enable()


def _lamina_imports(path: Path) -> set[str]:
    tree = _parse(path)
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


# Inside lamina.services: for each part, the parts it must never import.
SERVICE_PARTS = ("store", "runtime", "api", "batch", "container")
SERVICE_FORBIDDEN: dict[str, set[str]] = {
    "shared": set(SERVICE_PARTS),
    "store": {"runtime", "api", "batch", "container"},
    "runtime": {"batch", "container"},
    "api": {"batch", "container"},
    "batch": {"container"},
}
# (module, imported part) pairs allowed on purpose.
SERVICE_ALLOWED: set[tuple[str, str]] = set()


def _service_imports(path: Path) -> set[str]:
    tree = _parse(path)
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["lamina", "services"] and len(parts) > 2:
                found.add(parts[2])
    return found


def _service_cases() -> list[tuple[str, Path]]:
    root = SRC / "services"
    cases = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        part = rel.parts[0] if len(rel.parts) > 1 else "shared"
        if part == "shared" and rel.stem in ("container", "__init__"):
            continue
        cases.append((part, path))
    return cases


@pytest.mark.parametrize(("part", "path"), _service_cases(), ids=lambda v: str(v))
def test_service_part_imports_only_inward(part: str, path: Path) -> None:
    rel = path.relative_to(SRC / "services").as_posix()
    bad = {
        p
        for p in _service_imports(path) & SERVICE_FORBIDDEN[part]
        if (rel, p) not in SERVICE_ALLOWED
    }
    assert not bad, f"services/{rel} imports outward parts: {sorted(bad)}"


def test_service_parts_are_the_known_ones() -> None:
    """A new part of services gets a rule here before it gets code."""
    root = SRC / "services"
    parts = {p.name for p in root.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert parts == set(SERVICE_PARTS) - {"container"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_service_modules_import_no_cycle() -> None:
    """No two modules of services import each other, directly or round a loop; imports inside
    functions count too (a lazy import hides a cycle, it does not remove it)."""
    graph: dict[str, set[str]] = {}
    for path in sorted((SRC / "services").rglob("*.py")):
        tree = _parse(path)
        graph[_module_name(path)] = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module.startswith("lamina.services.")
        }
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for dep in sorted(graph.get(name, ())):
            if dep not in graph:
                continue
            if state.get(dep) == 1:
                loop = [*stack[stack.index(dep) :], dep]
                raise AssertionError("import cycle: " + " -> ".join(loop))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


# Inside lamina.engine: the page pipeline is format-independent, so it never imports a reader
# (the PDF reader, or images.py which reads image files and scans), and the image backend reuses
# the pipeline, not the PDF reader. Imports inside functions count; ``if TYPE_CHECKING:`` blocks
# do not (they name types, they load nothing).
_PDF_READER = {"lamina.engine.pdf", "lamina.engine.pdf_text", "lamina.engine.pdf_objects"}
ENGINE_FORBIDDEN: dict[str, set[str]] = {
    "pipeline": _PDF_READER | {"lamina.engine.images", "lamina.engine.backends"},
    "images.py": _PDF_READER,
}


def _runtime_engine_imports(path: Path) -> set[str]:
    """``lamina.engine`` modules ``path`` imports at run time, ``from lamina.engine import x``
    counted as ``lamina.engine.x``."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "lamina.engine":
                found.update(f"lamina.engine.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(_parse(path))
    return {name for name in found if name.startswith("lamina.engine.")}


def _engine_cases() -> list[tuple[str, Path]]:
    root = SRC / "engine"
    return [
        (part, path)
        for part in ENGINE_FORBIDDEN
        for path in sorted(
            root.glob(f"{part}/**/*.py") if (root / part).is_dir() else [root / part]
        )
    ]


@pytest.mark.parametrize(("part", "path"), _engine_cases(), ids=lambda v: str(v))
def test_engine_pipeline_imports_no_reader(part: str, path: Path) -> None:
    assert path.is_file()
    imported = _runtime_engine_imports(path)
    bad = {
        name
        for name in imported
        if any(name == f or name.startswith(f + ".") for f in ENGINE_FORBIDDEN[part])
    }
    assert not bad, f"engine/{path.relative_to(SRC / 'engine').as_posix()} imports {sorted(bad)}"


def test_engine_import_rule_sees_imports() -> None:
    """The rule above reads lazy imports and skips type-only ones (guards the checker itself)."""
    images = _runtime_engine_imports(SRC / "engine" / "images.py")
    assert "lamina.engine.pipeline" in images  # lazy, inside parse_image_file
    assert "lamina.engine.ocr" in images
    model = _runtime_engine_imports(SRC / "engine" / "pipeline" / "model.py")
    assert "lamina.engine.images" not in model  # only under TYPE_CHECKING
