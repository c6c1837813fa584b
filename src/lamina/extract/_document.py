"""A parsed document seen by the extractors: positioned lines and tables, plus a locator that
turns a piece of text back into citations (page, matching text, boxes, page size)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lamina.types import (
    BBox,
    FailedPage,
    HeaderItem,
    Item,
    ItemsPage,
    ListItem,
    TableItem,
)

Box = tuple[float, float, float, float]


@dataclass
class Line:
    """One visual line of text on a page (a part of an item), with its box."""

    page: int
    text: str
    box: Box | None
    index: int = 0
    """Position in reading order over the whole document."""


@dataclass
class Table:
    """A table: its header row, body rows, an approximate box per row, and the box of each
    cell when the parse gave them (``granular_bboxes: ["cell"]``)."""

    page: int
    rows: list[list[str]]
    box: Box | None
    index: int = 0
    cells: dict[tuple[int, int], Box] = field(default_factory=dict)

    @property
    def header(self) -> list[str]:
        return self.rows[0] if self.rows else []

    @property
    def body(self) -> list[list[str]]:
        return self.rows[1:]

    def row_box(self, row: int) -> Box | None:
        """The band of row ``row`` (0 = header): the table box split evenly by row."""
        if self.box is None or not self.rows:
            return None
        x, y, w, h = self.box
        step = h / len(self.rows)
        return (x, y + step * row, w, step)

    def cell_box(self, row: int, col: int) -> Box | None:
        """The box of the cell at ``row``, ``col`` (0 = header) when the parse gave cell boxes,
        else the row's band."""
        return self.cells.get((row, col)) or self.row_box(row)


@dataclass
class PageInfo:
    number: int
    width: float
    height: float
    confidence: float | None = None


@dataclass
class Document:
    """Lines and tables of the pages to extract from, in reading order."""

    pages: dict[int, PageInfo] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    markdown: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_pages(
        cls,
        pages: Iterable[ItemsPage | FailedPage | dict[str, Any]],
        confidence: Mapping[int, float | None] | None = None,
    ) -> Document:
        """Build from the items of a parse (``items.json`` pages, wire models or dicts).

        ``confidence``: the parse's confidence per page number (``metadata.json``; below 1 for
        OCR'd pages), used for each field's ``parsing_confidence``."""
        doc = cls()
        for raw in pages:
            page = raw if not isinstance(raw, dict) else _page_model(raw)
            if page is None or isinstance(page, FailedPage):
                continue
            doc.pages[page.page_number] = PageInfo(
                page.page_number,
                page.page_width,
                page.page_height,
                (confidence or {}).get(page.page_number),
            )
            doc.markdown[page.page_number] = "\n\n".join(i.md for i in page.items if i.md)
            for item in page.items:
                doc._add_item(page.page_number, item)
        return doc

    def subset(self, pages: Sequence[int]) -> Document:
        """The same document restricted to ``pages``."""
        keep = set(pages)
        return Document(
            pages={n: p for n, p in self.pages.items() if n in keep},
            lines=[line for line in self.lines if line.page in keep],
            tables=[t for t in self.tables if t.page in keep],
            markdown={n: m for n, m in self.markdown.items() if n in keep},
        )

    def _add_item(self, page: int, item: Item) -> None:
        if isinstance(item, TableItem):
            all_rows = [[_cell(c) for c in row] for row in item.rows]
            kept = [i for i, r in enumerate(all_rows) if any(c for c in r)]
            rows = [all_rows[i] for i in kept]
            if rows:
                boxes = item.bbox or []
                box = _union([b for b in boxes if not (b.label or "").startswith("cell:")])
                table = Table(page, rows, box, len(self.lines) + len(self.tables))
                table.cells = _cell_boxes(boxes, {i: n for n, i in enumerate(kept)})
                self.tables.append(table)
            return
        if isinstance(item, ListItem):
            for entry in item.items:
                self._add_item(page, entry)
            return
        if isinstance(item, HeaderItem) or getattr(item, "type", "") == "footer":
            for sub in getattr(item, "items", []):
                self._add_item(page, sub)
            return
        text = getattr(item, "value", None) or getattr(item, "text", None) or item.md
        if not isinstance(text, str) or not text.strip():
            return
        for piece, box in _split_lines(text, item.bbox or []):
            self.lines.append(Line(page, piece, box, len(self.lines) + len(self.tables)))

    # locating --------------------------------------------------------------------------------

    def citation(self, page: int, text: str, box: Box | None) -> dict[str, Any]:
        """One citation in the wire shape."""
        info = self.pages.get(page)
        out: dict[str, Any] = {"page": page, "matching_text": text}
        if box is not None:
            out["bounding_boxes"] = [_box_dict(box)]
        if info is not None:
            out["page_dimensions"] = {"width": info.width, "height": info.height}
        return out

    def locate(self, text: str, *, prefer_page: int | None = None) -> list[dict[str, Any]]:
        """Citations for ``text``: the first line holding it (on ``prefer_page`` first), with a
        box narrowed to the matched characters; else a table cell; else nothing."""
        needle = _norm(text)
        if not needle:
            return []
        lines = sorted(self.lines, key=lambda line: (line.page != prefer_page, line.index))
        for line in lines:
            span = _find_span(line.text, text)
            if span is not None:
                return [
                    self.citation(line.page, line.text[span[0] : span[1]], span_box(line, span))
                ]
        for table in sorted(self.tables, key=lambda t: (t.page != prefer_page, t.index)):
            for r, row in enumerate(table.rows):
                for c, cell in enumerate(row):
                    if cell and (_norm(cell) == needle or needle in _norm(cell)):
                        return [self.citation(table.page, cell, table.cell_box(r, c))]
        return []


