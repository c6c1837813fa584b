"""Markdown, CSV and HTML rendering of items, shared by every backend.

Backends decide *what* is on a page (headings, lists, tables, ...); this module decides how each
kind is written, so that a heading from a PDF and one from a markdown file render the same way.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable, Sequence

from lamina.types import BBox, CodeItem, HeadingItem, Item, ListItem, TableItem, TextItem

Cell = str | float | None

#: Item types that are page furniture: kept in items, left out of the page markdown.
FURNITURE_TYPES = frozenset({"header", "footer"})


def heading_md(text: str, level: int) -> str:
    """``## Text`` for a level-2 heading; the level is clamped to 1..6."""
    level = min(max(level, 1), 6)
    return "#" * level + " " + _one_line(text)


def code_md(code: str, language: str | None = None) -> str:
    """A fenced code block, with a fence longer than any backtick run inside the code."""
    longest = 0
    run = 0
    for ch in code:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language or ''}\n{code}\n{fence}"


def list_md(item: ListItem, depth: int = 0) -> str:
    """A (nested) list: ``- entry`` or ``1. entry``, two spaces of indent per nesting level."""
    lines: list[str] = []
    number = 0
    for entry in item.items:
        if isinstance(entry, ListItem):
            lines.append(list_md(entry, depth + 1))
            continue
        number += 1
        marker = f"{number}." if item.ordered else "-"
        pad = "  " * depth
        # Continuation lines of an entry are indented under the entry's text.
        text = entry.md.replace("\n", "\n" + pad + " " * (len(marker) + 1))
        lines.append(f"{pad}{marker} {text}")
    return "\n".join(lines)


def escape_md_cell(value: Cell) -> str:
    """A cell's text for a pipe table: ``|`` escaped, line breaks turned into ``<br>``."""
    text = _cell_text(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("\r\n", "<br>").replace("\n", "<br>")


def table_md(rows: Sequence[Sequence[Cell]]) -> str:
    """A GitHub pipe table; the first row is the header. Short rows are padded."""
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    if width == 0:
        return ""
    out: list[str] = []
    for i, row in enumerate(rows):
        cells = [escape_md_cell(c) for c in row] + [""] * (width - len(row))
        out.append("| " + " | ".join(cells) + " |")
        if i == 0:
            out.append("|" + "|".join(["---"] * width) + "|")
    return "\n".join(out)


def table_csv(rows: Sequence[Sequence[Cell]]) -> str:
    """RFC 4180 CSV of the rows (``\\n`` line ends, quoting only where needed)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow([_cell_text(c) for c in row])
    return buf.getvalue()


def table_html(rows: Sequence[Sequence[Cell]]) -> str:
    """An HTML table: the first row in ``<thead>`` as ``<th>``, the rest in ``<tbody>``."""
    if not rows:
        return "<table></table>"
    parts = ["<table>", "<thead><tr>"]
    parts += [f"<th>{html.escape(_cell_text(c))}</th>" for c in rows[0]]
    parts.append("</tr></thead>")
    if len(rows) > 1:
        parts.append("<tbody>")
        for row in rows[1:]:
            parts.append("<tr>" + "".join(f"<td>{html.escape(_cell_text(c))}</td>" for c in row))
            parts.append("</tr>")
        parts.append("</tbody>")
    parts.append("</table>")
    return "".join(parts)


# --- item constructors: every backend builds items through these --------------------------------


def text_item(value: str, bbox: list[BBox] | None = None) -> TextItem:
    """A paragraph."""
    return TextItem(value=value, md=value, bbox=bbox)


def heading_item(value: str, level: int, bbox: list[BBox] | None = None) -> HeadingItem:
    """A heading of level 1..6."""
    level = min(max(level, 1), 6)
    return HeadingItem(value=value, level=level, md=heading_md(value, level), bbox=bbox)


def code_item(value: str, language: str | None = None, bbox: list[BBox] | None = None) -> CodeItem:
    """A block of code, kept verbatim."""
    return CodeItem(value=value, language=language, md=code_md(value, language), bbox=bbox)


def list_item(
    entries: Iterable[TextItem | ListItem], ordered: bool, bbox: list[BBox] | None = None
) -> ListItem:
    """A list of entries (paragraphs or nested lists); ``md`` is rendered from the entries."""
    item = ListItem(ordered=ordered, items=list(entries), md="", bbox=bbox)
    item.md = list_md(item)
    return item


def table_item(rows: Sequence[Sequence[Cell]], bbox: list[BBox] | None = None) -> TableItem:
    """A table with its markdown, CSV and HTML renderings."""
    grid = [list(r) for r in rows]
    return TableItem(
        rows=grid, md=table_md(grid), csv=table_csv(grid), html=table_html(grid), bbox=bbox
    )


def page_markdown(items: Iterable[Item]) -> str:
    """A page's markdown: its items' ``md`` joined by blank lines, page furniture left out."""
    return "\n\n".join(i.md for i in items if i.type not in FURNITURE_TYPES and i.md)


def _cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def cell_text(value: Cell) -> str:
    """A cell's text as CSV and HTML write it: "" for None, integral floats without ".0"."""
    return _cell_text(value)
