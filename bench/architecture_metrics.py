"""Measures the shape of the service layer and the server (issue #14): a plain script, no tests.

Prints, for ``src/lamina/services`` and ``src/lamina/server`` (or the packages named with
``--layers``, e.g. ``--layers engine``):

- lines per module (and the modules over 400 lines),
- functions longer than 60 lines,
- functions annotated ``-> dict[str, Any]``,
- routes declared with ``response_model=None``,
- places that read the raw parse configuration (a stored ``configuration`` mapping read by key,
  or a ``ParseConfiguration`` rebuilt from a raw mapping), counted over all of ``src/lamina``,
- SQL run outside ``services/store/`` (the SQL layer): ``.execute(`` calls per module.

Run: ``python bench/architecture_metrics.py [--list] [--layers engine ...]`` from the repository
root.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "lamina"
LAYERS = ("services", "server")
LONG_FUNCTION = 60
LONG_MODULE = 400
RAW_CONFIG = re.compile(  # a subscript (``row["configuration"]``), not a list of one name
    r"""(?<=[\w)\]])\[["']configuration["']\]|\.get\(["']configuration["']"""
    r"""|ParseConfiguration\.model_validate\("""
)
INLINE_SQL = re.compile(r"\.execute\(")


def _modules(layers: tuple[str, ...] = LAYERS) -> list[Path]:
    return [p for layer in layers for p in sorted((SRC / layer).rglob("*.py"))]


def _rel(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def main() -> None:
    """Print the measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list every long function too")
    parser.add_argument(
        "--layers", nargs="+", default=list(LAYERS), help="packages of src/lamina to measure"
    )
    args = parser.parse_args()
    layers = tuple(args.layers)

    modules = _modules(layers)
    lines = {m: len(m.read_text(encoding="utf-8").splitlines()) for m in modules}
    long_functions: list[tuple[str, str, int]] = []
    dict_returns = 0
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for fn in _functions(tree):
            length = (fn.end_lineno or fn.lineno) - fn.lineno + 1
            if length > LONG_FUNCTION:
                long_functions.append((_rel(module), fn.name, length))
            if fn.returns is not None and ast.unparse(fn.returns) == "dict[str, Any]":
                dict_returns += 1
    response_none = sum(m.read_text(encoding="utf-8").count("response_model=None") for m in modules)
    raw_config: dict[str, int] = {}
    for path in sorted(SRC.rglob("*.py")):
        hits = len(RAW_CONFIG.findall(path.read_text(encoding="utf-8")))
        if hits:
            raw_config[_rel(path)] = hits
    inline_sql: dict[str, int] = {}
    for module in modules:
        if _rel(module).startswith("services/store/"):  # the SQL layer itself
            continue
        hits = len(INLINE_SQL.findall(module.read_text(encoding="utf-8")))
        if hits:
            inline_sql[_rel(module)] = hits

    for layer in layers:
        mine = [m for m in modules if _rel(m).startswith(layer + "/")]
        total = sum(lines[m] for m in mine)
        print(
            f"{layer}/: {len(mine)} modules, {total} lines, largest {max(lines[m] for m in mine)}"
        )
    print(f"modules over {LONG_MODULE} lines:")
    for module in sorted(modules, key=lambda m: -lines[m]):
        if lines[module] > LONG_MODULE:
            print(f"  {lines[module]:5d} {_rel(module)}")
    print(f"functions over {LONG_FUNCTION} lines: {len(long_functions)}")
    if args.list:
        for rel, name, length in sorted(long_functions, key=lambda f: -f[2]):
            print(f"  {length:4d} {rel}:{name}")
    print(f"'-> dict[str, Any]' returns in {'+'.join(layers)}: {dict_returns}")
    print(f"response_model=None: {response_none}")
    print(f"raw parse-configuration reads in src/lamina: {sum(raw_config.values())}")
    for rel, hits in raw_config.items():
        print(f"  {hits:3d} {rel}")
    print(f"SQL executed outside services/store/ (.execute calls): {sum(inline_sql.values())}")
    for rel, hits in inline_sql.items():
        print(f"  {hits:3d} {rel}")


if __name__ == "__main__":
    main()