def _page_model(raw: dict[str, Any]) -> ItemsPage | FailedPage | None:
    if raw.get("success", True) is False:
        return None
    return ItemsPage.model_validate(raw)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _cell_boxes(boxes: Sequence[BBox], row_of: dict[int, int]) -> dict[tuple[int, int], Box]:
    """The ``cell:<row>:<col>`` boxes of a table item by (row, col), rows renumbered by
    ``row_of`` (the item's row index to the kept row's)."""
    out: dict[tuple[int, int], Box] = {}
    for b in boxes:
        parts = (b.label or "").split(":")
        if len(parts) != 3 or parts[0] != "cell" or not (parts[1] + parts[2]).isdigit():
            continue
        row = row_of.get(int(parts[1]))
        if row is not None:
            out[(row, int(parts[2]))] = _box(b)
    return out


def _box(b: BBox) -> Box:
    return (b.x, b.y, b.w, b.h)


def _box_dict(box: Box) -> dict[str, float]:
    x, y, w, h = box
    return {"x": round(x, 2), "y": round(y, 2), "w": round(w, 2), "h": round(h, 2)}


def _union(boxes: Sequence[BBox]) -> Box | None:
    if not boxes:
        return None
    x0 = min(b.x for b in boxes)
    y0 = min(b.y for b in boxes)
    x1 = max(b.x + b.w for b in boxes)
    y1 = max(b.y + b.h for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def _split_lines(text: str, boxes: Sequence[BBox]) -> list[tuple[str, Box | None]]:
    """An item's text cut into its visual lines, using the boxes' ``start_index``/``end_index``
    when present (one box per line), else newlines with the item's overall box."""
    indexed = [b for b in boxes if b.start_index is not None and b.end_index is not None]
    if indexed and len(indexed) == len(boxes):
        out: list[tuple[str, Box | None]] = []
        for b in indexed:
            piece = text[b.start_index : b.end_index].strip()
            if piece:
                out.append((piece, _box(b)))
        if out:
            return out
    overall = _union(boxes)
    pieces = [p.strip() for p in text.split("\n") if p.strip()]
    if len(pieces) <= 1 or overall is None:
        return [(p, overall) for p in pieces]
    x, y, w, h = overall
    step = h / len(pieces)
    return [(p, (x, y + i * step, w, step)) for i, p in enumerate(pieces)]


def span_box(line: Line, span: tuple[int, int]) -> Box | None:
    """The part of a line's box covering characters ``span`` (proportional to the characters;
    the parse gives one box per line, not per character)."""
    if line.box is None or not line.text:
        return line.box
    x, y, w, h = line.box
    n = len(line.text)
    start, end = max(0, span[0]), min(n, span[1])
    if end <= start:
        return line.box
    return (x + w * start / n, y, w * (end - start) / n, h)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _find_span(haystack: str, needle: str) -> tuple[int, int] | None:
    """Where ``needle`` occurs in ``haystack``, ignoring case and runs of spaces."""
    needle = needle.strip()
    if not needle:
        return None
    index = haystack.lower().find(needle.lower())
    if index >= 0:
        return index, index + len(needle)
    words = [re.escape(w) for w in needle.split()]
    if not words:
        return None
    m = re.search(r"\s+".join(words), haystack, re.I)
    return m.span() if m else None
