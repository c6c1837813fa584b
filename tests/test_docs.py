"""The README documents every environment variable the code reads, in its one table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("src", "integrations", "notebooks", "bench", "scripts", "tests")
VARIABLE = re.compile(r"\b((?:LAMINA|LLAMA_CLOUD)_[A-Z][A-Z0-9_]*[A-Z0-9])\b")


def _read_in_code() -> set[str]:
    found: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*"):
            script = path.parent.name == "scripts" and not path.suffix
            if (path.suffix in (".py", ".ipynb", ".sh") or script) and ".venv" not in path.parts:
                found.update(VARIABLE.findall(path.read_text(encoding="utf-8", errors="replace")))
    return found


def test_every_environment_variable_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    documented = set(VARIABLE.findall(table))
    missing = sorted(_read_in_code() - documented)
    assert not missing, f"add these to the README's environment variable table: {missing}"
