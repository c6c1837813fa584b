"""The backend registry: one calling convention, every detected type has a backend, and what the
backends import on first use is what ``preload()`` imports (fork safety)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lamina import engine
from lamina.engine import UnsupportedFileTypeError, backends
from lamina.types import ParseConfiguration, TableItem

_FAST = ParseConfiguration(tier="fast")


def test_unknown_type_has_no_backend() -> None:
    with pytest.raises(UnsupportedFileTypeError, match="zip"):
        backends.backend_for("zip")


@pytest.mark.parametrize(
    ("file_type", "rows"),
    [("csv", [["a\tb"], ["c"]]), ("tsv", [["a", "b"], ["c", ""]])],
    ids=["csv", "tsv"],
)
def test_delimited_backend_is_told_the_type(file_type: str, rows: list[list[str]]) -> None:
    # Rows of unequal width: the delimiter sniffer gives up, so the file type decides.
    parsed = backends.backend_for(file_type)(
        b"a\tb\nc\n", _FAST, file_type=file_type, filename=None
    )
    assert parsed.page_count == 1
    table = parsed.pages[0].items[0]
    assert isinstance(table, TableItem)
    assert table.rows == rows
    assert parsed.images == [] and parsed.stats == {}


@pytest.mark.parametrize(("file_type", "kind"), [("md", "heading"), ("txt", "text")])
def test_text_backend_tells_markdown_from_plain_text(file_type: str, kind: str) -> None:
    parsed = backends.backend_for(file_type)(
        b"# Title\n", _FAST, file_type=file_type, filename=None
    )
    assert parsed.page_count == 1
    assert [item.type for item in parsed.pages[0].items] == [kind]


def test_backends_import_only_what_preload_imports() -> None:
    """A module a backend imports on first use and ``preload()`` does not would be imported by
    the first job, where a fork could catch its import lock held (see ``engine.preload``)."""
    tree = ast.parse(Path(backends.__file__).read_text(encoding="utf-8"))
    lazy = {
        f"{node.module}.{alias.name}" if node.module == "lamina.engine" else node.module
        for fn in tree.body
        if isinstance(fn, ast.FunctionDef)
        for node in ast.walk(fn)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }
    assert "lamina.engine.pdf" in lazy and "lamina.engine.pages" in lazy
    # web: left out of preload on purpose (BeautifulSoup's import time).
    assert lazy - set(engine._JOB_MODULES) == {"lamina.engine.web"}
